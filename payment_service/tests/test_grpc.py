"""PaymentService over a real gRPC connection: the contract of API.md "Payment service"."""

import threading
import time
from datetime import timedelta

import grpc
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from conftest import requires_postgres
from payment_service.models import AcquirerFault, IdempotencyRecord, Payment, Refund
from payment_service.tests.conftest import auth, create_request, status_of
from payment_service_pb import payments_pb2 as pb

pytestmark = pytest.mark.django_db(transaction=True)


def refused(call, request, **kwargs):
    with pytest.raises(grpc.RpcError) as caught:
        call(request, metadata=kwargs.pop("metadata", auth()), timeout=10, **kwargs)
    return status_of(caught.value)


def refund_request(payment_id: str, amount_minor: int, key: str) -> pb.RefundPaymentRequest:
    return pb.RefundPaymentRequest(
        idempotency_key=key, payment_id=payment_id, amount_minor=amount_minor, reason="return"
    )


# --- payments -------------------------------------------------------------------------------


def test_a_payment_is_created_and_read_back(stub):
    # when a payment is created
    payment = stub.CreatePayment(
        create_request(description="Two vases"), metadata=auth(), timeout=10
    )

    # then it succeeded for the amount asked, and GetPayment answers the same
    assert payment.id.startswith("pay_")
    assert (payment.status, payment.amount_minor, payment.refunded_minor) == (
        pb.PAYMENT_STATUS_SUCCEEDED,
        10400,
        0,
    )
    assert (payment.currency, payment.reference) == ("USD", "ORD-1")
    assert payment.created_at.seconds > 0
    assert stub.GetPayment(pb.GetPaymentRequest(id=payment.id), metadata=auth()) == payment


def test_the_same_key_and_request_replays_the_first_answer(stub):
    # given a payment made with a key
    first, call = stub.CreatePayment.with_call(create_request(), metadata=auth(), timeout=10)
    assert ("idempotent-replayed", "true") not in call.trailing_metadata()

    # when the same request comes again with the same key
    again, call = stub.CreatePayment.with_call(create_request(), metadata=auth(), timeout=10)

    # then the stored answer comes back, marked as replayed, and only one payment exists
    assert again == first
    assert ("idempotent-replayed", "true") in call.trailing_metadata()
    assert Payment.objects.count() == 1


def test_the_same_key_with_another_request_is_refused(stub):
    # given a payment made with a key
    stub.CreatePayment(create_request(), metadata=auth(), timeout=10)

    # when the key is reused for another amount
    code, details = refused(stub.CreatePayment, create_request(amount_minor=999))

    # then INVALID_ARGUMENT (IDEMPOTENCY_KEY_REUSED), and nothing more was taken
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details["reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert list(Payment.objects.values_list("amount_minor", flat=True)) == [10400]


def test_keys_belong_to_one_method(stub):
    # the same key on CreatePayment and on RefundPayment are two different calls
    payment = stub.CreatePayment(create_request(key="shared"), metadata=auth(), timeout=10)
    refund = stub.RefundPayment(
        pb.RefundPaymentRequest(idempotency_key="shared", payment_id=payment.id, amount_minor=1),
        metadata=auth(),
        timeout=10,
    )
    assert refund.status == pb.REFUND_STATUS_SUCCEEDED


@pytest.mark.parametrize(
    ("request_fields", "violations"),
    [
        ({"key": ""}, {"idempotency_key"}),
        ({"key": "k" * 256}, {"idempotency_key"}),
        ({"amount_minor": 0}, {"amount_minor"}),
        ({"amount_minor": -100, "currency": "usd"}, {"amount_minor", "currency"}),
        ({"currency": "XXY"}, {"currency"}),
        ({"reference": "r" * 121, "description": "d" * 201}, {"reference", "description"}),
    ],
)
def test_bad_fields_are_refused_with_field_violations(stub, request_fields, violations):
    code, details = refused(stub.CreatePayment, create_request(**request_fields))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(details["violations"]) == violations
    assert not Payment.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_a_call_in_flight_with_the_key_answers_aborted(stub):
    # given a call with this key in flight elsewhere (claimed, lease running, no answer yet)
    now = timezone.now()
    IdempotencyRecord.objects.create(
        client="oms",
        method="CreatePayment",
        key="busy",
        fingerprint=_fingerprint_of(create_request(key="busy")),
        state="IN_PROGRESS",
        owner="another-process",
        lease_until=now + timedelta(seconds=30),
        expires_at=now + timedelta(hours=24),
    )

    # when the same request arrives
    code, details = refused(stub.CreatePayment, create_request(key="busy"))

    # then ABORTED (IDEMPOTENCY_IN_PROGRESS, retry later), and nothing was taken
    assert code == grpc.StatusCode.ABORTED
    assert details["reason"] == "IDEMPOTENCY_IN_PROGRESS"
    assert details["retry"]
    assert not Payment.objects.exists()


def test_a_call_whose_holder_died_is_taken_over_after_its_lease(stub):
    # given a claim left IN_PROGRESS by a server killed mid-call, its lease run out
    now = timezone.now()
    IdempotencyRecord.objects.create(
        client="oms",
        method="CreatePayment",
        key="orphan",
        fingerprint=_fingerprint_of(create_request(key="orphan")),
        state="IN_PROGRESS",
        owner="dead-process",
        lease_until=now - timedelta(seconds=1),
        expires_at=now + timedelta(hours=24),
    )

    # when the caller retries with the key
    payment = stub.CreatePayment(create_request(key="orphan"), metadata=auth(), timeout=10)

    # then the call runs, once, and its answer is stored for the next retry
    assert Payment.objects.get().id == payment.id
    record = IdempotencyRecord.objects.get(key="orphan")
    assert (record.state, record.answer["id"]) == ("DONE", payment.id)


def _fingerprint_of(request: pb.CreatePaymentRequest) -> str:
    from payment_service.idempotency import request_fingerprint

    return request_fingerprint(
        "CreatePayment",
        {
            "amount_minor": request.amount_minor,
            "currency": request.currency,
            "reference": request.reference,
            "description": request.description,
        },
    )


@requires_postgres()
def test_a_concurrent_call_with_the_key_answers_aborted_while_the_first_runs(stub, settings):
    # given a first call that takes a while to commit
    settings.PAYMENT_SERVICE_FAULT_DELAY_SECONDS = 1.5
    answers = {}
    first = threading.Thread(
        target=lambda: answers.update(first=stub.CreatePayment(create_request(), metadata=auth()))
    )
    first.start()
    deadline = time.monotonic() + 10
    while not IdempotencyRecord.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.02)

    # when the same request arrives meanwhile
    code, details = refused(stub.CreatePayment, create_request())
    first.join(timeout=20)

    # then it was told the first is in progress; the first paid, once
    assert (code, details["reason"]) == (grpc.StatusCode.ABORTED, "IDEMPOTENCY_IN_PROGRESS")
    assert [p.id for p in Payment.objects.all()] == [answers["first"].id]


def test_an_unavailable_acquirer_answers_unavailable_and_frees_the_key(stub, settings):
    # given a payment, and an acquirer that is down for refunds
    payment = stub.CreatePayment(create_request(), metadata=auth())
    settings.SIMULATED_GATEWAY_ALWAYS_FAIL = True

    # when a refund is asked for
    code, details = refused(stub.RefundPayment, refund_request(payment.id, 400, "re-1"))

    # then UNAVAILABLE with a retry hint, nothing paid back
    assert (code, details["reason"], details["retry"]) == (
        grpc.StatusCode.UNAVAILABLE,
        "ACQUIRER_UNAVAILABLE",
        True,
    )
    assert not Refund.objects.exists()
    assert Payment.objects.get().refunded_minor == 0
    # and once it is back, the same key goes through
    settings.SIMULATED_GATEWAY_ALWAYS_FAIL = False
    refund = stub.RefundPayment(refund_request(payment.id, 400, "re-1"), metadata=auth())
    assert Refund.objects.get().id == refund.id


def test_the_acquirer_fails_the_first_n_refunds_per_key_counted_in_the_database(stub, settings):
    payment = stub.CreatePayment(create_request(), metadata=auth())
    settings.SIMULATED_GATEWAY_FAIL_TIMES = 2
    codes = [
        refused(stub.RefundPayment, refund_request(payment.id, 100, "re-1"))[0] for _ in range(2)
    ]
    refund = stub.RefundPayment(refund_request(payment.id, 100, "re-1"), metadata=auth())
    assert codes == [grpc.StatusCode.UNAVAILABLE] * 2
    assert Refund.objects.get().id == refund.id
    assert AcquirerFault.objects.get().failures == 2
    # another key has its own count; payments are not affected (the demo keeps paying)
    assert refused(stub.RefundPayment, refund_request(payment.id, 100, "re-2"))[0] == (
        grpc.StatusCode.UNAVAILABLE
    )
    assert stub.CreatePayment(create_request(key="key-2"), metadata=auth()).id


def test_a_deadline_that_passes_mid_call_writes_nothing_and_frees_the_key(stub, settings):
    # given a call slower than its caller's deadline
    settings.PAYMENT_SERVICE_FAULT_DELAY_SECONDS = 0.6
    with pytest.raises(grpc.RpcError) as caught:
        stub.CreatePayment(create_request(), metadata=auth(), timeout=0.2)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

    # then once the server gave up, nothing was written and the key is free again
    deadline = time.monotonic() + 10
    while IdempotencyRecord.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Payment.objects.exists()
    settings.PAYMENT_SERVICE_FAULT_DELAY_SECONDS = 0
    assert stub.CreatePayment(create_request(), metadata=auth(), timeout=10).id


def test_unknown_ids_are_not_found_and_empty_ids_invalid(stub):
    assert refused(stub.GetPayment, pb.GetPaymentRequest(id="pay_nope"))[0] == (
        grpc.StatusCode.NOT_FOUND
    )
    assert refused(stub.GetRefund, pb.GetRefundRequest(id="re_nope"))[0] == (
        grpc.StatusCode.NOT_FOUND
    )
    code, details = refused(stub.GetPayment, pb.GetPaymentRequest(id=""))
    assert (code, set(details["violations"])) == (grpc.StatusCode.INVALID_ARGUMENT, {"id"})


# --- refunds --------------------------------------------------------------------------------


def test_refunds_add_up_to_the_payment_and_not_one_cent_more(stub):
    # given a payment of 100.00
    payment = stub.CreatePayment(create_request(amount_minor=10000), metadata=auth())

    # when 33.33 + 33.33 + 33.34 are refunded
    refunds = [
        stub.RefundPayment(refund_request(payment.id, amount, f"re-{i}"), metadata=auth())
        for i, amount in enumerate((3333, 3333, 3334))
    ]

    # then each succeeded, and the payment is refunded in full
    assert {r.status for r in refunds} == {pb.REFUND_STATUS_SUCCEEDED}
    read = stub.GetPayment(pb.GetPaymentRequest(id=payment.id), metadata=auth())
    assert read.refunded_minor == 10000
    assert stub.GetRefund(pb.GetRefundRequest(id=refunds[0].id), metadata=auth()) == refunds[0]

    # when one more cent is asked for
    code, details = refused(stub.RefundPayment, refund_request(payment.id, 1, "re-3"))

    # then FAILED_PRECONDITION (REFUND_EXCEEDS_PAYMENT) with what was paid and refunded
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert details == {
        "reason": "REFUND_EXCEEDS_PAYMENT",
        "metadata": {"amount_minor": "10000", "refunded_minor": "10000"},
    }
    assert Refund.objects.count() == 3
    # but a replay of a refund that was made still answers it
    again, call = stub.RefundPayment.with_call(
        refund_request(payment.id, 3334, "re-2"), metadata=auth()
    )
    assert again == refunds[2]
    assert ("idempotent-replayed", "true") in call.trailing_metadata()


def test_the_database_refuses_refunded_above_paid(stub):
    payment = stub.CreatePayment(create_request(amount_minor=500), metadata=auth())
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.id).update(refunded_minor=501)


def test_a_refund_of_an_unknown_payment_is_not_found_and_frees_its_key(stub):
    code, details = refused(stub.RefundPayment, refund_request("pay_nope", 100, "re-x"))
    assert (code, details["reason"]) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    assert not IdempotencyRecord.objects.exists()


@requires_postgres()
def test_two_concurrent_refunds_above_the_payment_one_is_refused(stub):
    # given a payment of 100.00
    payment = stub.CreatePayment(create_request(amount_minor=10000), metadata=auth())

    # when two refunds of 60.00 race, under different keys
    outcomes = []

    def refund(key):
        try:
            stub.RefundPayment(refund_request(payment.id, 6000, key), metadata=auth())
            outcomes.append("OK")
        except grpc.RpcError as error:
            outcomes.append(error.code().name)

    threads = [threading.Thread(target=refund, args=(f"race-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    # then one was paid and the other refused; the payment is refunded 60.00
    assert sorted(outcomes) == ["FAILED_PRECONDITION", "OK"]
    assert Payment.objects.get(pk=payment.id).refunded_minor == 6000


# --- the server: auth, request ids, health, reflection, shutdown ---------------------------


@requires_postgres()
def test_a_payment_takes_two_statements_and_no_health_check_query(stub, monkeypatch):
    import psycopg

    # given server threads that have served a call each (their connections are open)
    for n in range(8):
        stub.CreatePayment(create_request(f"warm-{n}"), metadata=auth(), timeout=10)
    sent = []
    execute = psycopg.Cursor.execute  # Django's client-side cursors inherit it too

    def counting(cursor, query, *args, **kwargs):
        sent.append(str(query))
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)

    # when payments are created
    for n in range(5):
        stub.CreatePayment(create_request(f"counted-{n}"), metadata=auth())

    # then each is one claim and one completion (a call with a deadline adds its
    # statement_timeout, pipelined with the completion), and no SELECT 1 checks the connection
    assert not [query for query in sent if query.strip().upper() == "SELECT 1"]
    writes = [query for query in sent if "payment_service_" in query]
    assert len(writes) == 2 * 5


@requires_postgres()
def test_calls_after_the_database_dropped_the_servers_connections_succeed(stub):
    from django.db import connection

    # given server threads holding connections, which the database then terminates
    # (as a restart or an idle timeout would)
    for n in range(8):
        stub.CreatePayment(create_request(f"before-{n}"), metadata=auth(), timeout=10)
    others = "datname = current_database() AND pid <> pg_backend_pid()"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {others}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cursor.execute(f"SELECT count(*) FROM pg_stat_activity WHERE {others}")
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.02)

    # when calls come in again, then each is served on a new connection, none fails
    for n in range(8):
        stub.CreatePayment(create_request(f"after-{n}"), metadata=auth(), timeout=10)
    assert Payment.objects.filter(reference="ORD-1").count() == 16


@pytest.mark.parametrize("metadata", [(), (("authorization", "Bearer wrong"),)])
def test_calls_without_the_token_are_unauthenticated(stub, metadata):
    code, _ = refused(stub.CreatePayment, create_request(), metadata=metadata)
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert not Payment.objects.exists()


def test_the_request_id_is_echoed_or_made(stub):
    _, call = stub.GetPayment.with_call(
        pb.GetPaymentRequest(id=stub.CreatePayment(create_request(), metadata=auth()).id),
        metadata=auth(**{"x-request-id": "req-42"}),
    )
    assert ("x-request-id", "req-42") in call.initial_metadata()
    _, call = stub.CreatePayment.with_call(create_request(), metadata=auth())
    assert dict(call.initial_metadata())["x-request-id"]


def test_health_and_reflection_answer_without_a_token(channel):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
        ProtoReflectionDescriptorDatabase,
    )

    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "articurated.payments.v1.PaymentService"):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    database = ProtoReflectionDescriptorDatabase(channel)
    assert set(database.get_services()) >= {
        "articurated.payments.v1.PaymentService",
        "grpc.health.v1.Health",
    }
    method = database.FindFileContainingSymbol("articurated.payments.v1.PaymentService")
    assert method.name == "articurated/payments/v1/payments.proto"


def test_graceful_shutdown_finishes_calls_in_flight_and_reports_not_serving(settings):
    from grpc_health.v1 import health_pb2

    from payment_service.transport.server import server_start
    from payment_service_pb import payments_pb2_grpc

    # given a server of its own with one slow call in flight
    running = server_start(port=0, max_workers=2)
    settings.PAYMENT_SERVICE_FAULT_DELAY_SECONDS = 0.5
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    stub = payments_pb2_grpc.PaymentServiceStub(channel)
    future = stub.CreatePayment.future(create_request(), metadata=auth(), timeout=10)
    deadline = time.monotonic() + 10
    while not IdempotencyRecord.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.02)

    # when it is stopped with a grace period
    running.stop(grace=5)

    # then the call in flight completed, health says NOT_SERVING, new calls are refused
    assert future.result().amount_minor == 10400
    check = running.health.Check(health_pb2.HealthCheckRequest(service=""), None)
    assert check.status == health_pb2.HealthCheckResponse.NOT_SERVING
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetPayment(pb.GetPaymentRequest(id="x"), metadata=auth(), timeout=2)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    channel.close()

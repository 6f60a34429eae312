import logging
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from dramatiq.errors import ConnectionClosed

from articurated.context import ActionContext, Source
from articurated.errors import PermissionDenied
from audit.models import AuditRecord
from conftest import order_make
from payment_service.models import IdempotencyRecord
from payment_service.models import Payment as ServicePayment
from payments import services
from payments.models import Refund, RefundReason, RefundStatus
from payments.tests.conftest import (
    cancel,
    cancelled_paid_order,
    completed_return,
    order_paid_make,
    service_refunds,
)

# The refund suite runs twice: the payment service in-process, and over gRPC.
pytestmark = pytest.mark.usefixtures("payment_path")

ADMIN = ActionContext(source=Source.ADMIN, ip_address="127.0.0.1", request_id="admin-test")


@pytest.mark.django_db
def test_cancelling_a_paid_order_writes_a_pending_refund_and_queues_it_on_commit(
    jobs, django_capture_on_commit_callbacks
):
    # given a PAID order
    order = order_make("PAID")

    # when it is cancelled
    with django_capture_on_commit_callbacks(execute=True):
        cancel(order)

    # then one PENDING refund of the order's total was written and its job queued
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.amount, refund.currency, refund.reason) == (
        RefundStatus.PENDING,
        Decimal("104.00"),
        "USD",
        RefundReason.CANCELLATION,
    )
    assert refund.return_request is None
    assert [m.args for m in jobs.queued("refunds")] == [(str(refund.pk),)]


@pytest.mark.django_db
def test_cancelling_an_unpaid_order_refunds_nothing(jobs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cancel(order_make("PENDING_PAYMENT"))
    assert not Refund.objects.exists()
    assert jobs.queued("refunds") == []


@pytest.mark.django_db(transaction=True)
def test_a_refund_is_paid_once_and_the_customer_told(jobs):
    # given a cancelled PAID order
    order = cancelled_paid_order()

    # when the worker runs its jobs
    jobs.drain()

    # then the payment service paid it once, under the refund's idempotency key
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.SUCCEEDED
    [paid] = service_refunds(order)
    assert (paid.id, paid.amount_minor, paid.status) == (refund.reference, 10400, "SUCCEEDED")
    assert ServicePayment.objects.get(pk=order.payment_reference).refunded_minor == 10400
    [key] = IdempotencyRecord.objects.filter(method="RefundPayment")
    assert (key.key, key.state, key.answer["id"]) == (refund.idempotency_key, "DONE", paid.id)
    # and the customer got one e-mail
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert "USD 104.00" in message.subject
    assert refund.reference in message.body
    # and the step is in the order's timeline, by the system
    record = AuditRecord.objects.get(order_id=order.pk, entity_type="REFUND")
    assert (record.transition, record.previous_state, record.new_state, record.source) == (
        "succeed",
        "PENDING",
        "SUCCEEDED",
        "JOB",
    )
    assert record.metadata["reference"] == refund.reference


@pytest.mark.django_db(transaction=True)
def test_the_same_message_delivered_three_times_pays_once(jobs):
    # given a refund whose message is delivered three times
    order = cancelled_paid_order()
    [message] = jobs.queued("refunds")
    jobs.broker.flush_all()
    for _ in range(3):
        jobs.broker.enqueue(message)

    # when a worker with several threads processes them
    jobs.drain(threads=3)

    # then one refund at the payment service, one e-mail, one "succeed" record
    assert Refund.objects.get(order=order).status == RefundStatus.SUCCEEDED
    assert len(service_refunds(order)) == 1
    assert len(mail.outbox) == 1
    assert AuditRecord.objects.filter(entity_type="REFUND", transition="succeed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_delivery_finding_the_refund_being_paid_stands_down_without_counting_a_failure(jobs):
    # given a refund whose payment another delivery of its message is making right now (it
    # holds the payment service's idempotency key, its lease still running)
    from payment_service import idempotency
    from payment_service.client import CLIENT_NAME, minor_units

    order = cancelled_paid_order()
    refund = Refund.objects.get(order=order)
    fields = {
        "payment_id": order.payment_reference,
        "amount_minor": minor_units(refund.amount),
        "reason": f"Refund for order {order.number}",
    }
    claim = idempotency.idempotency_claim(
        client=CLIENT_NAME,
        method="RefundPayment",
        key=refund.idempotency_key,
        fingerprint=idempotency.request_fingerprint("RefundPayment", fields),
    )
    assert not claim.replayed

    # when this delivery runs
    jobs.drain()

    # then it neither counted an attempt nor failed the refund, alerted anyone or paid
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.last_error) == (RefundStatus.PENDING, 0, "")
    assert mail.outbox == []
    assert service_refunds(order) == []
    assert jobs.queued("refunds") == []


@pytest.mark.django_db(transaction=True)
def test_a_gateway_failing_twice_succeeds_after_two_retries(jobs, settings):
    # given a gateway that fails twice for each refund, then works
    order = cancelled_paid_order()
    settings.SIMULATED_GATEWAY_FAIL_TIMES = 2

    # when the job runs with its retries
    jobs.drain()

    # then the refund SUCCEEDED on its third attempt, paid once
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.attempts == 3
    assert refund.last_error == ""
    assert [r.id for r in service_refunds(order)] == [refund.reference]
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_gateway_always_failing_ends_failed_managers_alerted_nothing_paid(
    jobs, settings, caplog, users
):
    # given a gateway that always fails
    settings.MANAGER_EMAILS = ["boss@articurated.example", "cfo@articurated.example"]
    order = cancelled_paid_order()
    settings.SIMULATED_GATEWAY_ALWAYS_FAIL = True

    # when the job runs with its retries
    jobs.drain()

    # then after 1 attempt + 5 retries it is FAILED with the gateway's error
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.FAILED
    assert refund.attempts == 6
    assert "ACQUIRER_UNAVAILABLE" in refund.last_error
    # and nothing was paid, the managers were e-mailed once, a CRITICAL line was logged
    assert service_refunds(order) == []
    assert ServicePayment.objects.get(pk=order.payment_reference).refunded_minor == 0
    [alert] = mail.outbox
    assert alert.to == ["boss@articurated.example", "cfo@articurated.example"]
    assert order.number in alert.subject
    critical = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1
    assert order.number in critical[0].getMessage()

    # when the gateway is fixed and a manager (not a warehouse user) retries it
    settings.SIMULATED_GATEWAY_ALWAYS_FAIL = False
    with pytest.raises(PermissionDenied):
        services.refund_retry(refund_id=refund.pk, actor=users["Warehouse"], context=ADMIN)
    services.refund_retry(refund_id=refund.pk, actor=users["Manager"], context=ADMIN)
    jobs.drain()

    # then it is paid, once, and the customer told
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert len(service_refunds(order)) == 1
    assert [m.to for m in mail.outbox][1:] == [["ada@example.com"]]
    steps = AuditRecord.objects.filter(order_id=order.pk, entity_type="REFUND")
    assert list(steps.order_by("created_at", "id").values_list("transition", flat=True)) == [
        "fail",
        "retry",
        "succeed",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_completed_return_is_refunded_and_shown_on_the_return(jobs, api):
    # given a return of one vase, completed
    return_obj = completed_return()

    # when the worker runs its jobs
    jobs.drain()

    # then the return's price was refunded, linked to the return
    refund = Refund.objects.get(return_request=return_obj)
    assert (refund.amount, refund.reason, refund.status) == (
        Decimal("49.50"),
        RefundReason.RETURN,
        RefundStatus.SUCCEEDED,
    )
    body = api["Support"].get(f"/api/v1/returns/{return_obj.pk}").json()
    assert body["refund"] == {
        "status": "SUCCEEDED",
        "amount": "49.50",
        "reference": refund.reference,
    }
    assert return_obj.number in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_broker_down_at_cancel_then_the_sweep_pays_the_refund_once(jobs, monkeypatch):
    # given a broker that refuses messages while a PAID order is cancelled
    def unreachable(message, *, delay=None):
        raise ConnectionClosed(OSError("connection refused"))

    order = order_paid_make("PAID")
    monkeypatch.setattr(jobs.broker, "enqueue", unreachable)
    cancel(order)  # commits
    monkeypatch.undo()
    assert Refund.objects.get(order=order).status == RefundStatus.PENDING

    # when the sweep runs (twice: the second finds nothing left to send)
    assert services.refund_sweep(grace_seconds=0) == 1
    assert services.refund_sweep() == 0
    jobs.drain()

    # then it is paid, once
    assert Refund.objects.get(order=order).status == RefundStatus.SUCCEEDED
    assert len(service_refunds(order)) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_refunds_never_exceed_the_order_total(jobs):
    # given a cancelled PAID order, refunded in full
    order = cancelled_paid_order()
    assert Refund.objects.get(order=order).amount == order.total_amount

    # when anything asks for one more cent through the service
    with pytest.raises(services.RefundExceedsTotal), transaction.atomic():
        services.refund_request_rollback_unsafe(
            order=order, amount=Decimal("0.01"), reason=RefundReason.CANCELLATION
        )
    # or writes the row directly, around the service
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(
            order=order, reason=RefundReason.CANCELLATION, amount=Decimal("0.01"), currency="USD"
        )
    # or raises an existing refund's amount
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.filter(order=order).update(amount=order.total_amount + Decimal("1"))

    # then the order still has exactly its one full refund
    assert list(Refund.objects.filter(order=order).values_list("amount", flat=True)) == [
        Decimal("104.00")
    ]


@pytest.mark.django_db
def test_partial_refunds_may_add_up_to_the_total_exactly(jobs):
    # given a paid order of 100.00 in three awkward parts (floating point would overshoot)
    order = order_make(
        "PAID",
        items=[{"sku": "A", "name": "A", "quantity": 1, "unit_price": "100.00"}],
        shipping_amount="0.00",
    )
    # when refunds of 33.33 + 33.33 + 33.34 are written directly
    for amount in ("33.33", "33.33", "33.34"):
        Refund.objects.create(
            order=order, reason=RefundReason.RETURN, amount=Decimal(amount), currency="USD"
        )
    # then the database accepted them all, and not one cent more
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(
            order=order, reason=RefundReason.RETURN, amount=Decimal("0.01"), currency="USD"
        )
    assert Refund.objects.filter(order=order).count() == 3

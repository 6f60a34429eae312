"""Events reach real receivers on 127.0.0.1, signed per Standard Webhooks (each receiver
verifies every request with the `standardwebhooks` library and refuses a bad signature)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from conftest import TEST_CONTEXT, order_make
from orders.services import order_change_state
from payments.tests.conftest import order_paid_make
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint, Event
from webhooks.services import delivery_sweep, endpoint_secret_rotate

pytestmark = pytest.mark.django_db(transaction=True)


def test_subscribed_events_arrive_signed_with_the_data_of_that_moment(receiver, endpoint_for, jobs):
    # given an endpoint subscribed to order.paid and order.shipped only
    target = receiver()
    endpoint_for(target, events=["order.paid", "order.shipped"])

    # when an order is created, paid, then moved on (processing is not subscribed)
    order = order_make("PROCESSING_IN_WAREHOUSE")
    jobs.drain()

    # then exactly the paid event arrived, verified, with the order as it was when paid
    assert not target.rejected
    assert [r.event["type"] for r in target.received] == ["order.paid"]
    received = target.received[0]
    event = Event.objects.get(type="order.paid", order_id=order.pk)
    assert received.webhook_id == event.id == received.event["id"]
    data = received.event["data"]
    assert data["id"] == str(order.pk)
    assert data["number"] == order.number
    assert data["status"] == "PAID"
    assert data["payment_reference"] == "pay_test"
    assert data["allowed_transitions"] == ["PROCESSING_IN_WAREHOUSE", "CANCELLED"]
    assert data["total_amount"] == "104.00"
    assert received.headers["content-type"] == "application/json"
    assert received.headers["webhook-timestamp"].isdigit()
    # and the unsubscribed events were recorded for reconciliation but not delivered
    assert set(Event.objects.filter(order_id=order.pk).values_list("type", flat=True)) == {
        "order.created",
        "order.paid",
        "order.processing_started",
    }
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_every_subscriber_gets_its_own_copy_and_inactive_endpoints_none(
    receiver, endpoint_for, jobs, users
):
    # given two endpoints of two owners subscribed to everything, and one turned off
    first, second, off = receiver(), receiver(), receiver()
    endpoint_for(first)
    endpoint_for(second, owner=users["Manager"])
    Endpoint.objects.filter(pk=endpoint_for(off).pk).update(active=False)

    # when
    order = order_make("PAID")
    jobs.drain()

    # then each active endpoint got both events once, with its own signature
    for target in (first, second):
        assert not target.rejected
        assert sorted(r.event["type"] for r in target.received) == ["order.created", "order.paid"]
    assert first.ids() and sorted(first.ids()) == sorted(second.ids())
    assert off.received == []
    assert Event.objects.filter(order_id=order.pk).count() == 2


def test_a_failing_endpoint_is_retried_with_the_same_id_and_every_attempt_is_logged(
    receiver, endpoint_for, jobs
):
    # given an endpoint that fails twice (500, then a timeout-free 502) and then accepts
    answers = iter([500, 502])
    target = receiver(respond=lambda received: next(answers, 204))
    endpoint = endpoint_for(target, events=["order.created"])

    # when
    order_make()
    jobs.drain()

    # then it got the same event three times, with the same webhook-id, and it succeeded
    assert len(target.received) == 3
    assert len(set(target.ids())) == 1
    assert len({r.body for r in target.received}) == 1
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    log = list(delivery.attempt_log.order_by("attempted_at"))
    assert [a.status_code for a in log] == [500, 502, 204]
    assert log[0].response_body == "ok"
    endpoint.refresh_from_db()
    assert endpoint.failure_streak == 0
    assert endpoint.last_status_code == 204


def test_retries_stop_after_the_schedule_and_the_delivery_fails(receiver, endpoint_for, jobs):
    # given an endpoint that always fails (schedule: 3 retries)
    target = receiver(status=500)
    endpoint = endpoint_for(target, events=["order.created"])

    # when
    order_make()
    jobs.drain()

    # then 1 attempt + 3 retries, then FAILED; the endpoint shows its failure streak
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 4
    assert len(target.received) == 4
    endpoint.refresh_from_db()
    assert endpoint.failure_streak == 4
    assert endpoint.active  # failing for less than WEBHOOKS_DISABLE_AFTER


def test_410_disables_the_endpoint_at_once_and_tells_owner_and_managers(
    receiver, endpoint_for, jobs, users
):
    # given an endpoint that answers 410 Gone
    users["Integrator"].email = "dev@integrator.example"
    users["Integrator"].save()
    target = receiver(status=410)
    endpoint = endpoint_for(target)

    # when an event is delivered, and then another happens
    order = order_make()
    jobs.drain()
    order_change_state(
        order_id=order.pk, actor=None, context=TEST_CONTEXT, new_state="PAID", payment_reference="p"
    )
    jobs.drain()

    # then one attempt, the endpoint is off, the second delivery was never sent
    assert len(target.received) == 1
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "410" in endpoint.disabled_reason
    assert Delivery.objects.get().status == DeliveryStatus.FAILED
    assert Event.objects.filter(type="order.paid").exists()
    assert not Delivery.objects.filter(event__type="order.paid").exists()
    assert len(mail.outbox) == 1
    assert "dev@integrator.example" in mail.outbox[0].to
    assert "managers@articurated.example" in mail.outbox[0].to


def test_an_endpoint_failing_for_too_long_is_disabled(receiver, endpoint_for, jobs, settings):
    # given an endpoint failing since 6 days (the limit is 5)
    target = receiver(status=503)
    endpoint = endpoint_for(target, events=["order.created"])
    Endpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=6), failure_streak=40
    )

    # when one more delivery fails
    order_make()
    jobs.drain()

    # then it is disabled, with the reason, and the managers are told
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert "No successful delivery" in endpoint.disabled_reason
    assert len(mail.outbox) == 1


def test_retry_after_on_429_is_honoured_and_far_retries_wait_in_the_database(
    receiver, endpoint_for, jobs, settings
):
    # given an endpoint that asks to come back in an hour
    target = receiver(respond=lambda received: (429, {"Retry-After": "3600"}))
    endpoint_for(target, events=["order.created"])

    # when
    before = timezone.now()
    order_make()
    jobs.drain()

    # then the next attempt is due in an hour, held by the database, not by a broker message
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.next_attempt_at >= before + timedelta(seconds=3600)
    assert not delivery.queued
    assert jobs.queued(settings.JOBS_QUEUES["webhooks"]) == []
    assert len(target.received) == 1

    # when the hour has passed, the sweep sends it and it is delivered with the same id
    target.respond = None
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery_sweep() == 1
    jobs.drain()
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED
    assert len(set(target.ids())) == 1 and len(target.received) == 2


def test_a_lost_message_is_sent_again_by_the_sweep(receiver, endpoint_for, jobs, settings):
    # given a delivery whose message was lost (the broker forgot it)
    target = receiver()
    endpoint_for(target, events=["order.created"])
    order_make()
    jobs.broker.flush_all()
    assert Delivery.objects.get().status == DeliveryStatus.PENDING

    # when the sweep runs after the grace period
    assert delivery_sweep(grace_seconds=0) == 1
    jobs.drain()

    # then it is delivered
    assert len(target.received) == 1
    assert Delivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_after_rotation_both_secrets_sign_for_24_hours(receiver, endpoint_for, jobs, users):
    # given an endpoint whose secret was rotated
    target = receiver()
    endpoint = endpoint_for(target, events=["order.created"])
    old = endpoint.secret
    rotated = endpoint_secret_rotate(endpoint_id=endpoint.pk, actor=users["Integrator"])
    target.secrets = [old, rotated.secret]

    # when
    order_make()
    jobs.drain()

    # then the delivery carries two signatures: one verifies with the old key, one with the new
    (received,) = target.received
    assert len(received.signatures) == 2
    assert received.verified_with == [0, 1]
    for secret in (old, rotated.secret):
        from standardwebhooks import Webhook

        Webhook(secret).verify(received.body, received.headers)

    # and once the overlap is over, only the new key signs
    Endpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    order_make()
    jobs.drain()
    assert len(target.received[1].signatures) == 1
    assert target.received[1].verified_with == [1]


def test_returns_invoices_and_refunds_produce_their_events(receiver, endpoint_for, jobs, users):
    # given an endpoint subscribed to everything
    from returns.services import return_change_state, return_create

    target = receiver()
    endpoint_for(target)

    # when an order is delivered (its invoice generated), returned and refunded
    order = order_make("DELIVERED")
    return_obj = return_create(
        actor=users["Manager"], context=TEST_CONTEXT, order_id=order.pk, reason="DAMAGED"
    )
    return_change_state(
        return_id=return_obj.pk, actor=users["Manager"], context=TEST_CONTEXT, new_state="APPROVED"
    )
    jobs.drain()

    # then
    types = [r.event["type"] for r in target.received]
    assert "invoice.generated" in types
    assert "return.requested" in types and "return.approved" in types
    approved = next(r.event for r in target.received if r.event["type"] == "return.approved")
    assert approved["data"]["id"] == str(return_obj.pk)
    assert approved["data"]["status"] == "APPROVED"
    invoice = next(r.event for r in target.received if r.event["type"] == "invoice.generated")
    assert invoice["data"]["order_id"] == str(order.pk)
    assert invoice["data"]["status"] == "GENERATED"
    assert invoice["data"]["number"].startswith("INV-")


def test_a_refund_produces_refund_succeeded_with_its_summary(receiver, endpoint_for, jobs):
    # given an endpoint subscribed to refunds
    target = receiver()
    endpoint_for(target, events=["refund.succeeded", "refund.failed"])

    # when an order paid through the payment service is cancelled (the job pays it back)
    order = order_paid_make("PAID")
    order_change_state(
        order_id=order.pk, actor=None, context=TEST_CONTEXT, new_state="CANCELLED", reason="x"
    )
    jobs.drain()

    # then
    (received,) = target.received
    assert received.event["type"] == "refund.succeeded"
    data = received.event["data"]
    assert data["order_id"] == str(order.pk)
    assert data["amount"] == "104.00"
    assert data["status"] == "SUCCEEDED"
    assert data["reference"]


def test_a_rolled_back_change_produces_no_event_and_no_message(receiver, endpoint_for, jobs):
    # given
    from django.db import transaction

    target = receiver()
    endpoint_for(target)

    # when a change fails after its audit record was written
    with pytest.raises(RuntimeError), transaction.atomic():
        order_make()
        raise RuntimeError("boom")
    jobs.drain()

    # then nothing was recorded or sent
    assert Event.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert target.received == []


def test_messages_handed_to_the_background_publisher_are_delivered(
    receiver, endpoint_for, jobs, settings
):
    # given messages sent by the process's publisher thread (as in production)
    from webhooks.publisher import publisher

    settings.WEBHOOKS_PUBLISH_IN_BACKGROUND = True
    target = receiver()
    endpoint_for(target)

    # when
    order_make("PAID")
    publisher.flush()
    jobs.drain()

    # then
    assert sorted(r.event["type"] for r in target.received) == ["order.created", "order.paid"]


def test_an_event_is_one_message_whose_job_delivers_to_every_endpoint(
    receiver, endpoint_for, jobs, settings
):
    # given three endpoints, one of them failing once
    answers = iter([500])
    targets = [receiver(), receiver(), receiver(respond=lambda received: next(answers, 204))]
    for target in targets:
        endpoint_for(target, events=["order.created"])

    # when an order is created
    order_make()

    # then the change queued one message for its event, not one per delivery
    (message,) = jobs.queued(settings.JOBS_QUEUES["webhooks"])
    assert message.actor_name == "webhook_event_job"
    assert message.args == ([Event.objects.get().id],)
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING, queued=True).count() == 3

    # and once drained each endpoint has it once verified (the failing one after its retry,
    # a message of its own), every attempt logged
    jobs.drain()
    for target in targets:
        assert not target.rejected
        assert len(set(target.ids())) == 1
    assert [len(target.received) for target in targets] == [1, 1, 2]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    assert sorted(Delivery.objects.values_list("attempts", flat=True)) == [1, 1, 2]
    assert DeliveryAttempt.objects.count() == 4


def test_deliveries_beyond_one_jobs_posts_go_as_messages_of_their_own(
    receiver, endpoint_for, jobs, settings
):
    # given three endpoints and jobs that POST at most two deliveries at a time
    settings.WEBHOOKS_POST_THREADS = 2
    targets = [receiver() for _ in range(3)]
    for target in targets:
        endpoint_for(target, events=["order.created"])

    # when
    order_make()
    jobs.drain()

    # then every endpoint got the event once
    assert [len(target.received) for target in targets] == [1, 1, 1]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}


def test_the_background_publisher_gathers_events_into_one_message(
    receiver, endpoint_for, jobs, settings
):
    # given the publisher thread (as in production) lingering long enough to gather
    from webhooks.publisher import publisher

    settings.WEBHOOKS_PUBLISH_IN_BACKGROUND = True
    settings.WEBHOOKS_PUBLISH_LINGER_SECONDS = 2
    target = receiver()
    endpoint_for(target, events=["order.created"])

    # when three orders are created within the linger
    for _ in range(3):
        order_make()
    publisher.flush()

    # then their three events went as one message, and all arrived
    (message,) = jobs.queued(settings.JOBS_QUEUES["webhooks"])
    assert sorted(message.args[0]) == sorted(Event.objects.values_list("id", flat=True))
    jobs.drain()
    assert len(set(target.ids())) == 3


def test_a_new_delivery_is_written_with_every_column_that_is_not_null():
    # given the columns the event's INSERT writes (without model instances)
    from django.db.models import NOT_PROVIDED

    from webhooks.services import DELIVERY_INSERT_FIELDS

    # then every other column of the model is nullable and has no default it would miss
    for field in Delivery._meta.concrete_fields:
        if field.name not in DELIVERY_INSERT_FIELDS:
            assert field.null and field.default in (None, NOT_PROVIDED), field.name


def test_the_deliveries_of_an_event_are_written_as_the_model_would(receiver, endpoint_for):
    # given two subscribed endpoints
    first, second = endpoint_for(receiver()), endpoint_for(receiver())

    # when an event is written
    order_make()

    # then each has a PENDING delivery due at the event's time, waiting for its message
    event = Event.objects.get()
    deliveries = Delivery.objects.filter(event=event)
    assert {d.endpoint_id for d in deliveries} == {first.pk, second.pk}
    for delivery in deliveries:
        assert delivery.status == DeliveryStatus.PENDING
        assert (delivery.attempts, delivery.queued, delivery.last_error) == (0, True, "")
        assert delivery.next_attempt_at == event.created_at
        assert delivery.last_status_code is None and delivery.last_attempt_at is None
        assert delivery.created_at >= event.created_at and delivery.updated_at

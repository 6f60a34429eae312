"""Webhooks (PRODUCT.md "Webhooks"): every write to an endpoint, event or delivery goes through
these functions.

Lifecycle: a change's transaction writes its audit record; the `audit_recorded` receiver writes
the Event (its `data` snapshot taken then) and one PENDING Delivery per active endpoint
subscribed at that moment, and sends one message for the event on commit. Its job
(`event_deliver`) claims the event's deliveries under their row locks, POSTs the signed event to
each endpoint (side by side), and records each attempt (`delivery_attempt` does the same for
one delivery: retries, resends, the sweep): SUCCEEDED on 2xx, FAILED on 410 (the endpoint is
disabled) or after the last retry, else PENDING with `next_attempt_at` on the retry schedule.
Near retries go to the broker as delayed messages; far ones wait in the database for the sweep
(`delivery_sweep`), which also re-sends deliveries whose message was lost.
"""

import functools
import logging
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from articurated.db import row_insert_rollback_unsafe, row_insert_sql
from articurated.errors import NotFound, PermissionDenied, ValidationFailed
from articurated.fsm import row_lock_rollback_unsafe
from articurated.roles import MANAGER
from audit.models import AuditRecord
from webhooks.events import (
    ALL_EVENTS,
    TEST_EVENT_TYPE,
    event_type_for,
    subscribed,
)
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Endpoint, Event
from webhooks.publisher import deliver_publish, event_publish
from webhooks.selectors import endpoint_get_for
from webhooks.signing import body_encode, headers_sign, secret_generate
from webhooks.snapshots import snapshot_of
from webhooks.targets import Answer, TargetRefused, target_post, target_resolve

logger = logging.getLogger(__name__)

S = DeliveryStatus


# --- sending (always on commit, never failing the committed request) -----------------------


def _deliver_send_on_commit(delivery_id, delay_ms: int = 0) -> None:
    transaction.on_commit(functools.partial(deliver_publish, str(delivery_id), delay_ms))


def attempt_lease_seconds() -> float:
    """How long a claimed attempt may run before the sweep takes it as lost (a worker killed
    mid-request): two timeouts and a margin. Also the actor's time limit."""
    return 2 * settings.WEBHOOKS_TIMEOUT_SECONDS + 10


# --- events (inside the change's transaction) -----------------------------------------------


def event_emit_rollback_unsafe(
    *, event_type: str, data: dict, order_id=None, audit_record_id=None
) -> Event:
    """Writes the event and one PENDING delivery per active endpoint subscribed to it now; the
    event's message is sent on commit. Only inside the transaction of the change (asserted).
    No network call."""
    connection = transaction.get_connection()
    assert connection.in_atomic_block, "inside the change's transaction"
    event = Event(type=event_type, data=data, order_id=order_id, audit_record_id=audit_record_id)
    if connection.vendor == "postgresql":
        deliveries = _event_insert_subscribed_postgresql(event)
    else:
        endpoints = [
            endpoint_id
            for endpoint_id, events in Endpoint.objects.filter(active=True).values_list(
                "id", "events"
            )
            if subscribed(events, event_type)
        ]
        _event_insert_rollback_unsafe(event, endpoints)
        deliveries = len(endpoints)
    if deliveries:
        # One message for the event (gathered with others'): its worker attempts every
        # delivery (the rows above let the sweep send each one that message never reached).
        transaction.on_commit(functools.partial(event_publish, str(event.pk), deliveries))
    return event


def _event_insert_subscribed_postgresql(event: Event) -> int:
    """PostgreSQL: inserts the (unsaved) event and one PENDING delivery per active endpoint
    subscribed to its type (`subscribed()`: the type or "*" among the endpoint's events) in one
    statement, which picks the endpoints itself: every change pays one round trip for its
    event, subscribers or none. Returns how many deliveries it wrote."""
    connection = transaction.get_connection()
    event_sql, params = row_insert_sql(event, connection)
    deliveries_sql, deliveries_params = _deliveries_insert_sql(event, None)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH event AS ({event_sql}), new AS ({deliveries_sql} RETURNING 1)"  # noqa: S608
            " SELECT count(*) FROM new",  # built from names above, never from input
            params + deliveries_params + [[ALL_EVENTS, event.type]],
        )
        (written,) = cursor.fetchone()
    event._state.adding = False
    event._state.db = connection.alias
    return written


def _event_insert_rollback_unsafe(event: Event, endpoint_ids: list) -> None:
    """Inserts the (unsaved) event and, when it has subscribers, its deliveries (`endpoint_ids`,
    chosen by the caller), in two statements: the databases other than PostgreSQL, which has
    `_event_insert_subscribed_postgresql`."""
    connection = transaction.get_connection()
    row_insert_rollback_unsafe(event, connection)
    if endpoint_ids:
        with connection.cursor() as cursor:
            cursor.execute(*_deliveries_insert_sql(event, endpoint_ids))


# The columns a new delivery is written with; the others are nullable and start NULL (a test
# holds the model to that).
DELIVERY_INSERT_FIELDS = (
    "id",
    "endpoint",
    "event",
    "status",
    "attempts",
    "next_attempt_at",
    "queued",
    "last_error",
    "created_at",
    "updated_at",
)


def _deliveries_insert_sql(event: Event, endpoint_ids: list | None) -> tuple[str, list]:
    """The INSERT of the event's PENDING deliveries, one per endpoint, due now: the rows
    bulk_create would write, without building model instances (this runs inside every change
    that has subscribers, where Django's bulk_create cost more than the statement itself). The
    values all rows share are sent once, only each row's id and endpoint per row, from a
    VALUES list (its columns are named column1, column2 by PostgreSQL and SQLite alike).

    `endpoint_ids` None (PostgreSQL only): the rows are the active endpoints subscribed to the
    event's type, chosen by the statement itself from the endpoints' table, with ids made by
    the database; the last parameter, the types that subscribe (the type and "*"), is the
    caller's to append."""
    connection = transaction.get_connection()
    meta = Delivery._meta
    quote = connection.ops.quote_name
    uuid_prep = meta.pk.get_db_prep_value
    now = meta.get_field("created_at").get_db_prep_value(timezone.now(), connection)
    due = meta.get_field("next_attempt_at").get_db_prep_value(event.created_at, connection)
    shared = {
        "event": (meta.get_field("event").column, event.pk),
        "status": ("status", S.PENDING),
        "attempts": ("attempts", 0),
        "next_attempt_at": ("next_attempt_at", due),
        "queued": ("queued", True),
        "last_error": ("last_error", ""),
        "created_at": ("created_at", now),
        "updated_at": ("updated_at", now),
    }
    assert ("id", "endpoint", *shared) == DELIVERY_INSERT_FIELDS
    params: list = [value for _, value in shared.values()]
    columns = [quote("id"), quote(meta.get_field("endpoint").column)]
    columns += [quote(column) for column, _ in shared.values()]
    if endpoint_ids is None:
        endpoints = Endpoint._meta
        events_column = quote(endpoints.get_field("events").column)
        return (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 - names
            f"SELECT gen_random_uuid(), endpoint.{quote(endpoints.pk.column)}, "
            f"{', '.join(['%s'] * len(shared))} "
            f"FROM {quote(endpoints.db_table)} AS endpoint "
            f"WHERE endpoint.{quote(endpoints.get_field('active').column)} "
            f"AND endpoint.{events_column} ?| %s::text[]",
            params,
        )
    for endpoint_id in endpoint_ids:
        params += [
            uuid_prep(uuid.uuid4(), connection, prepared=False),
            uuid_prep(endpoint_id, connection, prepared=False),
        ]
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 - names
        f"SELECT new.column1, new.column2, {', '.join(['%s'] * len(shared))} "
        f"FROM (VALUES {', '.join(['(%s, %s)'] * len(endpoint_ids))}) AS new",
        params,
    )


def event_record_rollback_unsafe(*, record: AuditRecord, subject=None) -> Event:
    """The event of one audit record (orders, returns, invoices, refunds), from the
    `audit_recorded` receiver; `subject` is the changed object when its service passed it."""
    data, order_id = snapshot_of(record, subject=subject)
    return event_emit_rollback_unsafe(
        event_type=event_type_for(entity_type=record.entity_type, transition=record.transition),
        data=data,
        order_id=order_id,
        audit_record_id=record.pk,
    )


def event_prune(*, grace_seconds: float | None = None, batch: int = 5000) -> int:
    """Deletes events (and their deliveries) older than WEBHOOKS_EVENT_RETENTION_DAYS, in
    batches. A sweep of JOBS_SWEEPS (`grace_seconds` is unused). Returns how many it deleted."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOKS_EVENT_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(Event.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        with transaction.atomic():
            DeliveryAttempt.objects.filter(delivery__event_id__in=ids).delete()
            Delivery.objects.filter(event_id__in=ids).delete()
            Event.objects.filter(pk__in=ids).delete()
        deleted += len(ids)


# --- endpoints (API and admin) ---------------------------------------------------------------


def endpoint_may_manage(actor) -> bool:
    return actor is not None and (
        actor.has_perm("webhooks.manage_own_endpoint")
        or actor.has_perm("webhooks.manage_all_endpoints")
    )


def _ensure_may_manage(actor) -> None:
    if not endpoint_may_manage(actor):
        raise PermissionDenied("Your role may not manage webhooks.")


def endpoint_url_validate(url: str) -> str:
    """VALIDATION_ERROR (`url`) unless the URL passes the SSRF guard now."""
    try:
        target_resolve(url)
    except TargetRefused as exc:
        raise ValidationFailed(f"url: {exc}", details={"url": [str(exc)]}) from None
    return url


def endpoint_create(
    *, actor, url: str, events: list[str], description: str = "", active: bool = True
) -> Endpoint:
    """Registers an endpoint owned by the actor (integrators, managers). The URL is checked by
    the SSRF guard. The returned endpoint's `secret` is shown to the caller once."""
    _ensure_may_manage(actor)
    endpoint_url_validate(url)
    return Endpoint.objects.create(
        owner=actor,
        url=url,
        events=sorted(set(events)),
        description=description,
        active=active,
        secret=secret_generate(),
    )


@transaction.atomic
def endpoint_update(*, endpoint_id, actor, **changes) -> Endpoint:
    """Changes url, events, description or active (re-activating clears the failure record).
    The owner or a manager. Locks the endpoint."""
    _ensure_may_manage(actor)
    endpoint_get_for(endpoint_id=endpoint_id, actor=actor)  # 404 for others' endpoints
    endpoint = row_lock_rollback_unsafe(Endpoint, endpoint_id, label="Webhook")
    fields = ["updated_at"]
    if "url" in changes and changes["url"] != endpoint.url:
        endpoint.url = endpoint_url_validate(changes["url"])
        fields.append("url")
    if "events" in changes:
        endpoint.events = sorted(set(changes["events"]))
        fields.append("events")
    if "description" in changes:
        endpoint.description = changes["description"]
        fields.append("description")
    if "active" in changes and changes["active"] != endpoint.active:
        endpoint.active = changes["active"]
        if endpoint.active:
            endpoint.disabled_reason = None
            endpoint.failure_streak = 0
            endpoint.failing_since = None
        else:
            endpoint.disabled_reason = f"Disabled by {actor.get_username()}."
        fields += ["active", "disabled_reason", "failure_streak", "failing_since"]
    endpoint.save(update_fields=fields)
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint_id, actor) -> None:
    """Deletes an endpoint with its deliveries (the events stay). The owner or a manager."""
    _ensure_may_manage(actor)
    endpoint_get_for(endpoint_id=endpoint_id, actor=actor)
    endpoint = row_lock_rollback_unsafe(Endpoint, endpoint_id, label="Webhook")
    DeliveryAttempt.objects.filter(delivery__endpoint=endpoint).delete()
    endpoint.deliveries.all().delete()
    endpoint.delete()


@transaction.atomic
def endpoint_secret_rotate(*, endpoint_id, actor) -> Endpoint:
    """A new secret; the old one keeps signing (a second signature) for 24 hours so receivers
    can switch without losing a delivery. The owner or a manager. Locks the endpoint."""
    _ensure_may_manage(actor)
    endpoint_get_for(endpoint_id=endpoint_id, actor=actor)
    endpoint = row_lock_rollback_unsafe(Endpoint, endpoint_id, label="Webhook")
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + timedelta(
        hours=settings.WEBHOOKS_SECRET_OVERLAP_HOURS
    )
    endpoint.secret = secret_generate()
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return endpoint


def endpoint_test(*, endpoint_id, actor) -> Answer:
    """POSTs a signed `webhook.test` event now (through the SSRF guard) and returns what the
    endpoint answered. Records nothing. The owner or a manager."""
    _ensure_may_manage(actor)
    endpoint = endpoint_get_for(endpoint_id=endpoint_id, actor=actor)
    event = Event(type=TEST_EVENT_TYPE, data={"webhook_id": str(endpoint.pk)})
    body = body_encode(event.payload())
    headers = headers_sign(message_id=event.id, body=body, secrets_=endpoint.signing_secrets())
    return target_post(endpoint.url, body=body, headers=headers)


def _endpoint_disable_rollback_unsafe(endpoint_id, *, reason: str) -> None:
    """Disables an active endpoint and e-mails its owner and the managers on commit."""
    endpoint = Endpoint.objects.select_for_update().select_related("owner").get(pk=endpoint_id)
    if not endpoint.active:
        return
    endpoint.active = False
    endpoint.disabled_reason = reason
    endpoint.save(update_fields=["active", "disabled_reason", "updated_at"])
    recipients = list(settings.MANAGER_EMAILS)
    managers = get_user_model().objects.filter(groups__name=MANAGER, is_active=True)
    recipients += [email for email in managers.values_list("email", flat=True) if email]
    if endpoint.owner.email:
        recipients.append(endpoint.owner.email)
    logger.warning("Webhook endpoint %s disabled: %s", endpoint.url, reason)
    transaction.on_commit(
        functools.partial(
            send_mail,
            subject=f"Webhook endpoint disabled: {endpoint.url}"[:200],
            message=(
                f"The webhook endpoint {endpoint.url} ({endpoint.description or 'no description'}"
                f", id {endpoint.pk}) was disabled.\n\nReason: {reason}\n\nFix the receiver, "
                "turn the endpoint on again and resend the failed deliveries (API or admin)."
            ),
            from_email=None,
            recipient_list=sorted(set(recipients)),
            fail_silently=True,
        )
    )


# --- the job --------------------------------------------------------------------------------


def _delivery_lock_rollback_unsafe(delivery_id) -> Delivery:
    return row_lock_rollback_unsafe(
        Delivery, delivery_id, label="Delivery", select_related=("endpoint", "event")
    )


def _attempts_start(**which) -> list[Delivery]:
    """Claims the attempts of the deliveries `which` filters (one delivery, or new events') in one
    short transaction: locks them (in id order), counts each attempt and moves its
    `next_attempt_at` past the attempt's lease, so a duplicate message (or the sweep) does not
    send it meanwhile. Returns the claimed ones (at most WEBHOOKS_POST_THREADS; more due ones
    are sent as messages of their own): not those with nothing to do (done, not due yet), and
    those of a disabled endpoint are failed instead."""
    with transaction.atomic():
        try:
            rows = list(
                Delivery.objects.filter(**which)
                .select_for_update(of=("self",))
                .select_related("endpoint", "event")
                .order_by("pk")
            )
        except (DjangoValidationError, ValueError):
            return []  # not an id
        now = timezone.now()
        claimed = []
        for delivery in rows:
            if delivery.status != S.PENDING or delivery.next_attempt_at > now + timedelta(
                seconds=2
            ):
                continue
            if len(claimed) == settings.WEBHOOKS_POST_THREADS:
                # More than one job's POSTs: the rest go as messages of their own.
                _deliver_send_on_commit(delivery.pk)
                continue
            if not delivery.endpoint.active:
                delivery.fail()
                delivery.last_error = (
                    f"Not sent: endpoint disabled ({delivery.endpoint.disabled_reason or 'off'})."
                )
                delivery.save(update_fields=["status", "queued", "last_error", "updated_at"])
                continue
            delivery.attempts += 1
            delivery.next_attempt_at = now + timedelta(seconds=attempt_lease_seconds())
            delivery.queued = False  # a killed attempt is re-sent by the sweep once its lease ends
            delivery.updated_at = now
            claimed.append(delivery)
        if claimed:
            # One statement for all of them (each row's own attempts + 1).
            Delivery.objects.filter(pk__in=[delivery.pk for delivery in claimed]).update(
                attempts=F("attempts") + 1,
                next_attempt_at=now + timedelta(seconds=attempt_lease_seconds()),
                queued=False,
                updated_at=now,
            )
    return claimed


def retry_delay_seconds(*, attempts: int, answer: Answer) -> float | None:
    """Seconds before the next attempt after `attempts` failed ones (the schedule's entry,
    jittered; at least a 429/503's Retry-After), or None when the schedule is used up."""
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    jitter = settings.WEBHOOKS_RETRY_JITTER
    delay = base * random.uniform(1 - jitter, 1 + jitter)
    if answer.status_code in (429, 503) and answer.retry_after is not None:
        delay = max(delay, min(answer.retry_after, settings.WEBHOOKS_RETRY_AFTER_MAX_SECONDS))
    return delay


_FINISH_FIELDS = ["status", "queued", "last_status_code", "last_attempt_at", "last_error"]


def _attempt_failed_rollback_unsafe(delivery: Delivery, *, answer: Answer, at, now) -> None:
    """A failed attempt of a locked delivery: the endpoint's failure record, 410 or a failure
    streak too long disables it, else the next attempt is scheduled (queued on commit when
    near)."""
    code = answer.status_code
    endpoint = Endpoint.objects.filter(pk=delivery.endpoint_id)
    endpoint.update(
        failure_streak=F("failure_streak") + 1,
        failing_since=Coalesce(F("failing_since"), at),
        last_status=S.FAILED,
        last_status_code=code,
        last_delivery_at=now,
    )
    if code == 410:
        delivery.fail()
        delivery.save(update_fields=[*_FINISH_FIELDS, "updated_at"])
        _endpoint_disable_rollback_unsafe(
            delivery.endpoint_id, reason="The endpoint answered 410 Gone."
        )
        return
    failing_since = endpoint.values_list("failing_since", flat=True).first()
    limit = timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER)
    if failing_since is not None and now - failing_since >= limit:
        _endpoint_disable_rollback_unsafe(
            delivery.endpoint_id,
            reason=f"No successful delivery since {failing_since.isoformat()}.",
        )
    delay = retry_delay_seconds(attempts=delivery.attempts, answer=answer)
    if delay is None:
        delivery.fail()
        delivery.save(update_fields=[*_FINISH_FIELDS, "updated_at"])
        return
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.queued = delay <= settings.WEBHOOKS_BROKER_DELAY_MAX_SECONDS
    delivery.save(update_fields=[*_FINISH_FIELDS, "next_attempt_at", "updated_at"])
    if delivery.queued:
        _deliver_send_on_commit(delivery.pk, int(delay * 1000))


def _attempts_finish(results: list[tuple[Delivery, datetime, Answer]]) -> None:
    """Records the answers of claimed attempts in one transaction: one log row each, and each
    delivery that is still on that attempt (not resent or finished meanwhile) succeeds, fails
    or is scheduled again. The deliveries are locked in id order, their endpoints written in
    id order (two jobs finishing deliveries to the same endpoints cannot deadlock)."""
    with transaction.atomic():
        locked = {
            delivery.pk: delivery
            for delivery in Delivery.objects.select_for_update()
            .filter(pk__in=[claimed.pk for claimed, _, _ in results])
            .order_by("pk")
        }
        results = [r for r in results if r[0].pk in locked]  # else pruned or endpoint deleted
        if not results:
            return
        DeliveryAttempt.objects.bulk_create(
            [
                DeliveryAttempt(
                    delivery_id=claimed.pk,
                    attempted_at=at,
                    status_code=answer.status_code,
                    duration_ms=answer.duration_ms,
                    response_body=answer.body,
                    error=answer.error,
                    succeeded=answer.ok,
                )
                for claimed, at, answer in results
            ]
        )
        now = timezone.now()
        succeeded = []
        healthy: dict = {}  # endpoint → the code written as its success in this transaction
        for claimed, at, answer in sorted(results, key=lambda r: (str(r[0].endpoint_id), r[1])):
            delivery = locked[claimed.pk]
            if delivery.status != S.PENDING or delivery.attempts != claimed.attempts:
                continue  # resent or finished by another attempt meanwhile: only the log changes
            code = answer.status_code
            delivery.last_status_code = code
            delivery.last_attempt_at = at
            delivery.last_error = answer.error or ("" if answer.ok else f"HTTP {code}")
            if not answer.ok:
                healthy.pop(delivery.endpoint_id, None)
                _attempt_failed_rollback_unsafe(delivery, answer=answer, at=at, now=now)
                continue
            delivery.succeed()
            delivery.updated_at = now
            succeeded.append(delivery)
            if healthy.get(delivery.endpoint_id) == code:
                continue
            healthy[delivery.endpoint_id] = code
            # A healthy endpoint's row is rewritten at most once a second, so concurrent
            # successful deliveries to it do not queue on its row lock.
            Endpoint.objects.filter(pk=delivery.endpoint_id).exclude(
                failure_streak=0,
                last_status=S.SUCCEEDED,
                last_status_code=code,
                last_delivery_at__gte=now - timedelta(seconds=1),
            ).update(
                failure_streak=0,
                failing_since=None,
                last_status=S.SUCCEEDED,
                last_status_code=code,
                last_delivery_at=now,
            )
        if succeeded:
            _deliveries_succeeded_write_rollback_unsafe(succeeded, now=now)


def _deliveries_succeeded_write_rollback_unsafe(deliveries: list[Delivery], *, now) -> None:
    """Writes deliveries that succeeded (the FSM moved them in memory, on their locked rows) in
    one UPDATE joined to a VALUES list of their answers: one statement per job, not one per
    delivery (nor bulk_update's CASE per field and row, ~2 ms of Python per delivery). VALUES
    columns are named column1, column2, … by PostgreSQL and SQLite alike."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    fields = [
        Delivery._meta.get_field(name) for name in ("id", "last_status_code", "last_attempt_at")
    ]
    params: list = []
    for delivery in deliveries:
        assert delivery.status == S.SUCCEEDED and not delivery.queued and not delivery.last_error
        params += [
            field.get_db_prep_value(getattr(delivery, field.attname), connection, prepared=False)
            for field in fields
        ]
    table = quote(Delivery._meta.db_table)
    column = {name: quote(Delivery._meta.get_field(name).column) for name in _FINISH_FIELDS}
    set_ = [
        f"{column['status']} = %s",
        f"{column['queued']} = %s",
        f"{column['last_error']} = ''",
        f"{column['last_status_code']} = answers.column2",
        f"{column['last_attempt_at']} = answers.column3",
        f"{quote('updated_at')} = %s",
    ]
    updated_at = Delivery._meta.get_field("updated_at").get_db_prep_value(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(set_)} "  # noqa: S608 - names, not input
            f"FROM (VALUES {', '.join(['(%s, %s, %s)'] * len(deliveries))}) AS answers "
            f"WHERE {table}.{quote('id')} = answers.column1",
            [S.SUCCEEDED, False, updated_at, *params],
        )


_post_pool: ThreadPoolExecutor | None = None
_post_pool_lock = threading.Lock()


def _posts_pool() -> ThreadPoolExecutor:
    global _post_pool  # one pool per process, made on first use
    with _post_pool_lock:
        if _post_pool is None:
            # Threads are made as needed and reused when idle. A job brings at most
            # WEBHOOKS_POST_THREADS POSTs and a worker process runs far fewer than 64 jobs at
            # once, so no job's POSTs wait behind another's (its time limit is one lease).
            _post_pool = ThreadPoolExecutor(
                max_workers=settings.WEBHOOKS_POST_THREADS * 64, thread_name_prefix="webhooks-post"
            )
        return _post_pool


def _attempts_run(**which) -> None:
    """Claims, POSTs and records the attempts of the deliveries `which` filters. The signed POSTs
    of several deliveries go out side by side (a slow endpoint does not hold up the others),
    and no database connection is held open in a transaction while they run."""
    claimed = _attempts_start(**which)
    if not claimed:
        return
    if settings.JOBS_FAULT_DELAY_SECONDS:
        time.sleep(settings.JOBS_FAULT_DELAY_SECONDS)
    # The same bytes for every endpoint of an event (each signs them with its own secrets).
    bodies = {d.event_id: body_encode(d.event.payload()) for d in claimed}

    def post(delivery: Delivery) -> tuple[Delivery, datetime, Answer]:
        body = bodies[delivery.event_id]
        headers = headers_sign(
            message_id=delivery.event_id, body=body, secrets_=delivery.endpoint.signing_secrets()
        )
        at = timezone.now()
        return delivery, at, target_post(delivery.endpoint.url, body=body, headers=headers)

    if len(claimed) == 1:
        results = [post(claimed[0])]
    else:
        results = list(_posts_pool().map(post, claimed))
    _attempts_finish(results)


def delivery_attempt(*, delivery_id) -> None:
    """The delivery job: one signed POST of the event to the endpoint, and its record. Called by
    the `webhook_deliver_job` actor only. Safe to run any number of times: it locks the delivery
    and does nothing unless it is PENDING and due. Queues the next retry on commit when it is
    near; a far one is sent by the sweep when due."""
    _attempts_run(pk=delivery_id)


def events_deliver(*, event_ids: list[str]) -> None:
    """The event job: the first attempt of each delivery of new events (one message for them,
    so the change that wrote an event hands no message per endpoint to the broker). Called by
    the `webhook_event_job` actor only. The deliveries are claimed, POSTed and recorded as
    `delivery_attempt` does, together; safe to run any number of times."""
    _attempts_run(event_id__in=event_ids)


# --- staff and integrator actions -----------------------------------------------------------


def _resend_rollback_unsafe(delivery: Delivery) -> None:
    delivery.resend()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "queued", "updated_at"])
    _deliver_send_on_commit(delivery.pk)


@transaction.atomic
def delivery_resend(*, endpoint_id, delivery_id, actor) -> Delivery:
    """Sends one delivery again (whatever its status) with the same event id. The endpoint's
    owner or a manager. Locks the delivery; queues it on commit."""
    _ensure_may_manage(actor)
    endpoint = endpoint_get_for(endpoint_id=endpoint_id, actor=actor)
    delivery = _delivery_lock_rollback_unsafe(delivery_id)
    if delivery.endpoint_id != endpoint.pk:
        raise NotFound(f"Delivery {delivery_id} does not exist.")
    _resend_rollback_unsafe(delivery)
    return delivery


@transaction.atomic
def delivery_resend_failed(*, endpoint_id, since: datetime, actor) -> int:
    """Sends again every FAILED delivery of the endpoint created at or after `since`. The owner
    or a manager. Locks those deliveries; queues them on commit. Returns how many."""
    _ensure_may_manage(actor)
    endpoint = endpoint_get_for(endpoint_id=endpoint_id, actor=actor)
    failed = list(
        Delivery.objects.select_for_update()
        .filter(endpoint=endpoint, status=S.FAILED, created_at__gte=since)
        .order_by("pk")
    )
    for delivery in failed:
        _resend_rollback_unsafe(delivery)
    return len(failed)


# --- the sweep ------------------------------------------------------------------------------


def delivery_sweep(*, grace_seconds: float | None = None, limit: int = 1000) -> int:
    """Sends the deliveries that are due and have no message in the broker: retries scheduled
    too far ahead for a delayed message, attempts whose worker died (lease over), and messages
    lost on the way (still due `grace_seconds` after their time). Claims them with SKIP LOCKED,
    so concurrent sweeps do not both send. A sweep of JOBS_SWEEPS. Returns how many it sent."""
    grace = settings.JOBS_SWEEP_GRACE_SECONDS if grace_seconds is None else grace_seconds
    sent = 0
    while True:
        now = timezone.now()
        with transaction.atomic():
            due = list(
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(status=S.PENDING)
                .filter(
                    Q(queued=False, next_attempt_at__lte=now)
                    | Q(next_attempt_at__lte=now - timedelta(seconds=grace))
                )
                .order_by("next_attempt_at")[:limit]
            )
            for delivery in due:
                delivery.next_attempt_at = now
                delivery.queued = True
                _deliver_send_on_commit(delivery.pk)
            Delivery.objects.bulk_update(due, ["next_attempt_at", "queued"])
        sent += len(due)
        if len(due) < limit:
            break
    if sent:
        logger.info("Webhooks sweep sent %d due deliveries.", sent)
    return sent

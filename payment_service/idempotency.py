"""Idempotency keys, claimed by insert (Stripe's keys; the IETF Idempotency-Key draft).

A mutating call first inserts an IdempotencyRecord unique on (client, method, key) holding a
fingerprint of the request. The insert either wins the key (the call runs) or finds the key
taken: same fingerprint and an answer → that answer again (a replay); another fingerprint →
IdempotencyKeyReused; no answer yet → IdempotencyInProgress, unless the holder's lease ran
out (its process died mid-call), in which case this call takes the key over. The call stores
its answer in the same transaction as its effect (`idempotency_complete_rollback_unsafe`), so
an effect without an answer cannot be committed. A call that fails releases the key, so the
caller can retry with it. Keys live PAYMENT_IDEMPOTENCY_TTL_HOURS (24)."""

import contextlib
import functools
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from payment_service.errors import IdempotencyInProgress, IdempotencyKeyReused
from payment_service.models import IdempotencyRecord, IdempotencyState


@dataclass(frozen=True)
class Claim:
    """Either the key is ours (`record_id`, `owner`) or it was answered before (`answer`)."""

    record_id: int | None = None
    owner: str = ""
    answer: dict | None = None

    @property
    def replayed(self) -> bool:
        return self.answer is not None


def request_fingerprint(method: str, fields: dict) -> str:
    canonical = json.dumps([method, fields], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lease() -> timedelta:
    return timedelta(seconds=settings.PAYMENT_IDEMPOTENCY_LEASE_SECONDS)


def _nowait() -> dict:
    # PostgreSQL: a key whose holder's transaction is running is in progress, do not wait for
    # it. SQLite has no row locks (its IMMEDIATE transactions serialise writers anyway).
    return {"nowait": True} if connection.features.has_select_for_update_nowait else {}


_ANSWER_FIELD = IdempotencyRecord._meta.get_field("answer")
_IN_PROGRESS = IdempotencyState.IN_PROGRESS.value
_DONE = IdempotencyState.DONE.value
_CLAIM_SQL = (
    "INSERT INTO payment_service_idempotency (client, method, key, fingerprint, state, owner,"
    " lease_until, answer, created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, NULL,"
    " %s, %s) ON CONFLICT (client, method, key) DO NOTHING RETURNING id"
)
# The claim need not wait for its own disk flush: the call's effect commits after it, and that
# commit's flush carries the claim too. A crash before then loses the claim together with the
# call, which its caller retries. One flush per call. `set_config(…, true)` lasts until the end
# of the statement's own transaction, whose commit reads it; it is one statement (not a
# `SELECT set_config(…); INSERT …` query) so that it can be prepared (`_prepared_cursor`).
_CLAIM_SQL_POSTGRESQL = (
    "INSERT INTO payment_service_idempotency (client, method, key, fingerprint, state, owner,"
    " lease_until, answer, created_at, expires_at) SELECT %s, %s, %s, %s, %s, %s, %s, NULL,"
    " %s, %s FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
    " ON CONFLICT (client, method, key) DO NOTHING RETURNING id"
)
_PREPARE_ONLY_WHEN_ASKED = 2**31 - 1
_STATEMENT_TIMEOUT_SQL = "SELECT set_config('statement_timeout', %s, true)"


def _own_transaction(db):
    """Outside a transaction, a statement (or a pipeline up to its sync) is an implicit
    transaction of its own; inside a caller's (an in-process call from a transaction), a
    savepoint, so that a failure does not spoil the caller's transaction."""
    return transaction.atomic(using=db.alias) if db.in_atomic_block else contextlib.nullcontext()


@contextlib.contextmanager
def _prepared_cursor(db):
    """A psycopg cursor on the thread's Django connection (PostgreSQL) that sends parameters
    apart from the SQL, for the statements every call runs: executed with `prepare=True`, each
    is parsed and planned once per connection, not once per call, whatever the settings say
    (with DATABASE_SERVER_SIDE_BINDING off, Django's own cursors send the values inlined in
    the SQL, a new statement every time). Half the database's CPU of a CreatePayment went to
    that (bench/scenarios/grpc_payments.py). The connection is checked,
    opened and its errors translated as Django's `connection.cursor()` does; a connection pooler
    in front of PostgreSQL must keep prepared statements per session (PgBouncer >= 1.21 with
    max_prepared_statements, or session pooling)."""
    from psycopg import Cursor

    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    raw = db.connection
    if raw.prepare_threshold is None:
        # Without server-side binding Django opens its connections with psycopg's preparing
        # off (None), which refuses even `prepare=True`. Its client-side cursors never prepare
        # whatever this says; a threshold
        # no statement reaches leaves preparing to the statements that ask for it, these.
        raw.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
    with db.wrap_database_errors, Cursor(raw) as cursor:
        yield cursor


def _claim_insert(*, client, method, key, fingerprint, owner, now) -> int | None:
    """One INSERT (PostgreSQL and SQLite): the new record's id, or None if the key is taken.
    Every call pays for this one, so it does not look before it inserts, and on PostgreSQL it
    is one prepared statement, one round trip: outside a transaction it is its own implicit
    transaction, committed at its end (the key is claimed for everyone at once)."""
    db = transaction.get_connection()  # the thread's connection, looked up once
    adapt = db.ops.adapt_datetimefield_value
    ttl = timedelta(hours=settings.PAYMENT_IDEMPOTENCY_TTL_HOURS)
    params = [client, method, key, fingerprint, _IN_PROGRESS, owner]
    params += [adapt(now + _lease()), adapt(now), adapt(now + ttl)]
    if db.vendor == "postgresql":
        with _own_transaction(db), _prepared_cursor(db) as cursor:
            cursor.execute(_CLAIM_SQL_POSTGRESQL, params, prepare=True)
            row = cursor.fetchone()
    else:
        with _own_transaction(db), db.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, params)
            row = cursor.fetchone()
    return row[0] if row else None


def idempotency_claim(*, client: str, method: str, key: str, fingerprint: str) -> Claim:
    """Claims the key for this call or returns the stored answer. Outside any transaction:
    the claim commits at once, so a concurrent call with the same key sees it. A running call
    only stores its answer at its very end, so a second insert of its key meets a committed,
    unlocked row and does not wait: the caller is told IDEMPOTENCY_IN_PROGRESS at once."""
    now = timezone.now()
    owner = secrets.token_hex(16)
    for _ in range(3):  # again only after an expired or released record went away
        record_id = _claim_insert(
            client=client, method=method, key=key, fingerprint=fingerprint, owner=owner, now=now
        )
        if record_id is not None:
            return Claim(record_id=record_id, owner=owner)
        try:
            with transaction.atomic():
                record = (
                    IdempotencyRecord.objects.select_for_update(**_nowait())
                    .filter(client=client, method=method, key=key)
                    .first()
                )
                if record is not None:
                    claim = _claim_existing(record, owner=owner, fingerprint=fingerprint, now=now)
                    if claim is not None:
                        return claim
        except DatabaseError as error:
            # NOWAIT found the row locked: another call is deciding about this key right now.
            raise IdempotencyInProgress(
                f"A {method} call with idempotency key {key!r} is still running."
            ) from error
    raise IdempotencyInProgress(f"A {method} call with idempotency key {key!r} is contended.")


def _claim_existing(
    record: IdempotencyRecord, *, owner: str, fingerprint: str, now
) -> Claim | None:
    """The key is taken (the record is locked): replay, refuse, take over, or None when the
    record had expired and was deleted."""
    if record.expires_at <= now:
        record.delete()
        return None
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"Idempotency key {record.key!r} was used for a different {record.method} request."
        )
    if record.state == IdempotencyState.DONE:
        return Claim(answer=record.answer)
    if record.lease_until > now:
        raise IdempotencyInProgress(
            f"A {record.method} call with idempotency key {record.key!r} is still running."
        )
    # Its holder died mid-call (nothing it did committed): take the key over.
    record.owner = owner
    record.lease_until = now + _lease()
    record.save(update_fields=["owner", "lease_until"])
    return Claim(record_id=record.pk, owner=owner)


def idempotency_complete_rollback_unsafe(claim: Claim, *, answer: dict) -> None:
    """Stores the answer, last thing in the transaction that commits the call's effect, so the
    record's row is locked only for that commit. Refuses (IdempotencyInProgress, rolling the
    effect back) if a retry took the key over meanwhile (this call outlived its lease)."""
    assert transaction.get_connection().in_atomic_block, "with the call's effect"
    stored = IdempotencyRecord.objects.filter(
        pk=claim.record_id, owner=claim.owner, state=IdempotencyState.IN_PROGRESS
    ).update(state=IdempotencyState.DONE, answer=answer)
    if not stored:
        raise IdempotencyInProgress("This call's idempotency key was taken over by a retry.")


@functools.cache
def _complete_with_insert_sql(model: type[Model]) -> str:
    # Built from the model's own table and column names, never from input.
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    marks = ", ".join(["%s"] * len(model._meta.concrete_fields))
    return (
        "WITH answered AS (UPDATE payment_service_idempotency SET state = %s, answer = %s"  # noqa: S608
        " WHERE id = %s AND owner = %s AND state = %s RETURNING id)"
        f" INSERT INTO {table} ({columns}) SELECT {marks} FROM answered"
    )


def idempotency_complete_with_insert(
    claim: Claim, *, answer: dict, row: Model, statement_timeout_ms: int | None = None
) -> None:
    """Inserts `row` (a new model instance, its defaults filled in) and stores the answer, in
    one transaction: the same guarantee as `idempotency_complete_rollback_unsafe` for a call
    whose whole effect is that one row. Refuses (IdempotencyInProgress, nothing written) if a
    retry took the key over meanwhile. Called outside any transaction.

    On PostgreSQL it is one prepared statement, one round trip (the hot path of
    CreatePayment): the row is inserted only if the record was answered, so neither is written
    without the other. `statement_timeout_ms` (the caller's deadline) applies to it, set by a
    set_config sent ahead of it in one pipeline: the two share the implicit transaction that
    ends at the pipeline's sync, still one round trip."""
    db = transaction.get_connection()  # the thread's connection, looked up once
    if db.vendor != "postgresql":
        with transaction.atomic():
            idempotency_complete_rollback_unsafe(claim, answer=answer)
            row.save(force_insert=True)
        return
    sql = _complete_with_insert_sql(type(row))
    params = [_DONE, _ANSWER_FIELD.get_db_prep_save(answer, db)]
    params += [claim.record_id, claim.owner, _IN_PROGRESS]
    params += [
        field.get_db_prep_save(field.pre_save(row, True), db) for field in row._meta.concrete_fields
    ]
    with _own_transaction(db), _prepared_cursor(db) as cursor:
        if statement_timeout_ms is None:
            cursor.execute(sql, params, prepare=True)
        else:
            with cursor.connection.pipeline():
                cursor.execute(_STATEMENT_TIMEOUT_SQL, [f"{statement_timeout_ms}ms"], prepare=True)
                cursor.execute(sql, params, prepare=True)
        stored = cursor.rowcount
    if not stored:
        raise IdempotencyInProgress("This call's idempotency key was taken over by a retry.")


def idempotency_release(claim: Claim) -> None:
    """Gives the key back after a failed call (nothing was committed), so a retry runs."""
    IdempotencyRecord.objects.filter(
        pk=claim.record_id, owner=claim.owner, state=IdempotencyState.IN_PROGRESS
    ).delete()

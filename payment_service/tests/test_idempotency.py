"""The domain's idempotency guarantees, called in-process outside any transaction (as the gRPC
server's threads call it)."""

import pytest

from payment_service import services
from payment_service.errors import IdempotencyInProgress
from payment_service.models import IdempotencyRecord, Payment

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_call_whose_key_was_taken_over_meanwhile_writes_nothing(monkeypatch):
    # given a call that outlives its lease: a retry takes its key over before it commits
    def taken_over():
        IdempotencyRecord.objects.update(owner="the-retry")

    monkeypatch.setattr(services, "_fault_delay", taken_over)

    # when the first call comes to write its payment
    with pytest.raises(IdempotencyInProgress):
        services.payment_create(
            client="oms", idempotency_key="k-1", amount_minor=10400, currency="USD"
        )

    # then it wrote neither the payment nor an answer; the key stays the retry's
    assert not Payment.objects.exists()
    record = IdempotencyRecord.objects.get()
    assert (record.owner, record.state, record.answer) == ("the-retry", "IN_PROGRESS", None)


def test_the_payment_and_its_answer_are_written_together():
    result = services.payment_create(
        client="oms",
        idempotency_key="k-1",
        amount_minor=10400,
        currency="USD",
        reference="ORD-1",
        time_remaining=lambda: 5.0,
    )

    payment = Payment.objects.get()
    record = IdempotencyRecord.objects.get()
    assert (record.state, record.answer) == ("DONE", result.answer)
    assert services.payment_view(payment) == result.answer
    assert not result.replayed

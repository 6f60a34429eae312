"""The simulated gateway counts its failures in the database (issue 8), so "fail N times" is N
calls in all, however many worker processes make them."""

from decimal import Decimal

import pytest

from payments.gateways import GatewayError, SimulatedGateway


def _call(gateway: SimulatedGateway, key: str = "refund-k1"):
    return gateway.refund(
        idempotency_key=key,
        amount=Decimal("10.00"),
        currency="USD",
        payment_reference="pay_1",
        description="test",
    )


@pytest.mark.django_db
def test_fail_n_times_is_n_across_worker_processes(settings, monkeypatch):
    # given a gateway told to fail twice
    settings.SIMULATED_GATEWAY_FAIL_TIMES = 2

    # when each call comes from a fresh worker process (nothing remembered in memory)
    outcomes = []
    for _ in range(3):
        monkeypatch.setattr(SimulatedGateway, "_failures", {}, raising=False)
        try:
            outcomes.append(_call(SimulatedGateway()).reference[:7])
        except GatewayError as error:
            outcomes.append(str(error))

    # then exactly two calls failed, then it paid
    assert outcomes[0].endswith("(failure 1 of 2).")
    assert outcomes[1].endswith("(failure 2 of 2).")
    assert outcomes[2] == "sim_re_"


@pytest.mark.django_db
def test_failures_are_counted_per_idempotency_key(settings):
    settings.SIMULATED_GATEWAY_FAIL_TIMES = 1
    gateway = SimulatedGateway()
    for key in ("a", "b"):
        with pytest.raises(GatewayError):
            _call(gateway, key)
        assert _call(gateway, key).reference.startswith("sim_re_")

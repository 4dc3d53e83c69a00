"""The venue enforces its own rate limits like a venue: counted at arrival, refused with retry-after."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import anyio
import pytest

from engine import InvalidInputError, RateLimitedError, now
from gateways.simulated import LatencyModel, RequestOutcome, SimulatedVenue, VenueRateLimit, VenueRequest
from tests.gateways.simulated.venues import limit, quiet_venue


def max_weight_in_any_window(log: Sequence[VenueRequest], period: float) -> int:
    """The largest admitted weight in any rolling window ``(t - period, t]``."""
    counted = [r for r in log if r.outcome.counted]
    best = 0
    for index, request in enumerate(counted):
        window = [r.weight for r in counted[: index + 1] if r.timestamp > request.timestamp - period]
        best = max(best, sum(window))
    return best


async def test_an_over_limit_request_is_refused_with_retry_after_and_never_executed() -> None:
    async with quiet_venue(rate_limits=[VenueRateLimit(limit=3, period=10.0)]) as venue:
        start = now()
        for _ in range(3):
            await venue.submit_order(limit("AAPL", "buy", 1, "140.00"))
        await anyio.sleep(2)
        refused = limit("AAPL", "buy", 1, "140.00")
        with pytest.raises(RateLimitedError) as caught:
            await venue.submit_order(refused)
        assert caught.value.retry_after == pytest.approx(start + 10 - now())
        assert venue.statistics().rate_limit_violations == 1
        assert venue.statistics().orders == 3
        assert venue.request_log[-1].outcome is RequestOutcome.RATE_LIMITED
        assert refused.client_order_id not in {e.client_order_id for e in venue.event_log}
        await anyio.sleep(caught.value.retry_after)
        await venue.submit_order(refused)  # after retry_after it is admitted
        assert (await venue.get_order(refused.client_order_id)).order == refused


async def test_lookups_weigh_nothing_by_default_and_weights_are_configurable() -> None:
    limits = [
        VenueRateLimit(limit=2, period=60.0),
        VenueRateLimit(limit=1, period=60.0, weights={"get_quote": 1}),
    ]
    async with quiet_venue(rate_limits=limits) as venue:
        order = limit("AAPL", "buy", 1, "140.00")
        await venue.submit_order(order)
        for _ in range(5):
            await venue.get_order(order.client_order_id)
        await venue.get_quote("AAPL")
        with pytest.raises(RateLimitedError):
            await venue.get_quote("AAPL")
        await venue.cancel_order(order.client_order_id)
        with pytest.raises(RateLimitedError):
            await venue.cancel_order(order.client_order_id)
    assert [r.weights for r in venue.request_log[:2]] == [(1, 0), (0, 0)]
    assert venue.statistics().rate_limit_violations == 2


async def test_a_burst_never_puts_more_than_the_limit_in_any_rolling_window() -> None:
    venue = SimulatedVenue.demo(seed=2, rate_limits=[VenueRateLimit(limit=10, period=1.0)])
    async with venue, anyio.create_task_group() as group:
        async def send(index: int) -> None:
            with contextlib.suppress(RateLimitedError):
                await venue.submit_order(limit("AAPL", "buy", 1, "100.00"))

        for index in range(100):
            group.start_soon(send, index)
            await anyio.sleep(0.01)
    assert max_weight_in_any_window(venue.request_log, 1.0) == 10
    refused = [r for r in venue.request_log if not r.outcome.counted]
    assert len(refused) == venue.statistics().rate_limit_violations > 0
    assert venue.statistics().orders == len(venue.request_log) - len(refused)


async def test_a_request_exactly_one_period_later_is_admitted() -> None:
    async with quiet_venue(rate_limits=[VenueRateLimit(limit=1, period=5.0)]) as venue:
        await venue.submit_order(limit("AAPL", "buy", 1, "140.00"))
        await anyio.sleep(5)
        await venue.submit_order(limit("AAPL", "buy", 1, "140.00"))
    assert venue.statistics().rate_limit_violations == 0


def test_bad_rate_limit_settings_are_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInputError, match="limit"):
        VenueRateLimit(limit=0, period=1.0)
    with pytest.raises(InvalidInputError, match="period"):
        VenueRateLimit(limit=1, period=float("nan"))
    with pytest.raises(InvalidInputError, match="weights"):
        VenueRateLimit(limit=1, period=1.0, weights={"teleport": 1})
    with pytest.raises(InvalidInputError, match=r"weights\['submit'\]"):
        quiet_venue(rate_limits=[VenueRateLimit(limit=1, period=1.0, weights={"submit": 2})])
    with pytest.raises(InvalidInputError, match="rate_limits"):
        SimulatedVenue.demo(rate_limits=VenueRateLimit(limit=1, period=1.0))
    assert LatencyModel.zero().request == 0

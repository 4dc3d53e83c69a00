"""Look-ups and quotes through the queue: they wait for capacity in their lanes and are counted.

The venue counts order look-ups and quotes as well as submits and cancels, so the queue weighs them
against the same limits. That a whole engine then never exceeds such a venue is tried in
``tests/promises/test_limits_hold.py``.
"""

from __future__ import annotations

import anyio
import pytest

from engine import Lane, RateLimit, RateLimitedOrderQueue, RequestKind
from engine.errors import RateLimitedError
from engine.orders import Order
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec, VenueRateLimit

SYMBOLS = [
    SymbolSpec(symbol="AAPL", price=150, volatility=0.05, volume_per_second=50),
    SymbolSpec(symbol="MSFT", price=300, volatility=0.05, volume_per_second=20, displayed_size=200),
]


async def test_a_queue_lookup_and_quote_wait_for_capacity_and_are_counted() -> None:
    venue = SimulatedVenue(SYMBOLS, seed=3, latency=LatencyModel.zero(), cash=1_000_000)
    limit = RateLimit(2, 10.0, lookup_weight=1, quote_weight=1)
    async with venue, RateLimitedOrderQueue(venue, limits=[limit]) as queue:
        started = anyio.current_time()
        first = await queue.quote("AAPL")
        second = await queue.quote("MSFT", lane=Lane.COMPLETION)
        third = await queue.quote("AAPL")  # the window is full: it waits for the first to leave it
        waited = anyio.current_time() - started
        stats = queue.statistics()
    assert {first.symbol, second.symbol, third.symbol} == {"AAPL", "MSFT"}
    assert waited == pytest.approx(10.05, abs=1e-6)
    assert stats.quotes == 3
    assert stats.sent == 0


async def test_kinds_the_limits_do_not_weigh_go_straight_to_the_gateway() -> None:
    venue = SimulatedVenue(SYMBOLS, seed=3, latency=LatencyModel.zero(), cash=1_000_000)
    async with venue, RateLimitedOrderQueue(venue, limits=[RateLimit(1, 10.0)]) as queue:
        started = anyio.current_time()
        quotes = [await queue.quote("AAPL") for _ in range(5)]
        assert anyio.current_time() == started
        stats = queue.statistics()
    assert len(quotes) == 5
    assert stats.quotes == 0
    assert not RateLimit(1, 10.0).cost(RequestKind.QUOTE)


def resting_buy() -> Order:
    return Order("AAPL", "buy", 1, order_type="limit", limit_price=100, time_in_force="ioc")


async def test_a_look_up_waits_ahead_of_routine_slices_and_a_quote_behind_them() -> None:
    venue = SimulatedVenue(SYMBOLS, seed=3, latency=LatencyModel.zero(), cash=1_000_000)
    limit = RateLimit(1, 10.0, lookup_weight=1, quote_weight=1)
    granted: dict[str, float] = {}
    async with venue, RateLimitedOrderQueue(venue, limits=[limit], safety_margin=0.0) as queue:
        first = await queue.submit(resting_buy())  # the window is now full for 10 s
        routine = [queue.submit(resting_buy()) for _ in range(2)]

        async def look_up() -> None:
            await queue.lookup(first.client_order_id)
            granted["lookup"] = anyio.current_time()

        async def ask_quote() -> None:
            await queue.quote("AAPL")
            granted["quote"] = anyio.current_time()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(ask_quote)
            tasks.start_soon(look_up)
        results = [await handle for handle in routine]
    # one request per 10 s: the look-up overtakes both routine orders, the quote waits its turn
    assert granted["lookup"] == pytest.approx(10.0)
    assert [result.sent_at for result in results] == [pytest.approx(20.0), pytest.approx(30.0)]
    assert granted["quote"] == pytest.approx(40.0)


async def test_a_caller_that_stops_waiting_gives_its_place_back() -> None:
    venue = SimulatedVenue(SYMBOLS, seed=3, latency=LatencyModel.zero(), cash=1_000_000)
    limit = RateLimit(1, 10.0, lookup_weight=1)
    async with venue, RateLimitedOrderQueue(venue, limits=[limit], safety_margin=0.0) as queue:
        first = await queue.submit(resting_buy())
        with anyio.move_on_after(1.0):
            await queue.lookup(first.client_order_id)
        assert queue.statistics().queued == 0
        second = await queue.submit(resting_buy())
        stats = queue.statistics()
    assert second.sent_at == pytest.approx(10.0)
    assert stats.lookups == 0
    assert stats.cancelled == 0  # a withdrawn permit is no cancelled order


async def test_before_the_queue_runs_a_look_up_still_takes_its_capacity() -> None:
    venue = SimulatedVenue(SYMBOLS, seed=3, latency=LatencyModel.zero(), cash=1_000_000)
    queue = RateLimitedOrderQueue(venue, limits=[RateLimit(1, 10.0, quote_weight=1)], safety_margin=0.0)
    async with venue:
        await queue.quote("AAPL")
        await queue.quote("AAPL")
        assert anyio.current_time() == pytest.approx(10.0)
    assert queue.statistics().quotes == 2


async def test_a_counted_quote_the_venue_refuses_pauses_the_queue_until_its_retry_after() -> None:
    # the venue allows less than the queue was told: its 429 must hold back what follows
    venue = SimulatedVenue(
        SYMBOLS,
        seed=3,
        latency=LatencyModel.zero(),
        cash=1_000_000,
        rate_limits=[VenueRateLimit(limit=1, period=10.0, weights={"get_quote": 1, "submit": 1})],
    )
    limit = RateLimit(5, 10.0, quote_weight=1)
    async with venue, RateLimitedOrderQueue(venue, limits=[limit], retry_jitter=0.0) as queue:
        await queue.quote("AAPL")
        with pytest.raises(RateLimitedError) as refused:
            await queue.quote("AAPL")
        result = await queue.submit(resting_buy())
        stats = queue.statistics()
    assert refused.value.retry_after == pytest.approx(10.0)
    assert stats.rate_limited == 1
    assert result.ok
    assert result.sent_at == pytest.approx(10.0)  # the pause held it back; the venue took it
    assert venue.statistics().rate_limit_violations == 1


async def test_quotes_waiting_for_capacity_never_count_toward_max_queued() -> None:
    venue = SimulatedVenue(SYMBOLS, seed=3, latency=LatencyModel.zero(), cash=1_000_000)
    limit = RateLimit(1, 10.0, quote_weight=1)
    async with (
        venue,
        RateLimitedOrderQueue(venue, limits=[limit], max_queued=2, when_full="refuse") as queue,
        anyio.create_task_group() as group,
    ):
        for _ in range(4):  # the first takes the window; three wait in the lanes
            group.start_soon(queue.quote, "AAPL")
        await anyio.sleep(1.0)
        statistics = queue.statistics()
        assert (statistics.queued, statistics.permits_waiting) == (0, 3)
        # two orders still fit: the waiting quotes are not orders
        handles = [queue.submit(resting_buy()) for _ in range(2)]
        assert all([(await handle).ok for handle in handles])

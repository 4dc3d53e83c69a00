"""What ``RateLimitedOrderQueue.statistics()`` reports says the same thing as its limits.

``max_queued`` bounds the orders and cancels waiting in the lanes; look-up and quote permits wait
in the lanes too but never count toward it. So ``queued`` (and ``queued_per_lane``) count orders
and cancels only, and never read above ``max_queued``; waiting permits are ``permits_waiting``.
"""

from __future__ import annotations

import anyio

from engine import Lane, RateLimit, RateLimitedOrderQueue
from engine.orders import Order
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec

SYMBOLS = [SymbolSpec(symbol="AAPL", price=150, volatility=0.05, volume_per_second=50)]


def resting_buy() -> Order:
    return Order("AAPL", "buy", 1, order_type="limit", limit_price=100, time_in_force="ioc")


def quiet_venue() -> SimulatedVenue:
    return SimulatedVenue(SYMBOLS, seed=3, latency=LatencyModel.zero(), cash=1_000_000)


async def test_waiting_quotes_are_permits_not_queued_orders() -> None:
    limit = RateLimit(1, 10.0, quote_weight=1)
    async with (
        quiet_venue() as venue,
        RateLimitedOrderQueue(venue, limits=[limit], max_queued=2, when_full="refuse") as queue,
        anyio.create_task_group() as group,
    ):
        for _ in range(4):  # the first takes the window; three wait in the lanes
            group.start_soon(queue.quote, "AAPL")
        await anyio.sleep(1.0)
        handles = [queue.submit(resting_buy()) for _ in range(2)]  # the queue is now full
        statistics = queue.statistics()
        assert statistics.queued == 2
        assert statistics.queued <= 2  # never above max_queued
        assert statistics.permits_waiting == 3
        assert dict(statistics.queued_per_lane) == {"CANCEL": 0, "COMPLETION": 0, "ROUTINE": 2}
        assert all([(await handle).ok for handle in handles])
    assert queue.statistics().permits_waiting == 0


async def test_a_waiting_look_up_is_a_permit_in_its_lane_and_leaves_when_granted() -> None:
    limit = RateLimit(1, 10.0, lookup_weight=1)
    async with (
        quiet_venue() as venue,
        RateLimitedOrderQueue(venue, limits=[limit], safety_margin=0.0) as queue,
    ):
        first = await queue.submit(resting_buy())  # the window is full for 10 s
        routine = queue.submit(resting_buy())
        async with anyio.create_task_group() as group:
            group.start_soon(queue.lookup, first.client_order_id)
            await anyio.sleep(1.0)
            statistics = queue.statistics()
            assert (statistics.queued, statistics.permits_waiting) == (1, 1)
            assert dict(statistics.queued_per_lane)["COMPLETION"] == 0
            assert "permits waiting: 1" in repr(queue)
        assert queue.statistics().permits_waiting == 0
        await routine
    assert queue.statistics().lookups == 1


async def test_a_caller_that_stops_waiting_takes_its_permit_out_of_the_count() -> None:
    limit = RateLimit(1, 10.0, quote_weight=1)
    async with (
        quiet_venue() as venue,
        RateLimitedOrderQueue(venue, limits=[limit], safety_margin=0.0) as queue,
    ):
        await queue.quote("AAPL")
        with anyio.move_on_after(1.0):
            await queue.quote("AAPL", lane=Lane.COMPLETION)
        statistics = queue.statistics()
    assert (statistics.queued, statistics.permits_waiting, statistics.quotes) == (0, 0, 1)

"""Every request the engine makes counts against the venue's limits (DESIGN.md promise 2).

The venue counts order look-ups and quotes as well as submits and cancels. The engine is told the
same weights and a limit equal to the venue's; with jittered latency and dropped acks (so unknown
outcomes are looked up), the venue must never see the limit exceeded, in any rolling window.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import anyio
import pytest

from engine import Lane, RateLimit, RateLimitedOrderQueue, RequestKind
from engine._twap.report import ExecutionReport
from engine.clock import run_virtual
from engine.errors import RateLimitedError
from engine.execution_engine import ExecutionEngine
from engine.orders import Order
from engine.rate_limits import max_window_count
from gateways.simulated import FaultPlan, LatencyModel, SimulatedVenue, SymbolSpec, VenueRateLimit
from tests.test_promises_engine import venue_fills

LIMIT, PERIOD = 12, 5.0
WEIGHTS = {"submit": 1, "cancel": 1, "get_order": 1, "get_quote": 1}
ENGINE_LIMIT = RateLimit(LIMIT, PERIOD, submit_weight=1, cancel_weight=1, lookup_weight=1, quote_weight=1)
# the spread of one-way latency (0.04 s) stays within the queue's default safety margin (0.05 s)
JITTERED = LatencyModel(request=0.02, request_jitter=0.04, event=0.01, event_jitter=0.05)
SYMBOLS = [
    SymbolSpec(symbol="AAPL", price=150, volatility=0.05, volume_per_second=50),
    SymbolSpec(symbol="MSFT", price=300, volatility=0.05, volume_per_second=20, displayed_size=200),
]
PARENTS: list[dict[str, Any]] = [
    {"symbol": "AAPL", "quantity": 900, "side": "buy", "num_slices": 8, "style": "passive"},
    {"symbol": "MSFT", "quantity": 700, "side": "sell", "num_slices": 6, "style": "mid"},
    {"symbol": "AAPL", "quantity": 400, "side": "sell", "num_slices": 5, "style": "touch"},
    {"symbol": "MSFT", "quantity": 300, "side": "buy", "num_slices": 4, "style": "market"},
]
INTERVALS = [1.0, 2.0, 1.0, 1.0]


def make_venue(seed: int) -> SimulatedVenue:
    return SimulatedVenue(
        SYMBOLS,
        seed=seed,
        latency=JITTERED,
        faults=FaultPlan(drop_ack=0.3),
        rate_limits=[VenueRateLimit(limit=LIMIT, period=PERIOD, weights=WEIGHTS)],
        cash=10_000_000,
        positions={"AAPL": 100_000, "MSFT": 100_000},
        request_timeout=0.5,
    )


async def run_engine(seed: int) -> tuple[SimulatedVenue, list[ExecutionReport]]:
    venue = make_venue(seed)
    async with venue, ExecutionEngine(venue, seed=seed, limits=[ENGINE_LIMIT], settle_timeout=5.0) as engine:
        handles = [
            engine.submit_twap(**params, interval_seconds=interval)
            for params, interval in zip(PARENTS, INTERVALS, strict=True)
        ]
        reports = [await handle.wait() for handle in handles]
        await anyio.sleep(5.0)  # let late events reach the venue's journal
    return venue, reports


@pytest.mark.parametrize("seed", [1, 6, 10])
def test_look_ups_and_quotes_count_so_the_engine_never_exceeds_a_venue_that_counts_every_request(
    seed: int,
) -> None:
    venue, reports = run_virtual(run_engine, seed)
    counted = [request for request in venue.request_log if request.outcome.counted]
    kinds = Counter(request.kind for request in counted)
    # the run really looked orders up and asked for quotes, not only submits and cancels
    assert kinds["get_order"] > 0
    assert kinds["get_quote"] > 0
    assert kinds["submit"] > 0
    assert venue.statistics().rate_limit_violations == 0
    times = [request.timestamp for request in counted]
    weights = [request.weights[0] for request in counted]
    assert max_window_count(times, PERIOD, weights) <= LIMIT
    fills = venue_fills(venue)
    for report in reports:
        assert report.final_state.is_final
        ids = [cid for s in report.slices for cid in s.child_ids] + list(report.completion_child_ids)
        at_venue = sum((fills.get(cid, Decimal(0)) for cid in ids), Decimal(0))
        assert at_venue <= report.quantity
        assert report.filled_quantity == at_venue


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

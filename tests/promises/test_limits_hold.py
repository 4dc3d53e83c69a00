"""Promise 2: venue limits hold. No rolling window ever holds more than a limit allows, counted
when sent and at the venue, and a busy sender still uses at least 99% of the limit.

From the limit group's arithmetic, through the queue (submits, sends, cancels, weighted limits), to
a whole engine whose look-ups and quotes the venue counts as well.
"""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    ExecutionReport,
    LimitShape,
    OrderResultStatus,
    RateLimit,
    RateLimitedOrderQueue,
    RequestKind,
)
from engine._queue.limits import LimitGroup, TokenBucket
from engine.clock import run_virtual
from engine.execution_engine import ExecutionEngine
from engine.rate_limits import max_window_count
from gateways.simulated import FaultPlan, LatencyModel, SimulatedVenue, SymbolSpec, VenueRateLimit
from tests.engine.queue_venues import arrival_times, make_venue, resting_order
from tests.promises.engine_runs import venue_fills

# -- the limit group: what it lets through ---------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    limits=st.lists(
        st.tuples(st.integers(min_value=1, max_value=30), st.sampled_from([1.0, 2.5, 10.0, 60.0])),
        min_size=1,
        max_size=3,
    ),
    weights=st.lists(st.integers(min_value=1, max_value=3), min_size=50, max_size=300),
)
def test_sending_whenever_the_group_allows_never_exceeds_any_window(
    limits: list[tuple[int, float]], weights: list[int]
) -> None:
    rate_limits = [RateLimit(n, t, per_request_weight=True) for n, t in limits]
    weights = [min(w, *(n for n, _ in limits)) for w in weights]
    group = LimitGroup(rate_limits, safety_margin=0.0)
    time, times = 0.0, []
    for weight in weights:
        time = group.ready_at(RequestKind.SUBMIT, weight, time)
        group.record(RequestKind.SUBMIT, weight, time)
        times.append(time)
    for limit in rate_limits:
        # half-open windows: a zero margin allows sends exactly one period apart
        assert max_window_count(times, limit.period - 1e-9, weights) <= limit.limit


def test_a_greedy_sender_uses_at_least_99_percent_of_the_limit() -> None:
    group = LimitGroup([RateLimit(100, 60)], safety_margin=0.05)
    time, count = 0.0, 0
    while time < 3600:
        time = group.ready_at(RequestKind.SUBMIT, 1, time)
        group.record(RequestKind.SUBMIT, 1, time)
        count += 1
    assert count / (time / 60 * 100) >= 0.99


@settings(max_examples=40, deadline=None)
@given(
    gaps=st.lists(st.sampled_from([0.0, 0.0, 0.01, 0.3, 1.0, 2.5]), min_size=5, max_size=60),
    late=st.lists(st.booleans(), min_size=60, max_size=60),
)
def test_a_token_bucket_holds_at_the_venue_whatever_the_latency_within_the_margin(
    gaps: list[float], late: list[bool]
) -> None:
    # the venue's bucket drains between arrivals, which differ from sends by up to the margin
    margin = 0.05
    limit = RateLimit(5, 2.0, shape=LimitShape.TOKEN_BUCKET)
    group = LimitGroup([limit], safety_margin=margin)
    venue = TokenBucket(limit)
    time, arrived = 0.0, -math.inf
    for index, gap in enumerate(gaps):
        time = group.ready_at(RequestKind.SUBMIT, 1, time + gap)
        group.record(RequestKind.SUBMIT, 1, time)
        arrived = max(arrived, time + (margin if late[index] else 0.0))  # one connection: in order
        assert venue.ready_at(1, arrived) <= arrived + 1e-9, f"request {index} over the venue's bucket"
        venue.record(1, arrived)


# -- the queue: submits, sends and cancels under one or several limits -----------------------------


async def test_max_orders_per_minute_holds_at_send_and_at_the_venue_and_uses_the_whole_limit() -> None:
    async with (
        make_venue(limits=[VenueRateLimit(limit=100, period=60.0)]) as venue,
        RateLimitedOrderQueue(trading_gateway=venue, max_orders_per_minute=100) as queue,
    ):
        handles = [queue.submit(resting_order()) for _ in range(1000)]
        results = [await handle for handle in handles]
    assert {result.status for result in results} == {OrderResultStatus.ACCEPTED}
    sent = sorted(result.sent_at for result in results if result.sent_at is not None)
    assert max_window_count(sent, 60.0) == 100
    assert max_window_count(arrival_times(venue)[0], 60.0) <= 100
    assert venue.statistics().rate_limit_violations == 0
    # 1000 orders need 10 windows: the last burst leaves 9 windows (plus margins) after the first
    assert sent[-1] - sent[0] == pytest.approx(9 * 60.05, abs=0.01)


async def test_ten_thousand_orders_under_several_weighted_limits_never_violate_the_venue() -> None:
    venue_limits = [
        VenueRateLimit(limit=50, period=10.0, weights={"submit": 1, "cancel": 1}),
        VenueRateLimit(limit=160_000, period=86_400.0, weights={"submit": 1}),
        VenueRateLimit(limit=600, period=60.0, weights={"submit": 2, "cancel": 1, "get_order": 1}),
    ]
    queue_limits = [
        RateLimit(50, 10.0),
        RateLimit(160_000, 86_400.0, cancel_weight=0),
        RateLimit(600, 60.0, submit_weight=2, cancel_weight=1, lookup_weight=1),
    ]
    # a fixed latency keeps the virtual clock's jumps few (one per burst), so 10,000 orders run fast;
    # jittered arrival is covered by the per-minute test above
    steady = LatencyModel(request=0.02, request_jitter=0, event=0, event_jitter=0)
    venue = make_venue(
        limits=venue_limits, latency=steady, faults=FaultPlan(drop_ack=0.01), request_timeout=1.0
    )
    async with venue, RateLimitedOrderQueue(venue, limits=queue_limits) as queue:
        handles = [queue.submit(resting_order()) for _ in range(10_000)]
        await handles[1999]
        cancels = [queue.cancel(handle.client_order_id) for handle in handles[:2000:10]]
        results = [await handle for handle in handles]
        cancel_results = [await handle for handle in cancels]
    assert venue.statistics().rate_limit_violations == 0
    assert all(result.ok for result in results)
    assert all(result.ok and result.sent_at is not None for result in cancel_results)
    assert sum(1 for request in venue.request_log if request.kind == "cancel") == 200
    times, _ = arrival_times(venue)
    for index, limit in enumerate(venue_limits):
        weights = [request.weights[index] for request in venue.request_log if request.outcome.counted]
        assert max_window_count(times, limit.period - 1e-9, weights) <= limit.limit


async def test_concurrent_sends_never_exceed_the_limit_in_any_rolling_window() -> None:
    async with (
        make_venue() as venue,
        RateLimitedOrderQueue(venue, max_orders_per_minute=20) as queue,
        anyio.create_task_group() as group,
    ):
        for _ in range(70):
            group.start_soon(queue.send, resting_order())
    sent = [r.timestamp for r in venue.request_log if r.kind == "submit"]
    assert len(sent) == 70
    assert max_window_count(sent, 60.0) <= 20
    assert venue.statistics().rate_limit_violations == 0


# -- the engine: look-ups and quotes count as well -------------------------------------------------


SYMBOLS = [
    SymbolSpec(symbol="AAPL", price=150, volatility=0.05, volume_per_second=50),
    SymbolSpec(symbol="MSFT", price=300, volatility=0.05, volume_per_second=20, displayed_size=200),
]


LIMIT, PERIOD = 12, 5.0


WEIGHTS = {"submit": 1, "cancel": 1, "get_order": 1, "get_quote": 1}


ENGINE_LIMIT = RateLimit(LIMIT, PERIOD, submit_weight=1, cancel_weight=1, lookup_weight=1, quote_weight=1)


# the spread of one-way latency (0.04 s) stays within the queue's default safety margin (0.05 s)
JITTERED = LatencyModel(request=0.02, request_jitter=0.04, event=0.01, event_jitter=0.05)


PARENTS: list[dict[str, Any]] = [
    {"symbol": "AAPL", "quantity": 900, "side": "buy", "num_slices": 8, "style": "passive"},
    {"symbol": "MSFT", "quantity": 700, "side": "sell", "num_slices": 6, "style": "mid"},
    {"symbol": "AAPL", "quantity": 400, "side": "sell", "num_slices": 5, "style": "touch"},
    {"symbol": "MSFT", "quantity": 300, "side": "buy", "num_slices": 4, "style": "market"},
]


INTERVALS = [1.0, 2.0, 1.0, 1.0]


def counting_venue(seed: int) -> SimulatedVenue:
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
    venue = counting_venue(seed)
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

"""The engine's promises (DESIGN.md 1, 3 and 4), tried against the simulated venue with faults.

Each hypothesis example runs a fresh engine on a fresh virtual-time loop. The truth is the venue's
own journal: what it filled for each child, counted once per trade id. ``PROMISE_EXAMPLES=2000``
in the environment multiplies the example counts for a thorough run (the default keeps the suite
fast).
"""

from __future__ import annotations

import os
from collections import defaultdict
from decimal import Decimal
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine._twap.parent import ParentState
from engine._twap.report import ExecutionReport
from engine.clock import now, run_virtual
from engine.events import OrderFilled
from engine.execution_engine import ExecutionEngine
from engine.orders import OrderSide
from gateways.simulated import FaultPlan, LatencyModel, SimulatedVenue, SymbolSpec

SCALE = max(1, int(os.environ.get("PROMISE_EXAMPLES", "150")) // 150)

SYMBOLS = [
    SymbolSpec(symbol="AAPL", price=150, volatility=0.05, volume_per_second=50),
    SymbolSpec(symbol="MSFT", price=300, volatility=0.05, volume_per_second=20, displayed_size=200),
]


def venue_fills(venue: SimulatedVenue) -> dict[str, Decimal]:
    """Filled quantity per client order id at the venue, each trade counted once."""
    seen: set[str] = set()
    filled: dict[str, Decimal] = defaultdict(Decimal)
    for event in venue.event_log:
        if isinstance(event, OrderFilled) and event.trade_id not in seen:
            seen.add(event.trade_id)
            filled[event.client_order_id] += event.quantity
    return filled


faults = st.builds(
    FaultPlan,
    drop_ack=st.sampled_from([0.0, 0.1, 0.3]),
    duplicate_fill=st.sampled_from([0.0, 0.2, 0.5]),
    reorder_events=st.sampled_from([0.0, 0.2, 0.5]),
    drop_stream=st.sampled_from([0.0, 0.01, 0.05]),
    reject=st.sampled_from([0.0, 0.1]),
    reject_after_accept=st.sampled_from([0.0, 0.1]),
    unavailable=st.sampled_from([0.0, 0.05]),
)

latency = st.builds(
    LatencyModel,
    request=st.sampled_from([0.0, 0.02, 0.2]),
    request_jitter=st.sampled_from([0.0, 0.05, 0.5]),
    event=st.sampled_from([0.0, 0.005, 0.3]),
    event_jitter=st.sampled_from([0.0, 0.01, 0.5]),
)

parent_params = st.fixed_dictionaries(
    {
        "symbol": st.sampled_from(["AAPL", "MSFT"]),
        "side": st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
        "quantity": st.integers(min_value=1, max_value=3000),
        "num_slices": st.integers(min_value=1, max_value=8),
        "interval_seconds": st.sampled_from([1.0, 5.0, 30.0]),
        "style": st.sampled_from(["market", "passive", "mid", "touch"]),
        "rest_fraction": st.sampled_from([0.2, 0.5, 1.0]),
        "offset_ticks": st.sampled_from([0, 3]),
        "size_jitter": st.sampled_from([0.0, 0.3]),
        "time_jitter": st.sampled_from([0.0, 0.4]),
        "seed": st.integers(min_value=0, max_value=1000),
    }
)


async def run_scenario(
    seed: int,
    fault_plan: FaultPlan,
    latency_model: LatencyModel,
    parents: list[dict[str, Any]],
    cancel_after: float | None,
    extra: dict[str, Any],
    request_timeout: float = 1.0,
) -> tuple[list[ExecutionReport], dict[str, Decimal]]:
    venue = SimulatedVenue(
        SYMBOLS,
        seed=seed,
        latency=latency_model,
        faults=fault_plan,
        cash=10_000_000,
        positions={"AAPL": 100_000, "MSFT": 100_000},
        request_timeout=request_timeout,
    )
    async with venue, ExecutionEngine(venue, seed=seed, settle_timeout=5.0, **extra) as engine:
        handles = []
        for params in parents:
            p = dict(params)
            handles.append(engine.submit_twap(p.pop("symbol"), p.pop("quantity"), p.pop("side"), **p))
        if cancel_after is not None:
            await anyio.sleep(cancel_after)
            for handle in handles[::2]:
                handle.cancel()
        reports = [await h.wait() for h in handles]
        with anyio.move_on_after(5.0):
            # Let late events arrive so the venue's journal holds every fill.
            await anyio.sleep(5.0)
        assert now() > 0
    return reports, venue_fills(venue)


def check_no_overfill_and_conservation(reports: list[ExecutionReport], fills: dict[str, Decimal]) -> None:
    for report in reports:
        ids = [cid for s in report.slices for cid in s.child_ids] + list(report.completion_child_ids)
        at_venue = sum((fills.get(cid, Decimal(0)) for cid in ids), Decimal(0))
        # No overfill: the venue never filled a parent's children past the parent's quantity.
        assert at_venue <= report.quantity, (at_venue, report.quantity)
        # Conservation: every fill of every child is counted once, no more, no less.
        assert report.filled_quantity == at_venue, (report.filled_quantity, at_venue)
        assert report.filled_quantity <= report.quantity
        assert report.final_state.is_final


@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    fault_plan=faults,
    latency_model=latency,
    parents=st.lists(parent_params, min_size=1, max_size=3),
    cancel_after=st.one_of(st.none(), st.floats(min_value=0.0, max_value=60.0)),
    policy=st.sampled_from(["finish", "leave_unfilled"]),
    cap=st.sampled_from([None, 1, 50]),
)
def test_no_overfill_and_every_fill_counted_once_under_faults(
    seed: int,
    fault_plan: FaultPlan,
    latency_model: LatencyModel,
    parents: list[dict[str, Any]],
    cancel_after: float | None,
    policy: str,
    cap: int | None,
) -> None:
    extra = {"completion_policy": policy, "max_slippage_bps": cap}
    reports, fills = run_virtual(run_scenario, seed, fault_plan, latency_model, parents, cancel_after, extra)
    check_no_overfill_and_conservation(reports, fills)


@settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    latency_model=latency,
    parents=st.lists(parent_params, min_size=1, max_size=3),
    duplicate_fill=st.sampled_from([0.0, 0.5]),
    reorder_events=st.sampled_from([0.0, 0.5]),
    drop_stream=st.sampled_from([0.0, 0.05]),
    drop_ack=st.sampled_from([0.0, 0.2]),
)
def test_filled_equals_total_when_the_market_allows_and_the_policy_is_finish(
    seed: int,
    latency_model: LatencyModel,
    parents: list[dict[str, Any]],
    duplicate_fill: float,
    reorder_events: float,
    drop_stream: float,
    drop_ack: float,
) -> None:
    fault_plan = FaultPlan(
        duplicate_fill=duplicate_fill,
        reorder_events=reorder_events,
        drop_stream=drop_stream,
        drop_ack=drop_ack,
    )
    extra = {"completion_policy": "finish"}
    reports, fills = run_virtual(run_scenario, seed, fault_plan, latency_model, parents, None, extra)
    check_no_overfill_and_conservation(reports, fills)
    for report in reports:
        assert report.filled_quantity == report.quantity, report.to_dict()
        assert report.final_state is ParentState.COMPLETED


@settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    request_latency=st.sampled_from([0.1, 0.4, 1.0]),
    interval=st.sampled_from([0.5, 1.0, 2.0]),
    rest_fraction=st.sampled_from([0.1, 0.3]),
    style=st.sampled_from(["passive", "mid"]),
    reorder_events=st.sampled_from([0.0, 0.5]),
)
def test_a_deadline_firing_mid_reprice_never_overfills_and_leaves_nothing_resting(
    seed: int,
    request_latency: float,
    interval: float,
    rest_fraction: float,
    style: str,
    reorder_events: float,
) -> None:
    # Slow requests and short intervals: cancels of re-priced children are still in flight when
    # the deadline comes, so the handler must wait for their confirmed fills.
    latency_model = LatencyModel(
        request=request_latency, request_jitter=request_latency, event=0.2, event_jitter=0.3
    )
    parents = [
        {
            "symbol": "AAPL",
            "side": side,
            "quantity": 500,
            "num_slices": 2,
            "interval_seconds": interval,
            "style": style,
            "rest_fraction": rest_fraction,
            "offset_ticks": 0,
        }
        for side in (OrderSide.BUY, OrderSide.SELL)
    ]
    reports, fills = run_virtual(
        run_scenario, seed, FaultPlan(reorder_events=reorder_events), latency_model, parents, None, {}, 10.0
    )
    check_no_overfill_and_conservation(reports, fills)
    for report in reports:
        assert report.filled_quantity == report.quantity
        assert report.final_state is ParentState.COMPLETED


def test_completion_keeps_taking_liquidity_while_the_book_refills() -> None:
    # Two large sells compete for a thin book at the same deadline: each round fills part, the
    # book refills, and both parents finish (found by the property test above).
    parents = [
        {"symbol": "MSFT", "side": OrderSide.SELL, "quantity": q, "num_slices": 1, "style": "passive"}
        for q in (2500, 2501)
    ]
    reports, fills = run_virtual(
        run_scenario, 0, FaultPlan(), LatencyModel.zero(), parents, None, {"completion_policy": "finish"}
    )
    check_no_overfill_and_conservation(reports, fills)
    assert [r.filled_quantity for r in reports] == [2500, 2501]
    assert all(len(r.completion_child_ids) > 2 for r in reports)

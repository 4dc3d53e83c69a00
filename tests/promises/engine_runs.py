"""Fault-injected engine runs against the simulated venue, shared by the promise tests.

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
from hypothesis import strategies as st

from engine import ExecutionReport
from engine.clock import now
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

"""Promise 4: quantity is conserved. What a child leaves unfilled goes back to its parent.

Every fill of every child is counted exactly once, so a parent that may finish fills exactly its
quantity: under duplicated, reordered and dropped events, and while a thin book refills. See
``engine_runs`` for the fault-injected runs and the ``PROMISE_EXAMPLES`` knob.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine._twap.parent import ParentState
from engine.clock import run_virtual
from engine.orders import OrderSide
from gateways.simulated import FaultPlan, LatencyModel
from tests.promises.engine_runs import (
    SCALE,
    check_no_overfill_and_conservation,
    latency,
    parent_params,
    run_scenario,
)


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


def test_completion_keeps_taking_liquidity_while_the_book_refills() -> None:
    # Two large sells compete for a thin book at the same deadline: each round fills part, the
    # book refills, and both parents finish (found by the property test of a finishing policy).
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

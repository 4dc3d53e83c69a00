"""Promise 4: quantity is conserved. What a child leaves unfilled goes back to its parent.

Every fill of every child is counted exactly once, so a parent that may finish fills exactly its
quantity: under duplicated, reordered and dropped events, while a thin book refills, and after the
venue refuses a child. See ``engine_runs`` for the fault-injected runs and the ``PROMISE_EXAMPLES``
knob.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import ExecutionEngine, OrderRejectedError, OrderSide, ParentState, SliceStatus, run_virtual
from engine.events import OrderAck
from engine.orders import Order
from gateways.simulated import FaultPlan, LatencyModel, SimulatedVenue, SymbolSpec
from tests.promises.engine_runs import (
    SCALE,
    check_no_overfill_and_conservation,
    latency,
    parent_params,
    run_scenario,
)

# -- under faults, with a policy that finishes -----------------------------------------------------


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


# -- a rejected child's quantity goes back to its parent -------------------------------------------


class RejectingVenue(SimulatedVenue):
    """A simulated venue that refuses the submits whose numbers (1-based) are listed."""

    def __init__(self, *args: object, reject_submits: set[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # forwarded as given
        self.reject_submits = reject_submits
        self.submits = 0

    async def submit_order(self, order: Order) -> OrderAck:
        self.submits += 1
        if self.submits in self.reject_submits:
            raise OrderRejectedError("refused by the test", client_order_id=order.client_order_id)
        return await super().submit_order(order)


async def test_one_rejected_child_never_stops_the_schedule_and_its_quantity_is_sent_again() -> None:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0)
    venue = RejectingVenue([spec], seed=1, latency=LatencyModel.zero(), cash=10_000_000, reject_submits={2})
    async with venue, ExecutionEngine(venue, seed=1) as engine:
        report = await engine.twap("AAPL", 600, OrderSide.BUY, num_slices=6, interval_seconds=10)
    assert report.slices[1].status is SliceStatus.FAILED
    assert all(s.child_ids for s in report.slices), "every slice was sent"
    assert report.slices[2].sent_quantity == 200, "the rejected 100 rolled into the next slice"
    assert report.filled_quantity == 600
    assert report.final_state is ParentState.COMPLETED
    assert report.aggressive_quantity == 0

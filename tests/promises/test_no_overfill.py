"""Promise 1: no overfill. A parent's filled quantity never exceeds its quantity, under every race.

Fills arriving after a cancel was sent, after its ack, twice or out of order, and a deadline that
falls while re-priced children are being cancelled. See ``engine_runs`` for the fault-injected runs
and the ``PROMISE_EXAMPLES`` knob.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import (
    ExecutionEngine,
    ExecutionReport,
    Order,
    OrderAck,
    ParentState,
    QueueStatistics,
    RateLimitedError,
)
from engine.clock import run_virtual
from engine.orders import OrderSide
from gateways.simulated import FaultPlan, LatencyModel, SimulatedVenue, SymbolSpec
from tests.promises.engine_runs import (
    SCALE,
    check_no_overfill_and_conservation,
    faults,
    latency,
    parent_params,
    run_scenario,
)
from tests.promises.venue_truth import all_orders_sent, venue_fills


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


class _TakesThenSays429(SimulatedVenue):
    """A venue that takes the first send of each order and still answers it with a 429."""

    def __init__(self, **settings: Any) -> None:
        super().__init__([SymbolSpec(symbol="AAPL", price=150)], **settings)
        self.answered_429: set[str] = set()

    async def submit_order(self, order: Order) -> OrderAck:
        ack = await super().submit_order(order)
        if order.client_order_id not in self.answered_429:
            self.answered_429.add(order.client_order_id)
            raise RateLimitedError("the venue counted the answer's look-up", retry_after=0.5)
        return ack


def test_an_order_taken_before_a_429_answer_is_found_by_look_up_not_sent_again() -> None:
    # The resend's "duplicate" answer names our own order: it is looked up and found accepted,
    # not taken for a refusal (a gateway that forgot the order would then never report its fills
    # and the parent would send the quantity again).
    async def main() -> tuple[ExecutionReport, _TakesThenSays429, QueueStatistics]:
        venue = _TakesThenSays429(seed=3, latency=LatencyModel.zero(), cash=10**6)
        async with venue, ExecutionEngine(venue) as engine:
            report = await engine.twap("AAPL", 30, "buy", num_slices=3, interval_seconds=10)
            statistics = engine.queue.statistics()
        return report, venue, statistics

    report, venue, statistics = run_virtual(main)
    filled_at_venue = venue_fills(venue, all_orders_sent(venue)).quantity
    assert filled_at_venue == report.filled_quantity == 30
    assert len(venue.answered_429) == len(all_orders_sent(venue)) == report.child_orders == 3
    assert (statistics.accepted, statistics.rejected, statistics.lookups) == (3, 0, 3)

"""Schedules and the completion window, run end to end on the simulated venue's square-root model.

Every schedule goes through the same runner, queue, monitor and completion: VWAP and
implementation shortfall size their slices by plan, POV by the volume quotes report, the
adaptive schedule rests at the touch and crosses when behind; a completion window works a
remainder in clips no larger than the touch shows, and finishes where one marketable order
cannot.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import ExecutionReport, OrderType, ParentState, TWAPExecutor, run_virtual
from gateways.simulated import SimulatedVenue
from tests.gateways.simulated.models import modelled, venue_of

SIDE = "buy"


def run(spec_options: dict[str, Any], quantity: int, **params: Any) -> tuple[ExecutionReport, list[Any]]:
    """``_run`` on virtual time."""
    return run_virtual(_run, spec_options, quantity, params)


async def _run(spec_options: dict[str, Any], quantity: int, params: dict[str, Any]) -> tuple[
    ExecutionReport, list[Any]
]:
    """One parent on a fresh square-root venue; the report and the venue's orders, in order."""
    venue: SimulatedVenue = venue_of(modelled(**spec_options))
    async with venue:
        executor = TWAPExecutor(venue, seed=3, **params)
        report = await executor.execute("XYZ", quantity, SIDE)
        orders = [await venue.get_order(cid) for cid in dict.fromkeys(
            r.client_order_id for r in venue.request_log if r.kind == "submit" and r.client_order_id
        )]
    return report, orders


def _sizes(report: ExecutionReport) -> list[Decimal]:
    return [line.quantity for line in report.slices]


def test_vwap_slices_follow_the_u_shaped_default_profile() -> None:
    report, _ = run({}, 2_400, num_slices=8, interval_seconds=60, schedule="vwap")
    sizes = _sizes(report)
    assert sum(sizes) == 2_400
    assert sizes[0] == sizes[-1] > 2 * min(sizes)
    assert report.filled_quantity == 2_400


def test_vwap_takes_a_given_volume_profile() -> None:
    report, _ = run({}, 1_000, num_slices=4, interval_seconds=60, schedule="vwap", volume_profile=[1, 2, 3, 4]
    )
    assert _sizes(report) == [100, 200, 300, 400]


def test_implementation_shortfall_front_loads_more_with_higher_risk_aversion() -> None:
    calm, _ = run({}, 2_400, num_slices=8, interval_seconds=60, schedule="is", risk_aversion=0.5)
    urgent, _ = run({}, 2_400, num_slices=8, interval_seconds=60, schedule="is", risk_aversion=4)
    assert _sizes(urgent)[0] > _sizes(calm)[0] > 300
    assert _sizes(urgent)[-1] < _sizes(calm)[-1] < 300


def test_pov_sends_its_participation_of_the_volume_the_quotes_report() -> None:
    # About 20 shares a second trade here (1,000 to 1,400 a minute): 10% of it, as the order can
    # finish at that rate (600 shares in ten minutes).
    report, _ = run(
        {"volume_per_second": 20}, 600, num_slices=10, interval_seconds=60, schedule="pov",
        participation=0.1, min_rate=0.05, max_rate=0.2, complete_at_deadline=False, catch_up=False,
    )
    sent = [line.sent_quantity for line in report.slices[1:4]]
    assert all(100 <= quantity <= 140 for quantity in sent)


def test_pov_rises_to_what_the_deadline_needs_but_never_beyond_its_max_rate() -> None:
    # 5,000 in ten minutes needs about 40% of the volume: the slices take the max rate, 20%.
    report, _ = run(
        {"volume_per_second": 20}, 5_000, num_slices=10, interval_seconds=60, schedule="pov",
        participation=0.1, min_rate=0.05, max_rate=0.2, complete_at_deadline=False, catch_up=False,
    )
    sent = [line.sent_quantity for line in report.slices[1:]]
    assert all(200 <= quantity <= 280 for quantity in sent)
    assert report.filled_quantity < 5_000  # (it follows the volume, not the order's size)


def test_adaptive_rests_at_the_touch_and_crosses_only_when_behind_never_more_than_its_cap() -> None:
    # Resting far below the market nothing fills, so the schedule falls behind.
    report, orders = run({"volatility": 0.0}, 1_000, num_slices=10, interval_seconds=30, schedule="adaptive",
        offset_ticks=10_000, cross_after=2, cross_cap=1, rest_fraction=0.5, complete_at_deadline=False,
    )
    crossing = [o for o in orders if o.order.order_type is OrderType.MARKET]
    resting = [o for o in orders if o.order.order_type is OrderType.LIMIT]
    assert resting
    assert crossing
    assert all(o.order.quantity <= 100 for o in crossing)  # one slice at most
    # Not before more than two slices are missing: the third slice is the first that crosses.
    first_crossing = min(o.created_at for o in crossing)
    assert first_crossing >= report.slices[2].scheduled_at
    assert report.filled_quantity == sum((o.filled_quantity for o in crossing), Decimal(0))


async def _passive_then_complete(window: float | None, quantity: int, displayed: int, volume: int) -> tuple[
    ExecutionReport, list[Any]
]:
    spec = {"displayed_size": displayed, "depth_levels": 5, "volume_per_second": volume, "volatility": 0.0}
    params = {
        "num_slices": 4, "interval_seconds": 300, "style": "passive", "offset_ticks": 10_000,
        "completion_window": window, "max_rate": 0.5,
    }
    return await _run(spec, quantity, params)


def test_one_marketable_remainder_at_the_deadline_takes_only_what_the_book_shows() -> None:
    report, _ = run_virtual(_passive_then_complete, None, 3_000, 100, 5)
    assert report.filled_quantity < 3_000
    assert "unfilled" in " ".join(report.notes)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    quantity=st.integers(min_value=100, max_value=4_000),
    displayed=st.sampled_from([50, 100, 300]),
    volume=st.sampled_from([5, 20, 60]),
)
def test_a_completion_window_finishes_in_clips_within_the_touch_and_never_overfills(
    quantity: int, displayed: int, volume: int
) -> None:
    report, orders = run_virtual(_passive_then_complete, 1_200.0, quantity, displayed, volume)
    clips = [o for o in orders if o.order.client_order_id in report.completion_child_ids]
    assert report.final_state is ParentState.COMPLETED
    assert report.filled_quantity == quantity
    assert sum((o.filled_quantity for o in orders), Decimal(0)) == quantity
    assert clips
    assert all(o.order.quantity <= displayed for o in clips)


def test_a_completion_window_under_leave_unfilled_stops_at_the_cap_and_says_what_was_left() -> None:
    report, _ = run(
        {"displayed_size": 100, "depth_levels": 5, "volume_per_second": 20}, 3_000,
        num_slices=4, interval_seconds=300, style="passive", offset_ticks=10_000, completion_window=1_200,
        max_rate=0.5, max_slippage_bps=10, completion_policy="leave_unfilled",
    )
    assert report.final_state is ParentState.EXPIRED
    assert 0 < report.filled_quantity < 3_000
    assert any(f"left {3_000 - report.filled_quantity} unfilled" in note for note in report.notes)
    # It stopped where the cap blocked a clip, inside its window, not at the deadline.
    assert report.ended_at < report.started_at + 1_200

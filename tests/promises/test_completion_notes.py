"""A parent that stops short after its deadline completion says in its report what was left,
why, and what was tried."""

from __future__ import annotations

from engine import OrderSide, ParentState, TWAPExecutor
from gateways.simulated import FaultPlan, LatencyModel, SimulatedVenue, SymbolSpec


async def test_fruitless_completion_rounds_are_explained_in_the_report() -> None:
    # The venue refuses every order: each completion round fills nothing.
    venue = SimulatedVenue(
        [SymbolSpec(symbol="AAPL", price=150)],
        seed=2,
        latency=LatencyModel.zero(),
        faults=FaultPlan(reject=1.0),
        cash=10_000_000,
    )
    async with venue:
        report = await TWAPExecutor(venue, num_slices=2, interval_seconds=10).execute(
            "AAPL", 100, OrderSide.BUY
        )
    assert report.final_state is ParentState.EXPIRED
    tried = len(report.completion_child_ids)
    assert tried > 0
    explained = [note for note in report.notes if "completion" in note]
    assert explained, report.notes
    note = explained[-1]
    assert "100" in note  # what was left
    assert "reject" in note  # why
    assert str(tried) in note  # what was tried


async def test_a_parent_left_unfilled_without_completion_says_so() -> None:
    venue = SimulatedVenue(
        [SymbolSpec(symbol="AAPL", price=150)],
        seed=2,
        latency=LatencyModel.zero(),
        faults=FaultPlan(reject=1.0),
        cash=10_000_000,
    )
    async with venue:
        report = await TWAPExecutor(
            venue, num_slices=2, interval_seconds=10, complete_at_deadline=False
        ).execute("AAPL", 100, OrderSide.BUY)
    assert report.final_state is ParentState.EXPIRED
    assert any("100 left unfilled" in note and "completion" in note for note in report.notes), report.notes

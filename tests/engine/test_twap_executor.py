"""TWAPExecutor: the documented usage, limit slices with confirmed re-pricing, limits, refusals.

A seed's byte-identical report is tried in ``tests/promises/test_deterministic_backtests.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from engine import (
    InvalidInputError,
    OrderSide,
    ParentState,
    QueueClosedError,
    SliceStatus,
    TWAPExecutor,
    UnknownSymbolError,
)
from engine.events import ExecutionEvent
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec


def still_venue(volume_per_second: int = 100) -> SimulatedVenue:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0, volume_per_second=volume_per_second)
    return SimulatedVenue([spec], seed=3, latency=LatencyModel(), cash=10_000_000, positions={"AAPL": 10_000})


async def test_the_documented_usage_fills_the_order_in_ten_slices_a_minute_apart() -> None:
    async with SimulatedVenue.demo(seed=7) as gateway:
        executor = TWAPExecutor(trading_gateway=gateway, num_slices=10, interval_seconds=60)
        report = await executor.execute(symbol="AAPL", total_quantity=1000, side=OrderSide.BUY)
    assert report.filled_quantity == 1000
    assert report.avg_price is not None
    assert f"{report.avg_price:.2f}"
    assert report.final_state is ParentState.COMPLETED
    assert [s.scheduled_at - report.started_at for s in report.slices] == [60.0 * i for i in range(10)]
    assert all(s.status is SliceStatus.FILLED and s.filled_quantity == 100 for s in report.slices)
    assert report.arrival_price is not None
    assert report.slippage_bps is not None
    assert report.fees > 0


async def test_a_passive_slice_is_repriced_only_after_its_cancel_is_confirmed() -> None:
    venue = still_venue()
    async with venue:
        executor = TWAPExecutor(venue, num_slices=2, interval_seconds=60, style="passive", rest_fraction=0.25)

        async def move_market() -> None:
            await anyio.sleep(5)
            venue.set_quote("AAPL", bid="151.00", ask="151.04")

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(move_market)
            report = await executor.execute("AAPL", 200, "buy", complete_at_deadline=False)
    first = report.slices[0]
    assert len(first.child_ids) >= 2, "the resting child was re-priced"
    requests = [(r.kind, r.client_order_id) for r in venue.request_log]
    cancel_at = requests.index(("cancel", first.child_ids[0]))
    replace_at = requests.index(("submit", first.child_ids[1]))
    assert cancel_at < replace_at
    assert venue.statistics().open_orders == 0
    assert report.filled_quantity <= 200


async def test_the_parent_never_trades_beyond_its_limit_price() -> None:
    venue = still_venue()
    async with venue:
        executor = TWAPExecutor(venue, num_slices=4, interval_seconds=10)
        report = await executor.execute("AAPL", 400, "buy", limit_price="149.00", complete_at_deadline=False)
    assert report.filled_quantity == 0
    assert all(s.status is SliceStatus.SKIPPED for s in report.slices)
    assert all(s.note is not None and "limit" in s.note for s in report.slices)
    assert report.final_state is ParentState.EXPIRED


async def test_a_small_order_gets_fewer_slices_and_the_report_says_so() -> None:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0, min_quantity=30)
    venue = SimulatedVenue([spec], seed=3, latency=LatencyModel.zero(), cash=10_000_000)
    async with venue:
        report = await TWAPExecutor(venue, num_slices=10, interval_seconds=10).execute("AAPL", 100, "buy")
    assert len(report.slices) == 3
    assert report.requested_slices == 10
    assert any("3 planned" in note for note in report.notes)
    assert report.filled_quantity == 100


async def test_bad_input_is_refused_by_name_and_nothing_is_sent() -> None:
    venue = still_venue()
    async with venue:
        executor = TWAPExecutor(venue, num_slices=4, interval_seconds=10)
        with pytest.raises(UnknownSymbolError):
            await executor.execute("NOPE", 10, "buy")
        with pytest.raises(InvalidInputError, match="total_quantity"):
            await executor.execute("AAPL", float("nan"), "buy")
        with pytest.raises(InvalidInputError, match="side"):
            await executor.execute("AAPL", 10, "short")
        with pytest.raises(InvalidInputError, match="size_jitter"):
            await executor.execute("AAPL", 10, "buy", size_jitter=1.5)
        with pytest.raises(InvalidInputError, match="style"):
            await executor.execute("AAPL", 10, "buy", style="iceberg")
    with pytest.raises(InvalidInputError, match="interval_seconds"):
        TWAPExecutor(venue, num_slices=4, interval_seconds=-1)
    assert venue.statistics().orders == 0
    assert not [r for r in venue.request_log if r.kind == "submit"]


async def test_an_execution_cancelled_from_outside_leaves_no_order_resting() -> None:
    venue = still_venue()
    async with venue:
        executor = TWAPExecutor(trading_gateway=venue, num_slices=10, interval_seconds=10)
        with anyio.move_on_after(25) as outer:
            await executor.execute("AAPL", 1000, "buy", style="passive", offset_ticks=500)
        assert outer.cancelled_caught
        statistics = venue.statistics()
    assert statistics.orders >= 3
    assert statistics.open_orders == 0


class BreakingStreamVenue(SimulatedVenue):
    """A simulated venue whose event stream breaks with an unexpected error at t = 15 s."""

    async def events(self, after_sequence: int = 0) -> AsyncIterator[ExecutionEvent]:
        with anyio.move_on_after(15):
            async for event in super().events(after_sequence=after_sequence):
                yield event
        raise RuntimeError("event decoder bug")


async def test_a_failed_monitor_still_lets_the_execution_cancel_its_resting_child() -> None:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0, volume_per_second=50)
    venue = BreakingStreamVenue([spec], seed=1, latency=LatencyModel.zero(), cash=10**9)
    executor = TWAPExecutor(
        venue, num_slices=10, interval_seconds=10, style="passive", offset_ticks=500, rest_fraction=1.0
    )
    async with venue:
        with pytest.raises(ExceptionGroup) as caught:
            await executor.execute(symbol="AAPL", total_quantity=1000, side="buy")
        assert caught.group_contains(RuntimeError, match="event decoder bug")
        assert not caught.group_contains(QueueClosedError)
        assert venue.statistics().open_orders == 0

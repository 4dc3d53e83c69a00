"""Deadline completion: settle resting children first, send only the confirmed rest, honour the cap."""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest

from engine import (
    AggressiveCompletionHandler,
    CompletionPolicy,
    ExecutionMonitor,
    InvalidInputError,
    Lane,
    Order,
    ParentState,
    RateLimitedOrderQueue,
    TWAPExecutor,
)
from engine._twap.child import ChildOrder
from engine._twap.parent import ParentOrder
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec


def still_venue() -> SimulatedVenue:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0, volume_per_second=100)
    return SimulatedVenue([spec], seed=5, latency=LatencyModel(), cash=10_000_000, positions={"AAPL": 10_000})


async def test_at_the_deadline_a_passive_parent_is_finished_with_marketable_orders() -> None:
    venue = still_venue()
    async with venue:
        # Resting far below the market: nothing fills until the deadline.
        executor = TWAPExecutor(venue, num_slices=3, interval_seconds=20, style="passive", offset_ticks=100)
        report = await executor.execute("AAPL", 300, "buy")
    assert report.final_state is ParentState.COMPLETED
    assert report.filled_quantity == 300
    assert report.aggressive_quantity == 300
    assert report.completion_child_ids
    assert venue.statistics().open_orders == 0
    # The resting children were all cancelled before the completion order went out.
    requests = [(r.kind, r.client_order_id) for r in venue.request_log]
    first_completion = requests.index(("submit", report.completion_child_ids[0]))
    slice_children = [cid for s in report.slices for cid in s.child_ids]
    assert ("cancel", slice_children[-1]) in requests[:first_completion]


async def test_a_slippage_cap_that_blocks_completion_leaves_the_rest_unfilled_and_says_so() -> None:
    venue = still_venue()
    async with venue:
        executor = TWAPExecutor(
            venue,
            num_slices=2,
            interval_seconds=20,
            style="passive",
            offset_ticks=100,
            max_slippage_bps=10,
            completion_policy="leave_unfilled",
        )

        async def run_away() -> None:
            await anyio.sleep(30)
            venue.set_quote("AAPL", bid="160.00", ask="160.02")

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(run_away)
            report = await executor.execute("AAPL", 200, "buy")
    assert report.filled_quantity == 0
    assert report.final_state is ParentState.EXPIRED
    assert any("slippage cap" in note for note in report.notes)
    assert report.implementation_shortfall is not None
    assert report.implementation_shortfall > 0, "the missed move counts as cost"


async def test_the_finish_policy_completes_even_past_the_cap() -> None:
    venue = still_venue()
    async with venue:
        executor = TWAPExecutor(
            venue,
            num_slices=2,
            interval_seconds=20,
            style="passive",
            offset_ticks=100,
            max_slippage_bps=10,
            completion_policy=CompletionPolicy.FINISH,
        )

        async def run_away() -> None:
            await anyio.sleep(30)
            venue.set_quote("AAPL", bid="160.00", ask="160.02")

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(run_away)
            report = await executor.execute("AAPL", 200, "buy")
    assert report.filled_quantity == 200
    assert report.final_state is ParentState.COMPLETED
    assert report.avg_price is not None
    assert report.avg_price >= Decimal(160)


async def test_the_handler_works_on_its_own_with_a_queue_and_a_monitor() -> None:
    venue = still_venue()
    async with venue, RateLimitedOrderQueue(venue) as queue, ExecutionMonitor(venue) as monitor:
        parent = ParentOrder(
            parent_id="P",
            symbol="AAPL",
            side=Order("AAPL", "sell", 1).side,
            quantity=Decimal(50),
            instrument=venue.instrument("AAPL"),
            created_at=0.0,
        )
        monitor.track(parent)
        monitor.transition("P", ParentState.WORKING)
        resting = Order("AAPL", "sell", 30, order_type="limit", limit_price="200.00", client_order_id="REST1")
        monitor.add_child("P", ChildOrder(order=resting, slice_index=0))
        assert (await queue.submit(resting, lane=Lane.ROUTINE)).ok
        handler = AggressiveCompletionHandler(venue, queue, monitor)
        monitor.transition("P", ParentState.COMPLETING)
        outcome = await handler.complete("P", arrival_price=Decimal(150))
    assert outcome.remainder == 50, "the resting 30 came back once its cancel was confirmed"
    assert outcome.filled == 50
    assert parent.state is ParentState.COMPLETED


def test_bad_settings_are_refused_by_name() -> None:
    venue = still_venue()
    queue = RateLimitedOrderQueue(venue)
    monitor = ExecutionMonitor(venue)
    with pytest.raises(InvalidInputError, match="max_slippage_bps"):
        AggressiveCompletionHandler(venue, queue, monitor, max_slippage_bps=-1)
    with pytest.raises(InvalidInputError, match="completion_policy"):
        AggressiveCompletionHandler(venue, queue, monitor, policy="hope")


async def test_deadline_completion_never_trades_beyond_the_parent_limit_price() -> None:
    venue = still_venue()
    async with venue:
        executor = TWAPExecutor(venue, num_slices=2, interval_seconds=10, completion_policy="finish")
        report = await executor.execute("AAPL", 200, "buy", limit_price="149.00")
    assert report.filled_quantity == 0
    assert report.completion_child_ids, "the completion tried, at the limit"
    assert any("limit price 149.00" in note for note in report.notes)
    assert report.final_state is ParentState.EXPIRED
    assert venue.statistics().open_orders == 0

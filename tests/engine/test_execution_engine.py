"""The engine as users embed it: background parents, cancellation, failures, plans."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import anyio
import anyio.abc
import pytest

from engine import (
    EngineError,
    ExecutionEngine,
    InvalidInputError,
    OrderSide,
    ParentState,
    QueueClosedError,
    RebalancingPlanner,
    SliceStatus,
    TWAPHandle,
    UnknownSymbolError,
    run_virtual,
)
from gateways.simulated import LatencyModel, SimulatedVenue, SymbolSpec


def still_venue(**kwargs: object) -> SimulatedVenue:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0, volume_per_second=50)
    return SimulatedVenue([spec], seed=1, latency=LatencyModel.zero(), cash=10_000_000, **kwargs)  # type: ignore[arg-type]  # test options


async def test_cancelling_a_parent_stops_new_slices_and_cancels_its_resting_children() -> None:
    venue = still_venue()
    async with venue, ExecutionEngine(venue, seed=2) as engine:
        # Far from the market: the children rest and never fill.
        handle = engine.submit_twap(
            "AAPL",
            1000,
            "buy",
            num_slices=10,
            interval_seconds=10,
            style="passive",
            offset_ticks=500,
            rest_fraction=1.0,
        )
        await anyio.sleep(35)
        resting = handle.status().open_children
        handle.cancel()
        report = await handle.wait()
        cancelled_at = 35.0
        statistics = venue.statistics()
    assert resting == 1
    assert report.final_state is ParentState.CANCELLED
    assert [s.status for s in report.slices[4:]] == [SliceStatus.NOT_SENT] * 6
    # every slice of the schedule has its line, the ones never reached too
    assert [s.index for s in report.slices] == list(range(10))
    first = report.slices[0].scheduled_at
    assert [s.scheduled_at - first for s in report.slices] == [10.0 * i for i in range(10)]
    assert sum(s.quantity for s in report.slices) == 1000
    assert all(s.sent_at is None or s.sent_at <= cancelled_at for s in report.slices)
    assert statistics.open_orders == 0
    assert statistics.cancels >= 4
    assert report.filled_quantity == 0


async def test_a_submitted_twap_reports_progress_then_its_report() -> None:
    venue = still_venue()
    async with venue, ExecutionEngine(venue, seed=3) as engine:
        handle = engine.submit_twap("AAPL", 400, OrderSide.SELL, num_slices=4, interval_seconds=60)
        await anyio.sleep(61)
        halfway = handle.status()
        report = await handle.wait()
    assert halfway.state is ParentState.WORKING
    assert halfway.filled == 200
    assert halfway.share_scheduled == Decimal("0.5")
    assert halfway.behind == 0
    assert handle.done()
    assert report.filled_quantity == 400
    assert report.side is OrderSide.SELL


async def test_bad_input_is_refused_by_name_before_anything_is_sent() -> None:
    venue = still_venue()
    async with venue, ExecutionEngine(venue) as engine:
        with pytest.raises(UnknownSymbolError):
            engine.submit_twap("NOPE", 10, "buy")
        with pytest.raises(InvalidInputError, match="side"):
            engine.submit_twap("AAPL", 10, "hold")
        with pytest.raises(InvalidInputError, match=r"^quantity=") as caught:  # the engine's own name
            await engine.twap("AAPL", -5, "buy")
        assert caught.value.field == "quantity"
        with pytest.raises(InvalidInputError, match="num_slices"):
            await engine.twap("AAPL", 10, "buy", num_slices=0)
        assert venue.statistics().orders == 0
        assert engine.statistics().running_parents == 0


async def test_a_plan_runs_every_trade_and_sells_first_when_buys_need_the_cash() -> None:
    specs = [
        SymbolSpec(symbol="AAPL", price=150, volatility=0.0),
        SymbolSpec(symbol="MSFT", price=300, volatility=0.0),
        SymbolSpec(symbol="GOOGL", price=140, volatility=0.0),
    ]
    venue = SimulatedVenue(
        specs, seed=4, latency=LatencyModel.zero(), cash=0, positions={"AAPL": 100, "MSFT": 50}
    )
    plan = RebalancingPlanner().create_plan(
        current_positions={"AAPL": 100, "MSFT": 50},
        target_weights={"AAPL": 0.4, "MSFT": 0.3, "GOOGL": 0.3},
        prices={"AAPL": 150, "MSFT": 300, "GOOGL": 140},
        cash=0,
    )
    async with venue, ExecutionEngine(venue, seed=4, num_slices=3, interval_seconds=10) as engine:
        result = await engine.execute_plan(plan)
    assert result.sells_first
    assert len(result.reports) == len(plan.trades)
    assert result.all_filled
    sells = [r for r in result.reports if r.side is OrderSide.SELL]
    buys = [r for r in result.reports if r.side is OrderSide.BUY]
    assert max(r.ended_at for r in sells) <= min(r.started_at for r in buys)
    assert result.to_dict()["fully_filled"] == len(plan.trades)


async def test_the_engine_and_its_parts_show_their_state() -> None:
    venue = still_venue()
    async with venue, ExecutionEngine(venue, seed=6) as engine:
        handle = engine.submit_twap("AAPL", 200, "buy", num_slices=2, interval_seconds=10)
        assert "running=1" in repr(engine)
        report = await handle.wait()
        assert engine.statistics().finished_parents == 1
        assert engine.statistics().running_parents == 0
        monitor = engine.monitor.statistics()
        assert monitor.events >= 4
        assert monitor.open_parents == 0, "a finished parent is forgotten by the monitor"
        assert handle.status().filled == 200, "the last status outlives the monitor's record"
    assert report.child_orders == 2


async def test_queue_options_reach_the_queue_and_an_unknown_one_is_refused_by_name() -> None:
    venue = still_venue()
    options = {"max_in_flight": 3, "when_full": "refuse"}
    async with venue, ExecutionEngine(venue, queue_options=options) as engine:
        assert engine.queue._dispatcher.max_in_flight == 3
        assert engine.queue._intake.refuses_when_full
    with pytest.raises(InvalidInputError) as caught:
        ExecutionEngine(venue, queue_options={"max_inflight": 3})
    assert caught.value.field == "queue_options.max_inflight"
    with pytest.raises(InvalidInputError) as caught:
        ExecutionEngine(venue, queue_options={"max_in_flight": 0})
    assert caught.value.field == "queue_options.max_in_flight"


async def _jittered_schedules() -> list[list[float]]:
    venue = still_venue()
    settings: dict[str, Any] = {"time_jitter": 0.4, "num_slices": 5, "interval_seconds": 10}
    async with venue, ExecutionEngine(venue, **settings) as engine:  # ids unseeded: random
        first = await engine.start_twap("AAPL", 100, "buy", seed=5)
        second = await engine.start_twap("AAPL", 100, "buy", seed=5)
        reports = [await first.wait(), await second.wait()]
    return [[s.scheduled_at - r.started_at for s in r.slices] for r in reports]


def test_parents_sharing_a_seed_jitter_differently_and_each_reproducibly() -> None:
    first, second = run_virtual(_jittered_schedules)
    assert first != second, "two parents with one seed must not move in lockstep"
    assert run_virtual(_jittered_schedules) == [first, second]


async def test_parents_sharing_a_symbol_and_a_slice_clock_all_count_every_mid_sampled() -> None:
    # One quote request per slice time serves them all: the parent that asks waits for it, the
    # others take its answer when it comes. Every parent must still count every mid.
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.5)
    venue = SimulatedVenue(
        [spec], seed=4, latency=LatencyModel.zero(), cash=10**9, positions={"AAPL": 10**6}
    )
    async with venue, ExecutionEngine(venue, seed=2, num_slices=5, interval_seconds=60) as engine:
        start = anyio.current_time() + 1
        handles = [
            await engine.start_twap("AAPL", 500, OrderSide.BUY if i % 2 else OrderSide.SELL, start_time=start)
            for i in range(20)
        ]
        reports = [await handle.wait() for handle in handles]
    assert len({report.interval_twap for report in reports}) == 1
    assert len({report.end_price for report in reports}) == 1
    assert reports[0].end_price != reports[0].arrival_price  # the last sample came in
    assert all(report.filled_quantity == 500 for report in reports)


def _parent_tasks_alive() -> list[str]:
    return [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("twap ") and not t.done()]


async def test_leaving_the_engine_cancels_running_parents_and_their_resting_children() -> None:
    venue = still_venue()
    async with venue:
        async with ExecutionEngine(venue, seed=3) as engine:
            handle = engine.submit_twap(
                "AAPL", 1000, "buy", num_slices=10, interval_seconds=10, style="passive", offset_ticks=500
            )
            await anyio.sleep(25)
            assert handle.status().open_children == 1
        assert handle.done()
        report = await handle.wait()
        assert report.final_state is ParentState.CANCELLED
        assert venue.statistics().open_orders == 0
        assert _parent_tasks_alive() == []


async def test_an_outer_cancellation_of_the_engine_leaves_no_parent_task_and_no_order_resting() -> None:
    venue = still_venue()
    async with venue:
        with anyio.move_on_after(25) as outer:
            async with ExecutionEngine(venue, seed=4) as engine:
                options: dict[str, Any] = {"style": "passive", "offset_ticks": 500}
                handles = [
                    engine.submit_twap("AAPL", 500, side, num_slices=10, interval_seconds=10, **options)
                    for side in ("buy", "sell")
                ]
                await anyio.sleep(1_000)
        assert outer.cancelled_caught
        assert all(h.done() for h in handles)
        assert venue.statistics().open_orders == 0
        assert _parent_tasks_alive() == []


class FailingStreamVenue(SimulatedVenue):
    """A simulated venue whose event stream breaks with an unexpected error after some events."""

    def __init__(self, *args: object, fail_after: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # forwarded as given
        self.fail_after = fail_after

    async def events(self, after_sequence: int = 0) -> Any:
        delivered = 0
        async for event in super().events(after_sequence=after_sequence):
            if delivered == self.fail_after:
                raise RuntimeError("event stream broke")
            delivered += 1
            yield event


async def test_an_engine_task_failing_stops_every_parent_and_raises() -> None:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0, volume_per_second=50)
    venue = FailingStreamVenue([spec], seed=1, latency=LatencyModel.zero(), cash=10_000_000, fail_after=6)
    handles: list[TWAPHandle] = []

    async def run_engine() -> None:
        async with ExecutionEngine(venue, seed=5) as engine:
            handles.extend(
                engine.submit_twap("AAPL", 500, "buy", num_slices=10, interval_seconds=10) for _ in range(3)
            )
            await anyio.sleep(1_000)

    async with venue:
        with pytest.raises(ExceptionGroup) as caught:
            await run_engine()
        assert caught.group_contains(RuntimeError, match="event stream broke")
        assert all(h.done() for h in handles)
        assert _parent_tasks_alive() == []


async def test_a_running_parent_holds_only_the_children_of_slices_not_yet_over() -> None:
    venue = still_venue()
    async with venue, ExecutionEngine(venue, seed=6) as engine:
        handle = engine.submit_twap("AAPL", 1000, "buy", num_slices=10, interval_seconds=10)
        await anyio.sleep(45)
        parent = engine.monitor.parent(handle.parent_id)
        held = [child.slice_index for child in parent.children]
        counted = parent.child_count
        report = await handle.wait()
    # At the fifth slice the first four were over: their children live on only in the totals.
    assert held == [4]
    assert counted == 5
    assert report.child_orders == 10
    assert [len(s.child_ids) for s in report.slices] == [1] * 10
    assert all(s.status is SliceStatus.FILLED and s.filled_quantity == 100 for s in report.slices)
    assert report.filled_quantity == sum(s.filled_quantity for s in report.slices) == 1000
    assert report.fees == venue.statistics().fees_paid


async def test_a_cancel_while_a_child_is_being_sent_waits_for_its_outcome_and_books_it() -> None:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0)
    venue = SimulatedVenue(
        [spec], seed=1, latency=LatencyModel(request=1.0, request_jitter=0.0, event=0.0), cash=10_000_000
    )
    async with venue, ExecutionEngine(venue, seed=7) as engine:
        handle = await engine.start_twap("AAPL", 1000, "buy", num_slices=10, interval_seconds=10)
        # The first child's submit is at the venue for a second: cancel halfway through it.
        await anyio.sleep(0.5)
        assert handle.status().open_children == 1
        handle.cancel()
        report = await handle.wait()
    first = report.slices[0]
    assert report.final_state is ParentState.CANCELLED
    assert first.sent_at is not None, "the send was seen through and its time booked"
    assert first.status is SliceStatus.FILLED
    assert report.filled_quantity == first.filled_quantity == 100
    assert [s.status for s in report.slices[1:]] == [SliceStatus.NOT_SENT] * 9
    assert venue.statistics().orders == 1


async def test_a_deadline_falling_while_a_child_is_being_sent_waits_for_its_outcome() -> None:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0)
    venue = SimulatedVenue(
        [spec], seed=1, latency=LatencyModel(request=1.0, request_jitter=0.0, event=0.0), cash=10_000_000
    )
    async with venue, ExecutionEngine(venue, seed=8) as engine:
        # One slice, due at once; the deadline (half a second later) falls while its submit is out.
        report = await engine.twap("AAPL", 100, "buy", num_slices=1, interval_seconds=0.5)
    only = report.slices[0]
    assert only.sent_at is not None, "the send was seen through and its time booked"
    assert only.status is SliceStatus.FILLED
    assert report.filled_quantity == 100
    assert report.aggressive_quantity == 0
    assert report.final_state is ParentState.COMPLETED
    assert venue.statistics().orders == 1


def _slow_venue() -> SimulatedVenue:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0)
    latency = LatencyModel(request=1.0, request_jitter=0.0, event=0.0)
    return SimulatedVenue([spec], seed=1, latency=latency, cash=10**9)


async def test_a_cancel_in_the_very_pass_that_wakes_a_slice_sends_nothing_more() -> None:
    venue = _slow_venue()
    async with venue, ExecutionEngine(venue, seed=7) as engine:
        handle = await engine.start_twap("AAPL", 1000, "buy", num_slices=10, interval_seconds=10)
        deadline = handle.status().deadline
        assert deadline is not None
        second_slice = deadline - 90  # ten slices 10 s apart; the deadline ends the last interval
        await anyio.sleep(5)
        # Set after the slice's own alarm, for the same instant: it runs in the same loop pass,
        # once the parent's wait is already over.
        asyncio.get_running_loop().call_at(second_slice, handle.cancel)
        report = await handle.wait()
        lookups = engine.queue.statistics().lookups
    assert report.slices[0].sent_at is not None
    assert [s.status for s in report.slices[1:]] == [SliceStatus.NOT_SENT] * 9
    assert lookups == 0, "no send was cut short and looked up"
    assert venue.statistics().orders == 1


async def test_a_stop_held_during_a_send_does_not_let_the_next_overdue_slice_go_out() -> None:
    venue = _slow_venue()
    async with venue, ExecutionEngine(venue, seed=7, quote_max_age=1000.0) as engine:
        handle = await engine.start_twap("AAPL", 1000, "buy", num_slices=10, interval_seconds=1)
        await anyio.sleep(0.5)
        handle.cancel()  # the first child's submit is out; the next slice is due before it returns
        report = await handle.wait()
        lookups = engine.queue.statistics().lookups
    assert report.slices[0].status is SliceStatus.FILLED
    assert report.slices[1].child_ids == ()
    assert lookups == 0
    assert venue.statistics().orders == 1


class BreakingStreamVenue(SimulatedVenue):
    """A simulated venue whose event stream breaks with an unexpected error at t = 15 s."""

    async def events(self, after_sequence: int = 0) -> Any:
        with anyio.move_on_after(15):
            async for event in super().events(after_sequence=after_sequence):
                yield event
        raise RuntimeError("event decoder bug")


async def test_waiting_on_a_parent_the_engine_stopped_gives_a_clear_error() -> None:
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.0)
    venue = BreakingStreamVenue([spec], seed=1, latency=LatencyModel.zero(), cash=10**9)
    waited: list[BaseException] = []

    async def wait_for(handle: TWAPHandle) -> None:
        try:
            await handle.wait()
        except EngineError as error:
            waited.append(error)

    async def run_engine(outer: anyio.abc.TaskGroup) -> None:
        async with ExecutionEngine(venue, seed=1) as engine:
            handle = engine.submit_twap("AAPL", 1000, "buy", num_slices=10, interval_seconds=10)
            outer.start_soon(wait_for, handle)
            await anyio.sleep(60)

    async with venue:
        with pytest.raises(ExceptionGroup):
            async with anyio.create_task_group() as outer:
                await run_engine(outer)
    assert len(waited) == 1
    assert "stopped by the engine before it reported" in str(waited[0])


async def test_an_off_tick_limit_price_still_gives_children_on_the_tick_grid() -> None:
    venue = still_venue()
    async with venue, ExecutionEngine(venue, seed=1) as engine:
        # The touch is 150.01 or more; the limit, between two ticks, caps the children at 150.00.
        report = await engine.twap(
            "AAPL", 500, "buy", num_slices=5, interval_seconds=10, style="touch", limit_price="150.005",
            complete_at_deadline=False,
        )
    assert venue.statistics().rejects == 0
    assert report.filled_quantity > 0
    assert report.avg_price is not None
    assert report.avg_price <= Decimal("150.00")


async def test_a_limit_price_below_one_tick_is_refused_by_name_before_anything_is_sent() -> None:
    venue = still_venue()
    async with venue, ExecutionEngine(venue, seed=1) as engine:
        with pytest.raises(InvalidInputError, match=r"limit_price.*below one tick"):
            await engine.twap("AAPL", 500, "buy", num_slices=5, interval_seconds=10, limit_price="0.005")
    assert venue.statistics().orders == 0


async def test_an_engine_whose_services_cannot_start_fails_at_once() -> None:
    venue = still_venue()
    async with venue:
        engine = ExecutionEngine(venue, seed=1)
        async with engine:
            pass
        started = anyio.current_time()
        # Its queue runs once: entering the engine again fails, without waiting on a body that
        # never began.
        with pytest.raises(QueueClosedError):
            async with engine:
                pass
        assert anyio.current_time() == started


async def test_a_long_running_engine_lets_go_of_the_ids_of_finished_parents_children() -> None:
    venue = still_venue()
    async with venue, ExecutionEngine(venue, seed=3) as engine:
        handle = engine.submit_twap("AAPL", 300, OrderSide.BUY, num_slices=3, interval_seconds=10)
        await anyio.sleep(15)  # two slices sent, the parent still running
        while_running = engine.queue.statistics().sent_ids_held
        first = await handle.wait()
        second = await engine.twap("AAPL", 200, OrderSide.SELL, num_slices=2, interval_seconds=10)
        statistics = engine.queue.statistics()
    assert while_running == 2
    assert statistics.sent_ids_held == 0
    assert statistics.sent == first.child_orders + second.child_orders == 5

"""A parent's report is final only when every child is final at the venue; leaving the engine or
the queue never drops the cancel of a live order (cancels outrank everything, the exit waits for
them within a bounded grace, and names by id what it could not cancel)."""

from __future__ import annotations

import anyio
import pytest

from engine import (
    ExecutionEngine,
    Order,
    OrderSide,
    OrdersLeftOpenError,
    OrderType,
    RateLimit,
    RateLimitedOrderQueue,
)
from gateways.simulated import SimulatedVenue, SymbolSpec
from tests.promises.venue_truth import mismatch


def quiet_venue() -> SimulatedVenue:
    # A slow market: a passive buy rests for minutes before it fills.
    spec = SymbolSpec(symbol="AAPL", price=150, volatility=0.02, volume_per_second=50)
    return SimulatedVenue([spec], seed=1, cash=10_000_000, positions={"AAPL": 100_000})


async def test_a_report_waits_for_a_cancel_that_waits_for_rate_limit_room() -> None:
    venue = quiet_venue()
    async with venue:
        async with ExecutionEngine(venue, max_orders_per_minute=1) as engine:
            report = await engine.twap(
                "AAPL",
                100,
                OrderSide.BUY,
                num_slices=1,
                interval_seconds=5,
                style="passive",
                complete_at_deadline=False,
            )
        assert venue.statistics().open_orders == 0
        assert not any("unresolved" in note for note in report.notes), report.notes
        # Later fills cannot exist: nothing is left resting.
        await anyio.sleep(600)
        assert mismatch(report, venue) is None
        assert venue.statistics().rate_limit_violations == 0


async def test_ten_parents_at_ten_orders_a_minute_leave_nothing_resting() -> None:
    venue = quiet_venue()
    async with venue:
        async with ExecutionEngine(venue, max_orders_per_minute=10) as engine:
            handles = [
                engine.submit_twap(
                    "AAPL",
                    100,
                    OrderSide.BUY,
                    num_slices=1,
                    interval_seconds=5,
                    style="passive",
                    complete_at_deadline=False,
                )
                for _ in range(10)
            ]
            reports = [await handle.wait() for handle in handles]
        assert venue.statistics().open_orders == 0
        await anyio.sleep(600)
        for report in reports:
            assert mismatch(report, venue) is None
            assert report.final_state.is_final


async def test_leaving_the_engine_early_cancels_every_live_child_at_the_venue() -> None:
    venue = quiet_venue()
    async with venue:
        async with ExecutionEngine(venue, max_orders_per_minute=10) as engine:
            handles = [
                engine.submit_twap(
                    "AAPL", 100, OrderSide.BUY, num_slices=2, interval_seconds=30, style="passive"
                )
                for _ in range(10)
            ]
            await anyio.sleep(5)  # every parent has a child resting; the minute's room is used up
        assert venue.statistics().open_orders == 0
        await anyio.sleep(600)
        for handle in handles:
            report = await handle.wait()
            assert mismatch(report, venue) is None
        assert venue.statistics().rate_limit_violations == 0


async def test_leaving_the_queue_sends_the_cancel_of_a_live_order() -> None:
    venue = quiet_venue()
    async with venue:
        async with RateLimitedOrderQueue(venue, max_orders_per_minute=1) as queue:
            order = Order(
                symbol="AAPL", side=OrderSide.BUY, quantity=10, order_type=OrderType.LIMIT, limit_price=140
            )
            result = await queue.send(order)
            assert result.ok
            queue.cancel(order.client_order_id)  # waits a minute for room
        assert venue.statistics().open_orders == 0
        assert [r.kind for r in venue.request_log if r.client_order_id == order.client_order_id] == [
            "submit",
            "cancel",
        ]


async def test_a_cancel_the_exit_could_not_send_in_its_grace_is_named_in_an_error() -> None:
    venue = quiet_venue()
    async with venue:
        order = Order(
            symbol="AAPL", side=OrderSide.BUY, quantity=10, order_type=OrderType.LIMIT, limit_price=140
        )

        async def rest_and_cancel() -> None:
            async with RateLimitedOrderQueue(venue, max_orders_per_minute=1, cancel_grace=5.0) as queue:
                assert (await queue.send(order)).ok
                queue.cancel(order.client_order_id)  # the next room comes a minute later

        with pytest.raises(OrdersLeftOpenError) as caught:
            await rest_and_cancel()
        assert caught.value.client_order_ids == (order.client_order_id,)
        assert order.client_order_id in str(caught.value)
        assert venue.statistics().rate_limit_violations == 0


async def test_an_engine_that_cannot_cancel_within_its_grace_names_the_orders_and_reports_them() -> None:
    venue = quiet_venue()
    async with venue:
        # One order an hour: the resting child's cancel cannot go out within the grace.
        engine = ExecutionEngine(
            venue, limits=[RateLimit(1, 3600.0)], queue_options={"cancel_grace": 5.0}, settle_timeout=1.0
        )
        with pytest.raises(OrdersLeftOpenError) as caught:
            async with engine:
                report = await engine.twap(
                    "AAPL",
                    100,
                    OrderSide.BUY,
                    num_slices=1,
                    interval_seconds=5,
                    style="passive",
                    complete_at_deadline=False,
                )
        (child,) = [cid for line in report.slices for cid in line.child_ids]
        assert caught.value.client_order_ids == (child,)
        # The report says exactly what is unknown: which child may still fill.
        assert any(child in note and "may still fill" in note for note in report.notes), report.notes
        assert venue.statistics().rate_limit_violations == 0


async def test_a_second_cancel_of_an_order_whose_cancel_waits_for_room_takes_no_more_room() -> None:
    venue = quiet_venue()
    async with venue:
        order = Order(
            symbol="AAPL", side=OrderSide.BUY, quantity=10, order_type=OrderType.LIMIT, limit_price=140
        )
        async with RateLimitedOrderQueue(venue, max_orders_per_minute=1) as queue:
            assert (await queue.send(order)).ok
            first = queue.cancel(order.client_order_id)  # waits a minute for room
            assert queue.cancel(order.client_order_id) is first
        assert [r.kind for r in venue.request_log if r.client_order_id == order.client_order_id] == [
            "submit",
            "cancel",
        ]
        assert venue.statistics().open_orders == 0


async def test_an_error_in_the_engines_block_still_cancels_every_live_child_and_comes_out_as_itself() -> None:
    venue = quiet_venue()
    error = KeyError("the user's own")

    async def trade_then_fail() -> None:
        async with ExecutionEngine(venue, max_orders_per_minute=10) as engine:
            for _ in range(10):
                engine.submit_twap(
                    "AAPL", 100, OrderSide.BUY, num_slices=2, interval_seconds=30, style="passive"
                )
            await anyio.sleep(5)  # every parent has a child resting; the minute's room is used up
            raise error

    async with venue:
        with pytest.raises(KeyError) as caught:
            await trade_then_fail()
        assert caught.value is error
        assert venue.statistics().open_orders == 0
        assert venue.statistics().rate_limit_violations == 0

"""The simulated venue behaves like a venue: prices, fills, fees, orders, events (virtual time)."""

from __future__ import annotations

from decimal import Decimal

import anyio
import anyio.lowlevel
import pytest

from engine import (
    DuplicateClientOrderIdError,
    ExecutionEvent,
    GatewayUnavailableError,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderStatus,
    TradingGateway,
    UnknownOrderError,
    now,
)
from gateways.simulated import FeeSchedule, SimulatedVenue
from tests.gateways.simulated.venues import (
    collect,
    filled_quantity,
    fills_of,
    limit,
    market,
    quiet_venue,
    still_symbol,
)


def test_the_venue_implements_the_gateway_protocol() -> None:
    assert isinstance(SimulatedVenue.demo(), TradingGateway)


async def test_requests_before_opening_fail_as_not_sent() -> None:
    venue = quiet_venue()
    with pytest.raises(GatewayUnavailableError):
        await venue.submit_order(market("AAPL", "buy", 1))
    assert venue.request_log == ()


async def test_a_market_buy_pays_the_ask_and_never_below_it() -> None:
    async with quiet_venue() as venue:
        quote = await venue.get_quote("AAPL")
        order = market("AAPL", "buy", 300)
        await venue.submit_order(order)
        snapshot = await venue.get_order(order.client_order_id)
    assert snapshot.status is OrderStatus.FILLED
    assert all(fill.price >= quote.ask for fill in snapshot.fills)
    assert snapshot.fills[0].price == quote.ask


async def test_a_market_sell_receives_the_bid_and_never_above_it() -> None:
    async with quiet_venue() as venue:
        quote = await venue.get_quote("AAPL")
        order = market("AAPL", "sell", 2500)
        await venue.submit_order(order)
        snapshot = await venue.get_order(order.client_order_id)
    assert all(fill.price <= quote.bid for fill in snapshot.fills)
    assert snapshot.fills[0].price == quote.bid


async def test_impact_grows_with_size_beyond_the_displayed_size() -> None:
    async with quiet_venue(still_symbol(displayed_size=100, impact_bps=10)) as venue:
        small = market("AAPL", "buy", 100)
        await venue.submit_order(small)
        await anyio.sleep(1.5)  # the next price step refreshes the book
        large = market("AAPL", "buy", 450)
        await venue.submit_order(large)
        small_fill = await venue.get_order(small.client_order_id)
        large_fill = await venue.get_order(large.client_order_id)
    assert small_fill.average_price is not None
    assert large_fill.average_price is not None
    assert large_fill.average_price > small_fill.average_price
    assert len(large_fill.fills) == 5  # one fill per level touched


async def test_a_market_order_larger_than_the_book_fills_partly_and_expires_the_rest() -> None:
    async with quiet_venue(still_symbol(displayed_size=100, depth_levels=3)) as venue:
        order = market("AAPL", "buy", 1000)
        await venue.submit_order(order)
        snapshot = await venue.get_order(order.client_order_id)
        events = list(venue.event_log)
    assert snapshot.status is OrderStatus.EXPIRED
    assert snapshot.filled_quantity == 300
    fills = fills_of(events, order.client_order_id)
    assert filled_quantity(fills) == snapshot.filled_quantity
    expired = [e for e in events if isinstance(e, OrderExpired)]
    assert [e.filled_quantity for e in expired] == [Decimal(300)]


async def test_liquidity_taken_stays_taken_until_the_next_step() -> None:
    async with quiet_venue(still_symbol(displayed_size=100, depth_levels=2)) as venue:
        first, second = market("AAPL", "buy", 150), market("AAPL", "buy", 150)
        await venue.submit_order(first)
        await venue.submit_order(second)
        assert (await venue.get_order(second.client_order_id)).filled_quantity == 50
        await anyio.sleep(1)
        third = market("AAPL", "buy", 150)
        await venue.submit_order(third)
        assert (await venue.get_order(third.client_order_id)).filled_quantity == 150


async def test_partial_fills_sum_exactly_to_the_filled_quantity_with_unique_trade_ids() -> None:
    async with quiet_venue(still_symbol(displayed_size=70, depth_levels=20)) as venue:
        orders = [market("AAPL", side, quantity) for side, quantity in [("buy", 333), ("sell", 500)]]
        orders.append(limit("AAPL", "buy", 200, "149.90"))
        for order in orders:
            await venue.submit_order(order)
        venue.set_quote("AAPL", bid="149.50", ask="149.60")
        await anyio.sleep(120)
        events = list(venue.event_log)
        for order in orders:
            snapshot = await venue.get_order(order.client_order_id)
            fills = fills_of(events, order.client_order_id)
            assert snapshot.filled_quantity == order.quantity
            assert filled_quantity(fills) == order.quantity
            assert len(fills) > 1
    trade_ids = [e.trade_id for e in events if isinstance(e, OrderFilled)]
    assert len(trade_ids) == len(set(trade_ids))


async def test_a_resting_buy_fills_only_when_the_market_trades_through_its_price() -> None:
    async with quiet_venue(still_symbol(volume_per_second=1000)) as venue:
        order = limit("AAPL", "buy", 50, "149.90")  # quote is 149.98 / 150.02
        await venue.submit_order(order)
        await anyio.sleep(10)
        assert (await venue.get_order(order.client_order_id)).filled_quantity == 0
        venue.set_quote("AAPL", bid="149.90", ask="149.95")  # trades at the price, not through it
        await anyio.sleep(10)
        assert (await venue.get_order(order.client_order_id)).filled_quantity == 0
        venue.set_quote("AAPL", bid="149.80", ask="149.85")
        await anyio.sleep(10)
        snapshot = await venue.get_order(order.client_order_id)
    assert snapshot.status is OrderStatus.FILLED
    assert all(fill.price <= Decimal("149.90") and fill.is_maker for fill in snapshot.fills)


async def test_resting_fills_are_capped_by_the_participation_share_of_volume() -> None:
    symbol = still_symbol(volume_per_second=100)
    async with quiet_venue(symbol, participation="0.1") as venue:
        order = limit("AAPL", "sell", 200, "150.10")
        await venue.submit_order(order)
        venue.set_quote("AAPL", bid="150.20", ask="150.30")
        await anyio.sleep(3.5)
        snapshot = await venue.get_order(order.client_order_id)
    # Three steps of at most 0.1 × 150 (the step volume is 50 %–150 % of 100 per second).
    assert 0 < snapshot.filled_quantity <= 45
    assert all(fill.quantity <= 15 for fill in snapshot.fills)
    assert all(fill.price == Decimal("150.10") for fill in snapshot.fills)


async def test_a_marketable_limit_takes_up_to_its_price_and_rests_the_rest() -> None:
    async with quiet_venue(still_symbol(displayed_size=100, impact_bps=10)) as venue:
        order = limit("AAPL", "buy", 500, "150.20")  # levels 150.02, 150.18, 150.34, ...
        await venue.submit_order(order)
        snapshot = await venue.get_order(order.client_order_id)
    assert snapshot.filled_quantity == 200
    assert snapshot.status is OrderStatus.PARTIALLY_FILLED
    assert all(fill.price <= Decimal("150.20") and not fill.is_maker for fill in snapshot.fills)


async def test_an_ioc_remainder_expires_with_the_cumulative_filled_quantity() -> None:
    async with quiet_venue(still_symbol(displayed_size=100, depth_levels=1)) as venue:
        order = limit("AAPL", "buy", 300, "150.02", ioc=True)
        await venue.submit_order(order)
        snapshot = await venue.get_order(order.client_order_id)
        events = list(venue.event_log)
    assert snapshot.status is OrderStatus.EXPIRED
    assert isinstance(events[-1], OrderExpired)
    assert events[-1].filled_quantity == 100


async def test_fees_are_the_configured_basis_points_of_each_fill_and_move_the_cash() -> None:
    fees = FeeSchedule(maker_bps="1.5", taker_bps=7)
    async with quiet_venue(still_symbol(volume_per_second=1000), fees=fees, cash=100_000) as venue:
        taker = market("AAPL", "buy", 10)
        maker = limit("AAPL", "sell", 10, "150.05")
        await venue.submit_order(taker)
        await venue.submit_order(maker)
        venue.set_quote("AAPL", bid="150.10", ask="150.12")
        await anyio.sleep(5)
        fills = [f for f in venue.event_log if isinstance(f, OrderFilled)]
        cash, positions = venue.cash, dict(venue.positions)
    assert [f.is_maker for f in fills] == [False, True]
    for fill in fills:
        bps = Decimal("1.5") if fill.is_maker else Decimal(7)
        assert fill.fee == fill.quantity * fill.price * bps / 10_000
    assert fills[0].fee == Decimal("1.050140")  # 10 × 150.02 × 7 bp
    expected_cash = Decimal(100_000) - 10 * Decimal("150.02") + 10 * Decimal("150.05")
    assert cash == expected_cash - sum(f.fee for f in fills)
    assert positions == {"AAPL": Decimal(0)}


async def test_a_duplicate_client_order_id_is_refused_and_changes_nothing() -> None:
    async with quiet_venue() as venue:
        order = limit("AAPL", "buy", 10, "149.00")
        await venue.submit_order(order)
        with pytest.raises(DuplicateClientOrderIdError):
            await venue.submit_order(market("AAPL", "buy", 5, client_order_id=order.client_order_id))
        snapshot = await venue.get_order(order.client_order_id)
        assert snapshot.order == order
        assert venue.positions == {}
        assert venue.statistics().rejects == 1


async def test_cancel_ends_an_open_order_and_reports_what_had_filled() -> None:
    async with quiet_venue(still_symbol(displayed_size=100, depth_levels=1)) as venue:
        order = limit("AAPL", "buy", 150, "150.02")
        await venue.submit_order(order)
        await venue.cancel_order(order.client_order_id)
        snapshot = await venue.get_order(order.client_order_id)
        cancelled = [e for e in venue.event_log if isinstance(e, OrderCancelled)]
    assert snapshot.status is OrderStatus.CANCELLED
    assert [(e.client_order_id, e.filled_quantity) for e in cancelled] == [
        (order.client_order_id, Decimal(100))
    ]


async def test_cancelling_a_final_order_is_a_no_op_and_an_unknown_id_is_an_error() -> None:
    async with quiet_venue() as venue:
        order = market("AAPL", "buy", 10)
        await venue.submit_order(order)
        published = len(venue.event_log)
        await venue.cancel_order(order.client_order_id)
        assert len(venue.event_log) == published
        assert (await venue.get_order(order.client_order_id)).status is OrderStatus.FILLED
        with pytest.raises(UnknownOrderError):
            await venue.cancel_order("never-sent")
        with pytest.raises(UnknownOrderError):
            await venue.get_order("never-sent")


async def test_events_carry_increasing_sequences_and_every_subscriber_gets_every_event() -> None:
    results: list[list[ExecutionEvent]] = [[], []]
    async with quiet_venue() as venue, anyio.create_task_group() as group:

        async def listen(into: list[ExecutionEvent]) -> None:
            into.extend(await collect(venue, 5))

        group.start_soon(listen, results[0])
        group.start_soon(listen, results[1])
        await anyio.sleep(0.1)
        await venue.submit_order(market("AAPL", "buy", 1500))
        await venue.submit_order(limit("AAPL", "sell", 5, "151.00"))
    first, second = results
    assert first == second == list(venue.event_log)
    sequences = [e.sequence for e in venue.event_log]
    assert sequences == list(range(1, len(sequences) + 1))
    assert isinstance(first[0], OrderAccepted)


async def test_requests_travel_with_latency_and_arrive_in_sending_order() -> None:
    venue = SimulatedVenue.demo(seed=3)
    async with venue:
        start = now()
        async with anyio.create_task_group() as group:
            orders = [limit("AAPL", "buy", 1, "100.00") for _ in range(20)]
            for order in orders:
                group.start_soon(venue.submit_order, order)
                await anyio.sleep(0.001)
        arrivals = [(r.timestamp, r.client_order_id) for r in venue.request_log]
    assert [cid for _, cid in arrivals] == [order.client_order_id for order in orders]
    assert [t for t, _ in arrivals] == sorted(t for t, _ in arrivals)
    assert arrivals[0][0] - start >= 0.02  # the request latency


async def test_without_latency_requests_arrive_in_call_order_and_a_sending_loop_still_yields() -> None:
    async with quiet_venue() as venue:
        orders = [limit("AAPL", "buy", 1, "100.00") for _ in range(50)]
        sent_by_other: list[int] = []

        async def sender() -> None:
            for order in orders:
                await venue.submit_order(order)

        async def other() -> None:
            # runs only when the sender passes a checkpoint: at every request after its first
            while len(sent_by_other) < 10:
                sent_by_other.append(len(venue.request_log))
                await anyio.lowlevel.checkpoint()

        start = now()
        async with anyio.create_task_group() as group:
            group.start_soon(sender)
            group.start_soon(other)
        arrivals = [(r.timestamp, r.client_order_id) for r in venue.request_log]
    assert [cid for _, cid in arrivals] == [order.client_order_id for order in orders]
    assert {t for t, _ in arrivals} == {start}  # no latency: every request arrives as it is sent
    assert sent_by_other == list(range(2, 12))  # interleaved one request at a time, not starved


async def test_without_latency_tasks_taking_turns_are_answered_without_a_checkpoint() -> None:
    # Every parent sends one child at a slice time: each is answered at once, with no loop pass.
    async with quiet_venue() as venue:
        passes = 0
        seen: list[int] = []
        stop = anyio.Event()

        async def counter() -> None:
            nonlocal passes
            while not stop.is_set():
                passes += 1
                await anyio.lowlevel.checkpoint()

        async def one() -> None:
            before = passes
            await venue.submit_order(limit("AAPL", "buy", 1, "100.00"))
            seen.append(passes - before)

        async with anyio.create_task_group() as group:
            group.start_soon(counter)
            await anyio.lowlevel.checkpoint()
            for _ in range(5):
                group.start_soon(one)
            while len(seen) < 5:
                await anyio.lowlevel.checkpoint()
            stop.set()
    assert seen == [0, 0, 0, 0, 0]
    assert len(venue.request_log) == 5


async def test_takers_in_one_step_walk_the_book_from_where_the_last_one_stopped() -> None:
    async with quiet_venue(still_symbol(displayed_size=100, impact_bps=10)) as venue:
        first, second, third = (market("AAPL", "buy", quantity) for quantity in (60, 60, 150))
        for order in (first, second, third):
            await venue.submit_order(order)
        snapshots = [await venue.get_order(order.client_order_id) for order in (first, second, third)]
        venue.set_quote("AAPL", bid="149.90", ask="150.10")  # a new step refreshes the book
        after = market("AAPL", "buy", 100)
        await venue.submit_order(after)
        refreshed = await venue.get_order(after.client_order_id)
    walked = [[(fill.quantity, fill.price) for fill in snapshot.fills] for snapshot in snapshots]
    touch, level_1 = walked[1][0][1], walked[1][1][1]
    level_2 = walked[2][1][1]
    assert touch < level_1 < level_2
    d = Decimal
    assert walked == [
        [(d(60), touch)], [(d(40), touch), (d(20), level_1)], [(d(80), level_1), (d(70), level_2)]
    ]
    assert [(fill.quantity, fill.price) for fill in refreshed.fills] == [(d(100), d("150.10"))]

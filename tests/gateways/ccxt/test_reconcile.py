"""After a dropped stream the gateway reconciles by REST: no fill lost, none counted twice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import anyio
import ccxt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    EventStreamDroppedError,
    ExecutionEvent,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
)
from gateways.ccxt import Backoff, CcxtGateway, CcxtSettings
from gateways.ccxt.journal import EventJournal
from gateways.ccxt.tracker import OrderTracker
from gateways.ccxt.translation import FillSeen
from tests.gateways.ccxt.fake import FakeExchange

SETTINGS = CcxtSettings("binance", "key", "secret")


def open_gateway(fake: FakeExchange, report_drop_after: int = 3) -> CcxtGateway:
    return CcxtGateway(
        SETTINGS,
        exchange_factory=lambda _: fake,
        backoff=Backoff(first=0.01, max_delay=0.1),
        report_drop_after=report_drop_after,
    )


async def events_until(gateway: CcxtGateway, done: type, client_order_id: str) -> list[ExecutionEvent]:
    """Read from the start until an event of type ``done`` for the order arrives."""
    events: list[ExecutionEvent] = []
    with anyio.fail_after(30):
        async for event in gateway.events():
            events.append(event)
            if isinstance(event, done) and event.client_order_id == client_order_id:
                return events
    raise AssertionError("the stream ended")


def fills_of(events: list[ExecutionEvent]) -> list[tuple[str, Decimal]]:
    return [(event.trade_id, event.quantity) for event in events if isinstance(event, OrderFilled)]


async def test_fills_and_a_cancel_missed_by_a_dropped_stream_come_from_rest_once() -> None:
    fake = FakeExchange()
    async with open_gateway(fake) as gateway:
        order = Order(symbol="BTC/USDT", side="buy", quantity="1", order_type="limit", limit_price="99")
        await gateway.submit_order(order)
        fake.fill(order.client_order_id, 0.25, 99.0)  # seen on the stream
        fake.mute_streams()
        fake.fill(order.client_order_id, 0.5, 99.0)  # missed
        fake.cancel(order.client_order_id)  # missed
        fake.drop_streams()
        fake.mute_streams(False)
        events = await events_until(gateway, OrderCancelled, order.client_order_id)
        assert fills_of(events) == [("1", Decimal("0.25")), ("2", Decimal("0.5"))]
        cancelled = events[-1]
        assert isinstance(cancelled, OrderCancelled)
        assert cancelled.filled_quantity == Decimal("0.75")
        assert [event.sequence for event in events] == list(range(1, len(events) + 1))
        statistics = gateway.statistics()
        assert statistics.stream_drops == 2  # both consumers saw it
        assert statistics.reconcile.passes >= 1
        assert fake.authenticated >= 2  # subscribed again before asking REST


async def test_malformed_venue_records_in_a_pass_are_skipped_and_counted_and_the_rest_still_counts() -> None:
    fake = FakeExchange()
    read_trades, read_open_orders = fake.fetch_my_trades, fake.fetch_open_orders

    async def trades_with_a_bad_one(symbol: str, since: int | None, limit: int) -> list[dict[str, Any]]:
        bad = {"symbol": symbol, "id": "bad", "amount": 1.0, "price": None, "order": "1", "timestamp": 1}
        negative = {
            "symbol": symbol,
            "id": "neg",
            "amount": -0.5,
            "price": 99.0,
            "order": "1",
            "timestamp": 1,
        }
        not_a_record: Any = None
        return [bad, negative, not_a_record, *await read_trades(symbol, since, limit)]

    async def open_orders_with_a_bad_one(symbol: str) -> list[dict[str, Any]]:
        bad = {"symbol": symbol, "id": "77", "clientOrderId": "x", "status": "open", "filled": "lots"}
        return [bad, *await read_open_orders(symbol)]

    fake.fetch_my_trades = trades_with_a_bad_one  # type: ignore[method-assign]  # the venue answers
    fake.fetch_open_orders = open_orders_with_a_bad_one  # type: ignore[method-assign]  # a bad record
    async with open_gateway(fake) as gateway:
        order = Order(symbol="BTC/USDT", side="buy", quantity="1", order_type="limit", limit_price="99")
        await gateway.submit_order(order)
        fake.mute_streams()
        fake.fill(order.client_order_id, 0.5, 99.0)  # missed by the stream
        fake.cancel(order.client_order_id)  # missed
        fake.drop_streams()
        fake.mute_streams(False)
        events = await events_until(gateway, OrderCancelled, order.client_order_id)
        assert fills_of(events) == [("1", Decimal("0.5"))]
        statistics = gateway.statistics()
        assert statistics.reconcile.malformed >= 4  # the open order and the three trades, each pass
        assert statistics.reconcile_failures == 0


async def test_a_socket_that_closed_while_no_call_was_pending_is_noticed_and_reconciled() -> None:
    fake = FakeExchange()
    fake.clients = {"ws-api": object()}
    async with open_gateway(fake) as gateway:
        order = Order(symbol="BTC/USDT", side="buy", quantity="1", order_type="limit", limit_price="99")
        await gateway.submit_order(order)
        fake.mute_streams()
        fake.fill(order.client_order_id, 0.5, 99.0)  # lost with the old socket
        fake.cancel(order.client_order_id)  # likewise
        fake.mute_streams(False)
        fake.clients = {"ws-api": object()}  # ccxt opened a new one on the next call, silently
        await gateway.submit_order(Order(symbol="ETH/USDT", side="buy", quantity="1"))
        events = await events_until(gateway, OrderCancelled, order.client_order_id)
        assert fills_of(events) == [("1", Decimal("0.5"))]
        assert gateway.statistics().reconcile.passes >= 1


async def test_a_fill_that_beats_the_rest_answer_is_reported_after_the_accept_and_once() -> None:
    fake = FakeExchange()
    async with open_gateway(fake) as gateway:
        order = Order(symbol="ETH/USDT", side="sell", quantity="2", client_order_id="early")
        answer: Any = fake.create_order

        async def fill_first(*arguments: Any, params: dict[str, Any]) -> dict[str, Any]:
            await answer(*arguments, params)
            fake.fill("early", 2.0, 100.0)
            await anyio.sleep(0.01)  # the stream consumer folds the fill before the answer lands
            return dict(fake.orders["early"])

        fake.create_order = fill_first  # type: ignore[method-assign, assignment]  # fills before answering
        await gateway.submit_order(order)
        fake.drop_streams()  # and a reconciliation reads the same trade again by REST
        await anyio.sleep(0.5)
        await gateway.get_order("early")
        events: list[ExecutionEvent] = []
        with anyio.move_on_after(1):
            async for event in gateway.events():
                events.append(event)  # noqa: PERF401  (kept when the wait ends)
        kinds = [type(event) for event in events]
        assert kinds == [OrderAccepted, OrderFilled]


async def test_the_same_trade_on_both_streams_counts_once() -> None:
    fake = FakeExchange()
    async with open_gateway(fake) as gateway:
        await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="d"))
        fake.fill("d", 0.5, 100.0, trade_id="t1")
        fake.trade_stream.push(dict(fake.trades[-1]))  # delivered again
        fake.fill("d", 0.5, 100.0, trade_id="t2")
        events = await events_until(gateway, OrderFilled, "d")
        events += await events_until_second_fill(gateway, len(events))
        assert fills_of(events) == [("t1", Decimal("0.5")), ("t2", Decimal("0.5"))]
        assert gateway.statistics().orders.duplicate_fills >= 1


async def events_until_second_fill(gateway: CcxtGateway, after: int) -> list[ExecutionEvent]:
    events: list[ExecutionEvent] = []
    with anyio.fail_after(5):
        async for event in gateway.events(after_sequence=after):
            events.append(event)
            if isinstance(event, OrderFilled):
                return events
    return events


async def test_a_gap_reconciliation_cannot_cover_is_reported_and_later_covered() -> None:
    fake = FakeExchange()
    async with open_gateway(fake, report_drop_after=2) as gateway:
        order = Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="g")
        await gateway.submit_order(order)
        fake.mute_streams()
        fake.fill("g", 1.0, 100.0)
        for _ in range(3):
            fake.fail_next("fetch_open_orders", ccxt.ExchangeNotAvailable("binance GET /openOrders 503"))
        fake.drop_streams()
        seen: list[int] = []

        async def read_until_dropped() -> None:
            async for event in gateway.events():
                seen.append(event.sequence)  # noqa: PERF401  (the list must hold what came before the drop)

        with pytest.raises(EventStreamDroppedError) as caught, anyio.fail_after(10):
            await read_until_dropped()
        assert caught.value.last_sequence == seen[-1] == 1  # the accept; the fill is in the gap
        fake.mute_streams(False)
        resumed = await events_until(gateway, OrderFilled, "g")
        assert fills_of(resumed) == [("1", Decimal("1.0"))]


def test_a_journal_replays_from_any_kept_sequence() -> None:
    journal = EventJournal(retain=2)
    for number in range(3):
        journal.append(
            OrderAccepted(client_order_id=f"c{number}", symbol="X", timestamp=0.0, venue_order_id=str(number))
        )
    assert journal.last_sequence == 3

    async def read(after: int) -> list[int]:
        seen: list[int] = []
        with anyio.move_on_after(0.01):
            async for event in journal.read(after):
                seen.append(event.sequence)  # noqa: PERF401  (kept when the wait ends)
        return seen

    assert anyio.run(read, 1) == [2, 3]
    with pytest.raises(ValueError, match="after_sequence"):
        anyio.run(read, 0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["stream", "rest", "report"])), min_size=1, max_size=30
    )
)
def test_fills_seen_any_number_of_times_from_any_source_count_once_and_never_overfill(
    deliveries: list[tuple[int, str]],
) -> None:
    journal = EventJournal()
    tracker = OrderTracker(journal, lambda: 0.0)
    order = Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="p")
    tracker.register(order)
    quantities = [
        Decimal("0.25"),
        Decimal("0.25"),
        Decimal("0.125"),
        Decimal("0.125"),
        Decimal("0.25"),
        Decimal("0.5"),
    ]
    for trade, source in deliveries:
        tracker.fill_seen(
            FillSeen(
                client_order_id=None if source == "rest" else "p",
                venue_order_id="v1",
                symbol="BTC/USDT",
                trade_id=f"t{trade}",
                quantity=quantities[trade],
                price=Decimal(100),
                fee=Decimal(0),
                is_maker=False,
            )
        )
        tracker.acknowledged("p", "v1")
    fills = [event for event in journal._events if isinstance(event, OrderFilled)]
    trade_ids = [fill.trade_id for fill in fills]
    assert len(trade_ids) == len(set(trade_ids))
    assert sum(fill.quantity for fill in fills) <= order.quantity

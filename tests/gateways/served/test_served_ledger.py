"""The served venue's ledger reports each fact once, however the venue's events and snapshots
arrive: duplicated, out of order, or both (every fill counted once, as the promises require)."""

from __future__ import annotations

from decimal import Decimal

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.events import (
    ExecutionEvent,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderSnapshot,
    OrderStatus,
)
from engine.orders import Order, OrderSide
from gateways.served.encoding import WallClock
from gateways.served.ledger import Ledger
from gateways.served.symbols import SymbolMap

_ORDER = st.tuples(
    st.lists(st.integers(min_value=1, max_value=5), max_size=4),  # fill quantities
    st.booleans(),  # cancelled after its fills
)


def _history(index: int, fills: list[int], cancelled: bool) -> tuple[Order, list[ExecutionEvent]]:
    quantity = sum(fills) + (3 if cancelled or not fills else 0)
    order = Order(symbol="AAPL", side=OrderSide.BUY, quantity=quantity, order_type="limit", limit_price=100,
                  client_order_id=f"o{index}")
    events: list[ExecutionEvent] = [
        OrderAccepted(
            client_order_id=order.client_order_id, symbol="AAPL", timestamp=1.0, venue_order_id=str(index)
        )
    ]
    for number, fill in enumerate(fills):
        events.append(OrderFilled(
            client_order_id=order.client_order_id, symbol="AAPL", timestamp=2.0 + number,
            trade_id=f"t{index}-{number}", side=OrderSide.BUY, quantity=Decimal(fill), price=Decimal(100),
            fee=Decimal("0.01"),
        ))
    if cancelled:
        events.append(OrderCancelled(
            client_order_id=order.client_order_id, symbol="AAPL", timestamp=9.0,
            filled_quantity=Decimal(sum(fills)),
        ))
    return order, events


@settings(max_examples=150, deadline=None)
@given(orders=st.lists(_ORDER, min_size=1, max_size=4), data=st.data())
def test_each_fill_is_reported_once_whatever_the_order_and_repetition_of_arrival(
    orders: list[tuple[list[int], bool]], data: st.DataObject
) -> None:
    ledger = Ledger(SymbolMap(["AAPL"]), WallClock(0.0))
    reports = ledger.subscribe()
    try:
        histories = [_history(index, fills, cancelled) for index, (fills, cancelled) in enumerate(orders)]
        for order, _ in histories:
            assert ledger.reserve(order, 0.0) is not None
        everything = [event for _, events in histories for event in events]
        arrival = data.draw(st.permutations(everything + data.draw(st.lists(st.sampled_from(everything)))))
        snapshots_at = data.draw(st.sets(st.integers(min_value=0, max_value=len(arrival))))
        for position, event in enumerate([*arrival, None]):
            if position in snapshots_at:
                for order, events in histories:
                    fills = tuple(e for e in events if isinstance(e, OrderFilled))
                    ended = any(isinstance(e, OrderCancelled) for e in events)
                    filled = sum((fill.quantity for fill in fills), Decimal(0))
                    ledger.absorb(OrderSnapshot(
                        order=order, venue_order_id="v", filled_quantity=filled, average_price=None,
                        fees=Decimal(0), fills=fills, created_at=1.0, updated_at=9.0,
                        status=OrderStatus.CANCELLED if ended else (
                            OrderStatus.FILLED if filled == order.quantity else OrderStatus.PARTIALLY_FILLED
                        ),
                    ))
            if event is not None:
                ledger.apply(event)
        sent = []
        while True:
            try:
                sent.append(reports.receive_nowait())
            except anyio.WouldBlock:  # all read
                break
        for order, events in histories:
            mine = [report for report in sent if report["c"] == order.client_order_id]
            kinds = [report["x"] for report in mine]
            own_fills = [e for e in events if isinstance(e, OrderFilled)]
            assert kinds[0] == "NEW"
            assert kinds.count("NEW") == 1
            assert kinds.count("TRADE") == len(own_fills)
            assert kinds.count("CANCELED") == (1 if any(isinstance(e, OrderCancelled) for e in events) else 0)
            entry = ledger.by_client_id(order.client_order_id)
            assert entry is not None
            assert entry.executed == sum((fill.quantity for fill in own_fills), Decimal(0)) <= order.quantity
        still_open = {entry.order.client_order_id for entry in ledger.open_entries()}
        assert still_open == {
            order.client_order_id for order, _ in histories
            if (entry := ledger.by_client_id(order.client_order_id)) is not None and entry.is_open
        }
        trade_ids = [int(str(report["t"])) for report in sent if report["x"] == "TRADE"]
        assert sorted(trade_ids) == list(range(1, len(trade_ids) + 1))
    finally:
        reports.close()
        ledger.close()

"""The served venue's books: Binance order ids, order states and numbered trades, and the
``executionReport``s they give rise to.

The simulated venue knows orders by client order id; Binance clients also use an integer
``orderId`` and integer trade ids. The ledger gives each new order its ``orderId`` when the request
arrives (before the venue sees it, so events that overtake the answer find it), and each fill the
next trade id when it is first seen. It learns from two sources: the venue's event stream and the
order snapshots the routes fetch. Both say the same things, in any order and any number of
times; the ledger takes each fact once (a trade by its venue trade id, a final status once), so
every subscriber of the user-data stream gets one ``executionReport`` per fact: NEW, then one
TRADE per fill, then CANCELED / EXPIRED / REJECTED.

Client order ids as Binance treats them: an id is refused ("Duplicate order sent.") only while an
order with it may still fill; a finished order's id can be used again. The simulated venue refuses
any id it has ever seen, so each order carries two: ``order.client_order_id``, the client's (what
every answer and report shows), and ``venue_id``, the one the venue knows it by: the client's own
the first time, a fresh one when the client's id was used before. ``by_client_id`` finds the
newest order with an id; the venue's events and snapshots find theirs by ``venue_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import anyio
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from engine.events import (
    ExecutionEvent,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSnapshot,
)
from engine.ids import new_client_order_id
from engine.orders import Order
from gateways.served.encoding import ORDER_STATUS, TradeRecord, WallClock, decimal_text, order_fields
from gateways.served.symbols import SymbolMap

__all__ = ["Ledger", "OrderEntry"]

_FINAL = frozenset({"FILLED", "CANCELED", "REJECTED", "EXPIRED"})
_REPORT_BUFFER = 10_000  # reports a slow subscriber may fall behind before it is cut off


@attrs.define
class OrderEntry:
    """One order as the served venue books it."""

    order_id: int
    order: Order
    venue_id: str  # the client order id the venue knows the order by (see the module docstring)
    created: float
    updated: float
    accepted: bool = False
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    quote_quantity: Decimal = Decimal(0)
    trades: list[TradeRecord] = attrs.field(factory=list)

    @property
    def is_open(self) -> bool:
        """True while it may fill."""
        return self.accepted and self.status not in _FINAL

    @property
    def is_final(self) -> bool:
        """True once it can no longer fill."""
        return self.status in _FINAL


class Ledger:
    """Order ids, order states, trades and the user-data subscribers of one served venue."""

    def __init__(self, symbols: SymbolMap, clock: WallClock) -> None:
        self._symbols = symbols
        self._clock = clock
        self._by_client_id: dict[str, OrderEntry] = {}  # the newest order with each client id
        self._by_venue_id: dict[str, OrderEntry] = {}
        self._by_order_id: dict[int, OrderEntry] = {}
        self._replaced: dict[int, OrderEntry] = {}  # order id → the finished order it took the id of
        self._open: dict[int, OrderEntry] = {}  # accepted and not final, by order id
        self._trades: list[TradeRecord] = []
        self._venue_trade_ids: set[str] = set()
        self._next_order_id = 1
        # Each subscriber's receiving end, and the sending end the ledger writes to.
        self._subscribers: dict[
            MemoryObjectReceiveStream[dict[str, object]], MemoryObjectSendStream[dict[str, object]]
        ] = {}
        self.reports = 0

    def __repr__(self) -> str:
        open_orders = len(self._open)
        return (
            f"<Ledger orders={len(self._by_order_id)} open={open_orders} trades={len(self._trades)} "
            f"subscribers={len(self._subscribers)}>"
        )

    # --- orders ---------------------------------------------------------------------------------

    def in_use(self, client_order_id: str) -> bool:
        """True while an order with this client order id may fill (sent, or open): Binance's
        "Duplicate order sent." A finished order's id is free again."""
        entry = self._by_client_id.get(client_order_id)
        return entry is not None and not entry.is_final

    def reserve(self, order: Order, now: float) -> OrderEntry | None:
        """Book a new order under the next ``orderId``; ``None`` if its client order id is in use."""
        client_order_id = order.client_order_id
        if self.in_use(client_order_id):
            return None
        venue_id = client_order_id
        while venue_id in self._by_venue_id:  # used before: the venue gets a fresh id
            venue_id = new_client_order_id()
        entry = OrderEntry(
            order_id=self._next_order_id, order=order, venue_id=venue_id, created=now, updated=now
        )
        self._next_order_id += 1
        replaced = self._by_client_id.get(client_order_id)
        if replaced is not None:
            self._replaced[entry.order_id] = replaced
        self._by_client_id[client_order_id] = entry
        self._by_venue_id[venue_id] = entry
        self._by_order_id[entry.order_id] = entry
        return entry

    def release(self, entry: OrderEntry) -> None:
        """Forget a reserved order the venue did not take (refused, or known not sent)."""
        if not entry.accepted and not entry.trades:
            client_order_id = entry.order.client_order_id
            replaced = self._replaced.pop(entry.order_id, None)
            if replaced is not None:
                self._by_client_id[client_order_id] = replaced
            else:
                del self._by_client_id[client_order_id]
            del self._by_venue_id[entry.venue_id]
            del self._by_order_id[entry.order_id]

    def by_client_id(self, client_order_id: str) -> OrderEntry | None:
        """The newest order with this client order id, if the venue took it (or may have)."""
        return self._by_client_id.get(client_order_id)

    def by_order_id(self, order_id: int) -> OrderEntry | None:
        """The order with this Binance ``orderId``."""
        return self._by_order_id.get(order_id)

    def entries(self, symbol: str | None = None) -> Iterator[OrderEntry]:
        """Every order the venue took (of ``symbol``), in ``orderId`` order."""
        for entry in self._by_order_id.values():
            if entry.accepted and (symbol is None or entry.order.symbol == symbol):
                yield entry

    def open_entries(self, symbol: str | None = None) -> Iterator[OrderEntry]:
        """The orders that may still fill (of ``symbol``), in the order the venue took them."""
        for entry in list(self._open.values()):
            if symbol is None or entry.order.symbol == symbol:
                yield entry

    def trades(self, symbol: str) -> Iterator[TradeRecord]:
        """Every trade of ``symbol``, in trade id order."""
        return (trade for trade in self._trades if trade.order.symbol == symbol)

    def fields(self, entry: OrderEntry) -> dict[str, object]:
        """The order as ``GET /api/v3/order`` answers it."""
        clock = self._clock
        return order_fields(
            self._symbols.market(entry.order.symbol), entry.order_id, entry.order, entry.status,
            entry.executed, entry.quote_quantity, clock.ms(entry.created), clock.ms(entry.updated),
            entry.is_open,
        )

    # --- learning -------------------------------------------------------------------------------

    def apply(self, event: ExecutionEvent) -> None:
        """Take in one event of the venue's stream (again or late is fine)."""
        entry = self._by_venue_id.get(event.client_order_id)
        if entry is None:
            return
        self._accept(entry, event.timestamp)
        if isinstance(event, OrderFilled):
            self._fill(entry, event)
        elif isinstance(event, OrderCancelled):
            self._finish(entry, "CANCELED", event.timestamp)
        elif isinstance(event, OrderExpired):
            self._finish(entry, "EXPIRED", event.timestamp)
        elif isinstance(event, OrderRejected):
            self._finish(entry, "REJECTED", event.timestamp)
        else:
            assert isinstance(event, OrderAccepted)

    def absorb(self, snapshot: OrderSnapshot) -> OrderEntry | None:
        """Take in the venue's snapshot of an order: whatever it knows that the ledger does not."""
        entry = self._by_venue_id.get(snapshot.client_order_id)
        if entry is None:
            return None
        self._accept(entry, snapshot.created_at)
        for fill in snapshot.fills:
            self._fill(entry, fill)
        status = ORDER_STATUS[snapshot.status.value]
        if status in _FINAL and status != "FILLED":
            self._finish(entry, status, snapshot.updated_at)
        return entry

    def _accept(self, entry: OrderEntry, time: float) -> None:
        if not entry.accepted:
            entry.accepted = True
            self._replaced.pop(entry.order_id, None)
            entry.updated = max(entry.updated, time)
            self._open[entry.order_id] = entry
            self._report(entry, "NEW", None, time)

    def _fill(self, entry: OrderEntry, fill: OrderFilled) -> None:
        if fill.trade_id in self._venue_trade_ids:
            return
        self._venue_trade_ids.add(fill.trade_id)
        trade = TradeRecord(
            trade_id=len(self._trades) + 1, venue_trade_id=fill.trade_id, order_id=entry.order_id,
            order=entry.order, price=fill.price, quantity=fill.quantity, commission=fill.fee,
            time=fill.timestamp, is_maker=fill.is_maker,
        )
        self._trades.append(trade)
        entry.trades.append(trade)
        entry.executed += fill.quantity
        entry.quote_quantity += fill.quantity * fill.price
        entry.updated = max(entry.updated, fill.timestamp)
        if not entry.is_final:
            filled = entry.executed >= entry.order.quantity
            entry.status = "FILLED" if filled else "PARTIALLY_FILLED"
            if filled:
                self._open.pop(entry.order_id, None)
        self._report(entry, "TRADE", trade, fill.timestamp)

    def _finish(self, entry: OrderEntry, status: str, time: float) -> None:
        if entry.is_final:
            return
        entry.status = status
        entry.updated = max(entry.updated, time)
        self._open.pop(entry.order_id, None)
        self._report(entry, status, None, time)

    # --- the user-data stream -------------------------------------------------------------------

    def subscribe(self) -> MemoryObjectReceiveStream[dict[str, object]]:
        """A stream of every ``executionReport`` from now on; close it to unsubscribe."""
        send, receive = anyio.create_memory_object_stream[dict[str, object]](_REPORT_BUFFER)
        self._subscribers[receive] = send
        return receive

    def unsubscribe(self, receive: MemoryObjectReceiveStream[dict[str, object]]) -> None:
        """End one subscription (both its ends)."""
        send = self._subscribers.pop(receive, None)
        if send is not None:
            send.close()
        receive.close()

    def close(self) -> None:
        """End every subscription: their readers see the end of the stream."""
        for send in self._subscribers.values():
            send.close()
        self._subscribers.clear()

    def _report(self, entry: OrderEntry, execution: str, trade: TradeRecord | None, time: float) -> None:
        self.reports += 1
        if not self._subscribers:
            return
        report = self._execution_report(entry, execution, trade, time)
        for receive, send in list(self._subscribers.items()):
            try:
                send.send_nowait(report)
            except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                # Gone, or too slow to keep up: Binance cuts such a stream off too.
                self.unsubscribe(receive)

    def _execution_report(
        self, entry: OrderEntry, execution: str, trade: TradeRecord | None, time: float
    ) -> dict[str, object]:
        order = entry.order
        market = self._symbols.market(order.symbol)
        clock = self._clock
        zero = "0.00000000"
        return {
            "e": "executionReport",
            "E": clock.ms(time),
            "s": market.market_id,
            "c": order.client_order_id,
            "S": order.side.name,
            "o": order.order_type.name,
            "f": order.time_in_force.name,
            "q": decimal_text(order.quantity),
            "p": decimal_text(order.limit_price) if order.limit_price is not None else zero,
            "P": zero,
            "F": zero,
            "g": -1,
            "C": "",
            "x": execution,
            "X": entry.status,
            "r": "NONE",
            "i": entry.order_id,
            "l": decimal_text(trade.quantity) if trade else zero,
            "z": decimal_text(entry.executed),
            "L": decimal_text(trade.price) if trade else zero,
            "n": decimal_text(trade.commission) if trade else "0",
            "N": market.quote if trade else None,
            "T": clock.ms(time),
            "t": trade.trade_id if trade else -1,
            "I": self.reports,
            "w": entry.is_open,
            "m": trade.is_maker if trade else False,
            "M": False,
            "O": clock.ms(entry.created),
            "Z": decimal_text(entry.quote_quantity),
            "Y": decimal_text(trade.price * trade.quantity) if trade else zero,
            "Q": zero,
            "W": clock.ms(entry.created),
            "V": "NONE",
        }

"""Each order's state as the gateway has reported it, and the one place that turns what the venue
shows into the engine's events.

Observations come from three places in any order: the REST answer to a submit, the order and
trade streams, and REST reconciliation. Each is folded in here, and an event is emitted only for
what is new:

- ``OrderAccepted`` once per order, before anything else about it (a fill that beats the REST
  answer to the submit makes it first);
- ``OrderFilled`` once per venue trade: trades are deduped by (symbol, trade id), since Binance
  numbers trades per symbol; a trade that would take an order past its quantity is dropped and
  counted (it cannot be ours twice);
- ``OrderCancelled`` / ``OrderExpired`` / ``OrderRejected`` once, carrying the venue's cumulative
  filled quantity; a filled order needs no final event (its fills say it all).

Orders are known here from ``register`` (just before a submit leaves) or from a look-up; events
about orders the gateway never sent (another bot on the same account) are ignored and counted.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from decimal import Decimal

import attrs
import structlog

from engine.events import (
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatus,
)
from engine.numbers import ZERO
from engine.orders import Order
from gateways.ccxt.journal import EventJournal
from gateways.ccxt.translation import FillSeen, OrderSeen

__all__ = ["OrderTracker", "TrackerStatistics"]

_log = structlog.get_logger("gateways.ccxt")


@attrs.define
class _Child:
    order: Order
    venue_order_id: str | None = None
    accepted: bool = False
    ended: bool = False  # the venue holds it final (a final event is out, or it filled in full)
    filled: Decimal = ZERO  # the sum of the fills emitted
    venue_filled: Decimal = ZERO  # the venue's cumulative filled, as last seen
    fills: list[OrderFilled] = attrs.Factory(list)


@attrs.frozen
class TrackerStatistics:
    """Counts of what the tracker folded in and dropped."""

    open_orders: int
    duplicate_fills: int
    overfills_dropped: int
    ignored: int


class OrderTracker:
    """Orders the gateway sent, by client order id, and their events into ``journal``."""

    def __init__(self, journal: EventJournal, clock: Callable[[], float], keep_ended: int = 100_000) -> None:
        self._journal = journal
        self._clock = clock
        self._children: dict[str, _Child] = {}
        self._by_venue_id: dict[tuple[str, str], str] = {}
        self._trades: set[tuple[str, str]] = set()
        self._ended: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._keep_ended = keep_ended
        self._last_trade_ms: dict[str, int] = {}
        self._duplicates = self._overfills = self._ignored = 0

    def __repr__(self) -> str:
        open_count = sum(1 for child in self._children.values() if not child.ended)
        return (
            f"<OrderTracker [open: {open_count}, known: {len(self._children)}, trades: {len(self._trades)}]>"
        )

    # -- what the gateway knows ----------------------------------------------------------------

    def register(self, order: Order) -> None:
        """Know ``order`` before its submit leaves, so its stream events are recognised."""
        if order.client_order_id not in self._children:
            self._children[order.client_order_id] = _Child(order)

    def order(self, client_order_id: str) -> Order | None:
        """The order sent (or looked up) under ``client_order_id``, if known."""
        child = self._children.get(client_order_id)
        return None if child is None else child.order

    def is_ended(self, client_order_id: str) -> bool:
        """True once the venue holds the order final."""
        child = self._children.get(client_order_id)
        return child is not None and child.ended

    def open_orders(self) -> Iterator[Order]:
        """The known orders the venue may still fill."""
        return (child.order for child in list(self._children.values()) if not child.ended)

    def fills(self, client_order_id: str) -> tuple[OrderFilled, ...]:
        """The fills emitted for the order, in order."""
        child = self._children.get(client_order_id)
        return () if child is None else tuple(child.fills)

    def venue_filled(self, client_order_id: str) -> Decimal:
        """The venue's cumulative filled quantity of the order, as last seen."""
        child = self._children.get(client_order_id)
        return ZERO if child is None else child.venue_filled

    def last_trade_ms(self, symbol: str) -> int | None:
        """The venue time (ms) of the newest trade seen in ``symbol``."""
        return self._last_trade_ms.get(symbol)

    def forget(self, client_order_id: str) -> None:
        """Drop an order the venue refused outright (it never held it)."""
        child = self._children.get(client_order_id)
        if child is not None and not child.accepted:
            del self._children[client_order_id]

    def symbols_in_play(self) -> set[str]:
        """Symbols of the orders still open."""
        return {child.order.symbol for child in self._children.values() if not child.ended}

    def statistics(self) -> TrackerStatistics:
        """The tracker's counts."""
        return TrackerStatistics(
            open_orders=sum(1 for child in self._children.values() if not child.ended),
            duplicate_fills=self._duplicates,
            overfills_dropped=self._overfills,
            ignored=self._ignored,
        )

    # -- folding observations in ---------------------------------------------------------------

    def acknowledged(self, client_order_id: str, venue_order_id: str) -> None:
        """The REST answer to a submit: the venue holds the order."""
        child = self._children.get(client_order_id)
        if child is None:
            return
        self._remember_venue_id(child, venue_order_id)
        self._accept(child)

    def order_seen(self, seen: OrderSeen) -> None:
        """An order's state from the stream or from REST."""
        child = self._find(seen.client_order_id, seen.symbol, seen.venue_order_id)
        if child is None:
            self._ignored += 1
            return
        if seen.venue_order_id is not None:
            self._remember_venue_id(child, seen.venue_order_id)
        child.venue_filled = max(child.venue_filled, seen.filled)
        if child.ended:
            return
        status = seen.status
        if status is OrderStatus.REJECTED:
            if not child.accepted:
                self._end(child)
                self._emit(OrderRejected, child, reason=seen.reason)
                return
            status = OrderStatus.CANCELLED  # rejected after it was taken: ends like a cancel
        self._accept(child)
        if status is OrderStatus.CANCELLED:
            self._end(child)
            self._emit(OrderCancelled, child, filled_quantity=child.venue_filled, reason=seen.reason)
        elif status is OrderStatus.EXPIRED:
            self._end(child)
            self._emit(OrderExpired, child, filled_quantity=child.venue_filled, reason=seen.reason)
        elif status is OrderStatus.FILLED and child.filled >= child.order.quantity:
            self._end(child)

    def fill_seen(self, fill: FillSeen) -> None:
        """A trade from the stream or from REST."""
        key = (fill.symbol, fill.trade_id)
        if key in self._trades:
            self._duplicates += 1
            return
        child = self._find(fill.client_order_id, fill.symbol, fill.venue_order_id)
        if child is None:
            self._ignored += 1
            return
        if fill.venue_order_id is not None:
            self._remember_venue_id(child, fill.venue_order_id)
        if child.filled + fill.quantity > child.order.quantity:
            self._overfills += 1
            _log.error(
                "a trade would take the order past its quantity; dropped",
                client_order_id=child.order.client_order_id,
                trade_id=fill.trade_id,
            )
            return
        self._trades.add(key)
        if fill.timestamp_ms is not None:
            self._last_trade_ms[fill.symbol] = max(self._last_trade_ms.get(fill.symbol, 0), fill.timestamp_ms)
        self._accept(child)
        child.filled += fill.quantity
        child.venue_filled = max(child.venue_filled, child.filled)
        order = child.order
        event = self._journal.append(
            OrderFilled(
                client_order_id=order.client_order_id,
                symbol=order.symbol,
                timestamp=self._clock(),
                trade_id=fill.trade_id,
                side=order.side,
                quantity=fill.quantity,
                price=fill.price,
                fee=fill.fee,
                is_maker=fill.is_maker,
            )
        )
        assert isinstance(event, OrderFilled)
        child.fills.append(event)
        if child.filled >= order.quantity and not child.ended:
            self._end(child)

    def missing_fills(self, client_order_id: str) -> Decimal:
        """What the venue says filled beyond the fills emitted (reconciliation's hint)."""
        child = self._children.get(client_order_id)
        return ZERO if child is None else max(ZERO, child.venue_filled - child.filled)

    # -- helpers -------------------------------------------------------------------------------

    def _find(self, client_order_id: str | None, symbol: str, venue_order_id: str | None) -> _Child | None:
        if client_order_id is not None:
            child = self._children.get(client_order_id)
            if child is not None:
                return child
        if venue_order_id is not None:
            known = self._by_venue_id.get((symbol, venue_order_id))
            if known is not None:
                return self._children.get(known)
        return None

    def _remember_venue_id(self, child: _Child, venue_order_id: str) -> None:
        if child.venue_order_id is None:
            child.venue_order_id = venue_order_id
            self._by_venue_id[(child.order.symbol, venue_order_id)] = child.order.client_order_id

    def _accept(self, child: _Child) -> None:
        if child.accepted:
            return
        child.accepted = True
        self._emit(OrderAccepted, child, venue_order_id=child.venue_order_id or "")

    def _end(self, child: _Child) -> None:
        child.ended = True
        client_order_id = child.order.client_order_id
        self._ended[client_order_id] = None
        while len(self._ended) > self._keep_ended:
            old, _ = self._ended.popitem(last=False)
            forgotten = self._children.pop(old, None)
            if forgotten is None:
                continue
            if forgotten.venue_order_id is not None:
                self._by_venue_id.pop((forgotten.order.symbol, forgotten.venue_order_id), None)
            for fill in forgotten.fills:  # a late copy of one of these finds no order: ignored
                self._trades.discard((forgotten.order.symbol, fill.trade_id))

    def _emit(self, kind: type, child: _Child, **fields: object) -> None:
        order = child.order
        self._journal.append(
            kind(
                client_order_id=order.client_order_id, symbol=order.symbol, timestamp=self._clock(), **fields
            )
        )

"""What a venue reports back: acks, execution events and order snapshots.

Every event carries the client order id, the symbol, the venue's timestamp (the engine clock,
virtual in backtests) and the venue's ``sequence`` number. Sequence numbers grow by one per event
on a venue's stream, so a consumer that lost its stream resubscribes from the last one it saw and
misses nothing. A fill carries a ``trade_id`` that is unique at the venue: a fill delivered twice is
the same fill and must be counted once.

``OrderCancelled`` and ``OrderExpired`` carry the venue's cumulative ``filled_quantity`` at the
moment the order ended, so the unfilled rest is known even before every fill event has arrived.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import TypeAlias

import attrs

from engine.orders import Order, OrderSide

__all__ = [
    "ExecutionEvent",
    "OrderAccepted",
    "OrderAck",
    "OrderCancelled",
    "OrderExpired",
    "OrderFilled",
    "OrderRejected",
    "OrderSnapshot",
    "OrderStatus",
]


class OrderStatus(enum.Enum):
    """Where an order stands at the venue."""

    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        """True once the order can no longer fill."""
        return self in _FINAL

    @property
    def is_open(self) -> bool:
        """True while the order may still fill."""
        return not self.is_final


_FINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


@attrs.frozen
class OrderAck:
    """The venue's answer to a submit: it holds the order under ``venue_order_id``."""

    client_order_id: str
    venue_order_id: str
    timestamp: float


@attrs.frozen(kw_only=True)
class OrderAccepted:
    """The venue accepted the order; it is working."""

    client_order_id: str
    symbol: str
    timestamp: float
    sequence: int = 0
    venue_order_id: str

    @classmethod
    def _checked(
        cls, client_order_id: str, symbol: str, timestamp: float, sequence: int, venue_order_id: str
    ) -> OrderAccepted:
        """The event from values a venue already holds: positional, without the keyword
        ``__init__`` (a venue replays an event per order to every reader; about a third cheaper)."""
        event = object.__new__(cls)
        put = object.__setattr__
        put(event, "client_order_id", client_order_id)
        put(event, "symbol", symbol)
        put(event, "timestamp", timestamp)
        put(event, "sequence", sequence)
        put(event, "venue_order_id", venue_order_id)
        return event


@attrs.frozen(kw_only=True)
class OrderFilled:
    """One execution (a trade) of an order."""

    client_order_id: str
    symbol: str
    timestamp: float
    sequence: int = 0
    trade_id: str
    side: OrderSide
    quantity: Decimal
    price: Decimal
    fee: Decimal
    is_maker: bool = False

    @classmethod
    def _checked(
        cls,
        client_order_id: str,
        symbol: str,
        timestamp: float,
        sequence: int,
        trade_id: str,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal,
        fee: Decimal,
        is_maker: bool,
    ) -> OrderFilled:
        """The event from values a venue already holds, as ``OrderAccepted._checked``."""
        event = object.__new__(cls)
        put = object.__setattr__
        put(event, "client_order_id", client_order_id)
        put(event, "symbol", symbol)
        put(event, "timestamp", timestamp)
        put(event, "sequence", sequence)
        put(event, "trade_id", trade_id)
        put(event, "side", side)
        put(event, "quantity", quantity)
        put(event, "price", price)
        put(event, "fee", fee)
        put(event, "is_maker", is_maker)
        return event

    @property
    def notional(self) -> Decimal:
        """Quantity × price."""
        return self.quantity * self.price


@attrs.frozen(kw_only=True)
class OrderCancelled:
    """The order was cancelled; ``filled_quantity`` is what had filled by then, in all."""

    client_order_id: str
    symbol: str
    timestamp: float
    sequence: int = 0
    filled_quantity: Decimal
    reason: str = "cancelled"


@attrs.frozen(kw_only=True)
class OrderRejected:
    """The venue refused the order after taking it; nothing filled."""

    client_order_id: str
    symbol: str
    timestamp: float
    sequence: int = 0
    reason: str


@attrs.frozen(kw_only=True)
class OrderExpired:
    """The order ended unfilled or partly filled by its time in force (an IOC rest, say)."""

    client_order_id: str
    symbol: str
    timestamp: float
    sequence: int = 0
    filled_quantity: Decimal
    reason: str = "expired"


ExecutionEvent: TypeAlias = OrderAccepted | OrderFilled | OrderCancelled | OrderRejected | OrderExpired


@attrs.frozen(kw_only=True)
class OrderSnapshot:
    """An order's full state at the venue, as a look-up by client order id returns it."""

    order: Order
    venue_order_id: str
    status: OrderStatus
    filled_quantity: Decimal
    average_price: Decimal | None
    fees: Decimal
    fills: tuple[OrderFilled, ...] = ()
    created_at: float
    updated_at: float

    @property
    def client_order_id(self) -> str:
        """The order's client order id."""
        return self.order.client_order_id

    @property
    def remaining_quantity(self) -> Decimal:
        """Quantity not filled (still working if the order is open, given up if final)."""
        return self.order.quantity - self.filled_quantity

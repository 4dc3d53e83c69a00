"""The order: what the engine asks a venue to do."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import attrs

from engine.errors import InvalidInputError
from engine.fields import enum_member, validate_symbol
from engine.ids import new_client_order_id, validate_client_order_id
from engine.numbers import Number, optional_positive, to_positive

__all__ = ["Order", "OrderSide", "OrderType", "TimeInForce"]


class OrderSide(enum.Enum):
    """Buy or sell."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the sign of the position change."""
        return 1 if self is OrderSide.BUY else -1

    @property
    def opposite(self) -> OrderSide:
        """The other side."""
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY

    @classmethod
    def parse(cls, value: Any, field: str = "side") -> OrderSide:
        """Accept an ``OrderSide`` or its name in any case ("buy", "SELL"); raise otherwise."""
        return enum_member(cls, value, field)

    def __str__(self) -> str:
        return self.name


class OrderType(enum.Enum):
    """Market (take whatever the book offers) or limit (no worse than ``limit_price``)."""

    MARKET = "market"
    LIMIT = "limit"

    @classmethod
    def parse(cls, value: Any, field: str = "order_type") -> OrderType:
        """Accept an ``OrderType`` or its name in any case; raise otherwise."""
        return enum_member(cls, value, field)


class TimeInForce(enum.Enum):
    """How long an order may rest: until cancelled, or immediate-or-cancel."""

    GTC = "gtc"
    IOC = "ioc"

    @classmethod
    def parse(cls, value: Any, field: str = "time_in_force") -> TimeInForce:
        """Accept a ``TimeInForce`` or its name in any case; raise otherwise."""
        return enum_member(cls, value, field)


# The converters take their own type as it is first: the engine makes an order per child, from
# values it already holds in these types.
def _side(value: Any) -> OrderSide:
    return value if value.__class__ is OrderSide else OrderSide.parse(value)


def _order_type(value: Any) -> OrderType:
    return value if value.__class__ is OrderType else OrderType.parse(value)


def _time_in_force(value: Any) -> TimeInForce:
    return value if value.__class__ is TimeInForce else TimeInForce.parse(value)


def _quantity(value: Number) -> Decimal:
    return to_positive(value, "quantity")


def _limit_price(value: Number | None) -> Decimal | None:
    return optional_positive(value, "limit_price")


def _client_order_id(value: Any) -> str:
    return validate_client_order_id(value)


def _symbol(value: Any) -> str:
    return validate_symbol(value)


def _parent_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInputError("parent_id", value, "expected a non-empty string or None")
    return value


@attrs.frozen
class Order:
    """One order as sent to a venue; immutable, so a retry resends exactly the same order.

    ``client_order_id`` is generated when not given and never changes. ``parent_id`` links a child
    order to the parent (TWAP) order it works for. A limit order needs ``limit_price``; a market
    order must not have one. Venue rules (tick, lot, minimums) are checked against the instrument
    at submit.
    """

    symbol: str = attrs.field(converter=_symbol)
    side: OrderSide = attrs.field(converter=_side)
    quantity: Decimal = attrs.field(converter=_quantity)
    order_type: OrderType = attrs.field(default=OrderType.MARKET, converter=_order_type)
    limit_price: Decimal | None = attrs.field(default=None, converter=_limit_price)
    time_in_force: TimeInForce = attrs.field(default=TimeInForce.GTC, converter=_time_in_force)
    client_order_id: str = attrs.field(factory=new_client_order_id, converter=_client_order_id)
    parent_id: str | None = attrs.field(default=None, converter=_parent_id)

    def __attrs_post_init__(self) -> None:
        if self.order_type is OrderType.LIMIT and self.limit_price is None:
            raise InvalidInputError("limit_price", None, "a limit order needs a limit price")
        if self.order_type is OrderType.MARKET and self.limit_price is not None:
            raise InvalidInputError(
                "limit_price", self.limit_price, "a market order must not have a limit price"
            )

    @classmethod
    def _checked(
        cls,
        symbol: str,
        side: OrderSide,
        quantity: Decimal,
        limit_price: Decimal | None,
        client_order_id: str,
        parent_id: str | None,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> Order:
        """An order from values the engine has already checked: a market order without a price, a
        limit order with one, a GTC unless told. The engine makes one per child order, and the
        converters and their checks were two thirds of its making; it is still checked again at
        the venue.
        """
        order = object.__new__(cls)
        put = object.__setattr__
        put(order, "symbol", symbol)
        put(order, "side", side)
        put(order, "quantity", quantity)
        put(order, "order_type", OrderType.MARKET if limit_price is None else OrderType.LIMIT)
        put(order, "limit_price", limit_price)
        put(order, "time_in_force", time_in_force)
        put(order, "client_order_id", client_order_id)
        put(order, "parent_id", parent_id)
        return order

    def describe(self) -> str:
        """A one-line human description, e.g. ``BUY 100 AAPL @ 150.00 LIMIT``."""
        price = f" @ {self.limit_price}" if self.limit_price is not None else ""
        return f"{self.side} {self.quantity} {self.symbol}{price} {self.order_type.name}"

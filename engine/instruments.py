"""Venue rules for one tradable symbol: tick size, lot size, minimum quantity and notional.

The planner, the slicer and the venue all read the same ``Instrument``, so an order the engine
builds is valid at the venue by construction.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import attrs

from engine.errors import InvalidInputError
from engine.fields import validate_symbol
from engine.numbers import ZERO, Number, is_multiple, to_non_negative, to_positive
from engine.orders import Order, OrderSide

__all__ = ["Instrument"]


def _symbol(value: Any) -> str:
    return validate_symbol(value)


def _tick_size(value: Number) -> Decimal:
    return to_positive(value, "tick_size")


def _lot_size(value: Number) -> Decimal:
    return to_positive(value, "lot_size")


def _min_quantity(value: Number) -> Decimal:
    return to_non_negative(value, "min_quantity")


def _min_notional(value: Number) -> Decimal:
    return to_non_negative(value, "min_notional")


@attrs.frozen
class Instrument:
    """Trading rules of one symbol at one venue.

    ``lot_size`` is the quantity step (1 for whole shares, 0.001 for fractional ones),
    ``tick_size`` the price step, ``min_quantity`` and ``min_notional`` the smallest order the
    venue accepts (quantity, and quantity × price).
    """

    symbol: str = attrs.field(converter=_symbol)
    tick_size: Decimal = attrs.field(default=Decimal("0.01"), converter=_tick_size)
    lot_size: Decimal = attrs.field(default=Decimal(1), converter=_lot_size)
    min_quantity: Decimal = attrs.field(default=ZERO, converter=_min_quantity)
    min_notional: Decimal = attrs.field(default=ZERO, converter=_min_notional)

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """Round a quantity down to a whole number of lots."""
        lots = (quantity / self.lot_size).to_integral_value(rounding=ROUND_FLOOR)
        return lots * self.lot_size

    def round_price(self, price: Decimal, side: OrderSide | None = None) -> Decimal:
        """Round a price to the tick grid: down for a buy, up for a sell, nearest if no side.

        Rounding a limit price toward the passive side never makes it more aggressive.
        """
        ticks = price / self.tick_size
        if side is OrderSide.BUY:
            ticks = ticks.to_integral_value(rounding=ROUND_FLOOR)
        elif side is OrderSide.SELL:
            ticks = ticks.to_integral_value(rounding=ROUND_CEILING)
        else:
            ticks = ticks.to_integral_value()
        return ticks * self.tick_size

    def min_order_lots(self, price: Decimal | None, min_notional: Decimal = ZERO) -> tuple[int, int]:
        """The smallest order allowed at ``price``, in lots, as (by quantity, by notional).

        By quantity: one lot, or the minimum quantity. By notional: the minimum notional (the
        venue's, or ``min_notional`` when larger) at ``price``; 0 with no price or no minimum.
        The smallest order is the larger of the two. The planner and the slicer both ask here.
        """
        by_quantity = max(1, int((self.min_quantity / self.lot_size).to_integral_value(ROUND_CEILING)))
        notional = max(self.min_notional, min_notional)
        if notional <= 0 or price is None or price <= 0:
            return by_quantity, 0
        return by_quantity, int((notional / (price * self.lot_size)).to_integral_value(ROUND_CEILING))

    def min_order_quantity(self, price: Decimal | None, min_notional: Decimal = ZERO) -> Decimal:
        """The smallest order allowed at ``price`` (see ``min_order_lots``), as a quantity."""
        lots = max(self.min_order_lots(price, min_notional))
        return self.lot_size if lots == 1 else lots * self.lot_size  # (one lot: share the Decimal)

    def check_quantity(self, quantity: Decimal, field: str = "quantity") -> None:
        """Raise ``InvalidInputError`` if the quantity is off the lot grid or below the minimum."""
        if not is_multiple(quantity, self.lot_size):
            raise InvalidInputError(
                field, quantity, f"not a multiple of the lot size {self.lot_size} of {self.symbol}"
            )
        if quantity < self.min_quantity:
            raise InvalidInputError(
                field, quantity, f"below the minimum quantity {self.min_quantity} of {self.symbol}"
            )

    def check_price(self, price: Decimal, field: str = "limit_price") -> None:
        """Raise ``InvalidInputError`` if the price is off the tick grid."""
        if not is_multiple(price, self.tick_size):
            raise InvalidInputError(
                field, price, f"not on the tick grid {self.tick_size} of {self.symbol}"
            )

    def check_notional(self, quantity: Decimal, price: Decimal, field: str = "quantity") -> None:
        """Raise ``InvalidInputError`` if quantity × price is below the minimum notional."""
        if quantity * price < self.min_notional:
            raise InvalidInputError(
                field,
                quantity,
                f"notional {quantity * price} below the minimum {self.min_notional} of {self.symbol}",
            )

    def check_order(self, order: Order, reference_price: Decimal | None = None) -> None:
        """Raise ``InvalidInputError`` if ``order`` breaks any rule of this instrument.

        The notional of a market order is checked against ``reference_price`` when given.
        """
        if order.symbol != self.symbol:
            raise InvalidInputError("symbol", order.symbol, f"order is not for {self.symbol}")
        self.check_quantity(order.quantity)
        if order.limit_price is not None:
            self.check_price(order.limit_price)
        price = order.limit_price if order.limit_price is not None else reference_price
        if price is not None:
            self.check_notional(order.quantity, price)

"""The trading account at the simulated venue: cash and positions, changed only by fills.

A buy pays ``quantity × price + fee``; a sell receives ``quantity × price − fee``. The venue
does not check buying power or short positions: it models execution, not a broker's risk desk.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from engine.errors import InvalidInputError
from engine.fields import validate_symbol
from engine.numbers import to_decimal
from engine.orders import OrderSide

__all__ = ["Account"]

_ZERO = Decimal(0)  # the position of a symbol never traded (made once, not per fill)


class Account:
    """Cash and positions; ``apply_fill`` is the one place that changes them."""

    def __init__(self, cash: Any = 0, positions: Mapping[str, Any] | None = None) -> None:
        self._cash = to_decimal(cash, "cash")
        if positions is not None and not isinstance(positions, Mapping):
            raise InvalidInputError("positions", positions, "expected a mapping of symbol to quantity")
        self._positions: dict[str, Decimal] = {}
        for symbol, quantity in (positions or {}).items():
            validate_symbol(symbol, "positions")
            self._positions[symbol] = to_decimal(quantity, f"positions[{symbol!r}]")
        self._fees = Decimal(0)

    def __repr__(self) -> str:
        held = {symbol: str(quantity) for symbol, quantity in self._positions.items()}
        return f"<Account cash={self._cash} positions={held} fees={self._fees}>"

    @property
    def cash(self) -> Decimal:
        """Cash after every fill and fee so far."""
        return self._cash

    @property
    def positions(self) -> Mapping[str, Decimal]:
        """Quantity held per symbol (negative when short), read-only."""
        return MappingProxyType(self._positions)

    @property
    def fees_paid(self) -> Decimal:
        """Total fees paid (rebates count negative)."""
        return self._fees

    def apply_fill(
        self, symbol: str, side: OrderSide, quantity: Decimal, price: Decimal, fee: Decimal
    ) -> None:
        """Book one fill: move the position, the cash and the fee total."""
        # ``side.sign * quantity`` without the property and the int product: the same value,
        # exponent and rounding to the context's precision.
        signed = +quantity if side is OrderSide.BUY else -quantity
        positions = self._positions
        positions[symbol] = positions.get(symbol, _ZERO) + signed
        self._cash -= signed * price + fee
        self._fees += fee


"""The venue's instruments from ccxt's ``load_markets``.

Only markets of the asked-for types (``market["type"]``: spot, margin, swap, future, option) that are
active become instruments. The engine's symbol is ccxt's unified symbol (``BTC/USDT``). The rules
come from the unified market:

- ``tick_size`` from ``precision.price`` and ``lot_size`` from ``precision.amount``: a step when the
  exchange's ``precisionMode`` is ``TICK_SIZE`` (Binance's ``PRICE_FILTER``/``LOT_SIZE``), else a
  number of decimal places turned into a step;
- ``min_quantity`` from ``limits.amount.min`` and ``min_notional`` from ``limits.cost.min``
  (Binance's ``NOTIONAL``/``MIN_NOTIONAL`` filter).

ccxt hands these over as floats; each goes through ``str()`` into a ``Decimal``, which recovers the
exchange's decimal text for any step of up to 15 significant digits (all real steps).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from engine.errors import InvalidInputError
from engine.instruments import Instrument
from engine.numbers import ZERO

__all__ = ["SymbolNames", "instruments_from_markets", "to_decimal"]

# ccxt's precision modes (ccxt.base.decimal_to_precision): digits after the point, or a step.
_DECIMAL_PLACES = 2
_TICK_SIZE = 4


def to_decimal(value: Any, field: str) -> Decimal:
    """A number ccxt gives (float, int or str) as a ``Decimal`` (floats through ``str``)."""
    if value is None or isinstance(value, bool):
        raise InvalidInputError(field, value, "the venue sent no number")
    text = value if isinstance(value, str) else str(value)
    if isinstance(value, float) and text.endswith(".0"):
        text = text[:-2]  # ccxt's float for a whole number: "20.0" is the venue's "20"
    try:
        number = Decimal(text)
    except ArithmeticError:
        raise InvalidInputError(field, value, "the venue sent a value that is not a number") from None
    if not number.is_finite():
        raise InvalidInputError(field, value, "the venue sent a value that is not finite")
    return number


def _step(value: Any, precision_mode: int, field: str, default: Decimal) -> Decimal:
    if value is None:
        return default
    number = to_decimal(value, field)
    if precision_mode == _TICK_SIZE:
        return number if number > 0 else default
    if precision_mode == _DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(number))
    return default  # significant digits: no fixed step; the venue still checks


def _limit(market: Mapping[str, Any], kind: str) -> Decimal:
    value = (market.get("limits") or {}).get(kind, {}) or {}
    minimum = value.get("min")
    return ZERO if minimum is None else max(ZERO, to_decimal(minimum, f"limits.{kind}.min"))


class SymbolNames:
    """Our names for the venue's unified symbols: the same by default, or ``aliases``
    (ours -> the venue's, e.g. ``{"AAPL": "AAPL/USDT"}``), which then also limit the instruments."""

    def __init__(self, aliases: Mapping[str, str] | None = None) -> None:
        self._to_venue = dict(aliases or {})
        self._to_ours = {venue: ours for ours, venue in self._to_venue.items()}
        if len(self._to_ours) != len(self._to_venue):
            raise InvalidInputError("aliases", aliases, "two of our symbols name the same market")

    @property
    def aliased(self) -> bool:
        """True when only the aliased markets are ours."""
        return bool(self._to_venue)

    def venue(self, ours: str) -> str:
        """The venue's unified symbol for our ``ours``."""
        return self._to_venue.get(ours, ours)

    def ours(self, venue: str) -> str:
        """Our symbol for the venue's unified ``venue``."""
        return self._to_ours.get(venue, venue)

    def check(self, markets: Mapping[str, Any]) -> None:
        """Raise ``InvalidInputError`` naming an alias whose market the venue does not list."""
        for ours, venue in self._to_venue.items():
            if venue not in markets:
                raise InvalidInputError(f"aliases.{ours}", venue, "the venue does not list this market")


def instruments_from_markets(
    markets: Mapping[str, Mapping[str, Any]],
    market_types: Iterable[str],
    precision_mode: int,
    names: SymbolNames | None = None,
) -> dict[str, Instrument]:
    """Instruments for the active markets of the given types, by our symbol."""
    names = names or SymbolNames()
    wanted = set(market_types)
    instruments: dict[str, Instrument] = {}
    for venue_symbol, market in markets.items():
        if market.get("type") not in wanted or market.get("active") is False:
            continue
        symbol = names.ours(venue_symbol)
        if names.aliased and symbol == venue_symbol:
            continue
        precision = market.get("precision") or {}
        instruments[symbol] = Instrument(
            symbol,
            tick_size=_step(precision.get("price"), precision_mode, "precision.price", Decimal("1e-8")),
            lot_size=_step(precision.get("amount"), precision_mode, "precision.amount", Decimal("1e-8")),
            min_quantity=_limit(market, "amount"),
            min_notional=_limit(market, "cost"),
        )
    return instruments

"""Market data the engine reads from a venue: the top-of-book quote."""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine.errors import InvalidInputError
from engine.fields import validate_symbol
from engine.numbers import Number, optional_positive, to_non_negative, to_positive

__all__ = ["Quote"]


def _symbol(value: object) -> str:
    return validate_symbol(value)


def _bid(value: Number) -> Decimal:
    return to_positive(value, "bid")


def _ask(value: Number) -> Decimal:
    return to_positive(value, "ask")


def _bid_size(value: Number) -> Decimal:
    return to_non_negative(value, "bid_size")


def _ask_size(value: Number) -> Decimal:
    return to_non_negative(value, "ask_size")


def _last(value: Number | None) -> Decimal | None:
    return optional_positive(value, "last")


def _volume(value: Number | None) -> Decimal | None:
    return None if value is None else to_non_negative(value, "volume")


@attrs.frozen
class Quote:
    """Best bid and ask with their displayed sizes, the last trade price and the quote time.

    ``volume`` is the venue's running count of what the market traded (``None`` when it reports
    none): the difference between two quotes is the volume traded between them.
    """

    symbol: str = attrs.field(converter=_symbol)
    bid: Decimal = attrs.field(converter=_bid)
    ask: Decimal = attrs.field(converter=_ask)
    bid_size: Decimal = attrs.field(default=Decimal(0), converter=_bid_size)
    ask_size: Decimal = attrs.field(default=Decimal(0), converter=_ask_size)
    last: Decimal | None = attrs.field(default=None, converter=_last)
    timestamp: float = 0.0
    volume: Decimal | None = attrs.field(default=None, converter=_volume)

    def __attrs_post_init__(self) -> None:
        if self.bid > self.ask:
            raise InvalidInputError("bid", self.bid, f"above the ask {self.ask} (crossed quote)")

    @property
    def mid(self) -> Decimal:
        """The midpoint of bid and ask."""
        return (self.bid + self.ask) / 2

    @property
    def spread(self) -> Decimal:
        """Ask minus bid."""
        return self.ask - self.bid

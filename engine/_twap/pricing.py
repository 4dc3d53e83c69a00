"""The prices a parent's slices are sent at: its style's price on the quote, never beyond the
parent's limit price, on the tick grid."""

from __future__ import annotations

from decimal import Decimal

from engine._twap.params import SliceStyle, TWAPParams
from engine.instruments import Instrument
from engine.market import Quote
from engine.orders import OrderSide

__all__ = ["bounded_price", "slice_price", "within_limit"]


def within_limit(price: Decimal | None, limit: Decimal | None, side: OrderSide) -> bool:
    """True when ``price`` is not beyond ``limit`` (or either is unknown)."""
    if limit is None or price is None:
        return True
    return price <= limit if side is OrderSide.BUY else price >= limit


def bounded_price(price: Decimal, limit: Decimal | None, side: OrderSide, instrument: Instrument) -> Decimal:
    """``price`` no more aggressive than ``limit``, rounded last toward the passive side: on the
    tick grid even for a limit price that is not, and never beyond it."""
    if limit is not None:
        price = min(price, limit) if side is OrderSide.BUY else max(price, limit)
    return instrument.round_price(max(price, instrument.tick_size), side)


def slice_price(quote: Quote, side: OrderSide, params: TWAPParams, instrument: Instrument) -> Decimal:
    """The limit price of a resting slice of ``params.style`` on ``quote``."""
    style = params.style
    if style is SliceStyle.PASSIVE:
        price = quote.bid if side is OrderSide.BUY else quote.ask
    elif style is SliceStyle.TOUCH:
        price = quote.ask if side is OrderSide.BUY else quote.bid
    else:
        price = quote.mid
    price -= side.sign * params.offset_ticks * instrument.tick_size
    return bounded_price(price, params.limit_price, side, instrument)

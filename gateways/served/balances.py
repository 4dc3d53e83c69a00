"""Balances as Binance shows them: ``free`` and ``locked`` per asset, and the funds check.

The simulated venue keeps cash (the quote asset) and a position per symbol (a base asset); it
reserves nothing for resting orders. The served venue shows what Binance would: each open order
locks what it may still spend (a buy: its unfilled quantity × its limit price, in the quote
asset; a sell: its unfilled quantity of the base asset), and ``free`` is the rest.

With ``check_balances`` on, a new order that needs more than is free is refused as Binance does
(-2010 "Account has insufficient balance for requested action."); a market buy is valued at the
ask. Off by default: the simulated venue itself lets cash and positions go below zero.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine.orders import Order, OrderSide
from gateways.served.errors import BinanceError
from gateways.served.ledger import Ledger
from gateways.served.symbols import SymbolMap
from gateways.simulated import SimulatedVenue

__all__ = ["AssetBalance", "balances", "check_funds"]

_ZERO = Decimal(0)


@attrs.frozen
class AssetBalance:
    """One asset's balance: ``free`` to spend, ``locked`` by open orders."""

    asset: str
    free: Decimal
    locked: Decimal


def _locked(ledger: Ledger, symbols: SymbolMap) -> dict[str, Decimal]:
    locked: dict[str, Decimal] = {}
    for entry in ledger.open_entries():
        order = entry.order
        rest = order.quantity - entry.executed
        market = symbols.market(order.symbol)
        if order.side is OrderSide.BUY:
            price = order.limit_price if order.limit_price is not None else _ZERO
            locked[market.quote] = locked.get(market.quote, _ZERO) + rest * price
        else:
            locked[market.base] = locked.get(market.base, _ZERO) + rest
    return locked


def balances(venue: SimulatedVenue, ledger: Ledger, symbols: SymbolMap) -> list[AssetBalance]:
    """Every asset's balance: the quote asset first, then each base asset."""
    locked = _locked(ledger, symbols)
    totals = {symbols.quote: venue.cash}
    positions = venue.positions
    for market in symbols:
        totals[market.base] = positions.get(market.symbol, _ZERO)
    return [
        AssetBalance(asset, total - locked.get(asset, _ZERO), locked.get(asset, _ZERO))
        for asset, total in totals.items()
    ]


def check_funds(
    order: Order, reference_price: Decimal, venue: SimulatedVenue, ledger: Ledger, symbols: SymbolMap
) -> None:
    """Refuse ``order`` (-2010) if it needs more than is free."""
    market = symbols.market(order.symbol)
    free = {balance.asset: balance.free for balance in balances(venue, ledger, symbols)}
    if order.side is OrderSide.BUY:
        price = order.limit_price if order.limit_price is not None else reference_price
        enough = free[market.quote] >= order.quantity * price
    else:
        enough = free[market.base] >= order.quantity
    if not enough:
        raise BinanceError(400, -2010, "Account has insufficient balance for requested action.")

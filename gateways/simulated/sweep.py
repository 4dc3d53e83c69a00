"""What finishing a remainder would cost now: the average price of sweeping it through the book.

A backtest that ends with shares unfilled should not value them at the mid, as if they could be
had for free: ``sweep_price`` prices them as a market order would meet them. Under the
``square_root`` model that is the latent book of impact.py from the side's present displacement
(shown depth or not); under ``legacy`` it walks the levels ``impact_bps`` apart, each showing
``displayed_size``, and goes on at the same spacing past the last level.
"""

from __future__ import annotations

from decimal import Decimal

from engine.orders import OrderSide
from gateways.simulated.matching import SymbolBook
from gateways.simulated.model_book import ImpactBook
from gateways.simulated.prices import round_to_tick

__all__ = ["sweep_price"]


def sweep_price(book: object, side: OrderSide, quantity: Decimal) -> Decimal:
    """The average price of taking ``quantity`` (positive) on ``side`` from ``book`` now."""
    if isinstance(book, ImpactBook):
        return book.sweep_price(side, quantity)
    assert isinstance(book, SymbolBook)
    spec = book.spec
    touch = book.touch(side)
    spacing = max(round_to_tick(touch * spec.impact_bps / Decimal(10_000), spec.tick_size, up=True),
                  spec.tick_size)
    size = spec.displayed_size
    left, cost, level = quantity, Decimal(0), 0
    while left > 0:
        price = touch + side.sign * level * spacing
        if price <= 0:  # a sell that would walk below zero: the rest at the last positive price
            price = touch + side.sign * (level - 1) * spacing
            cost += left * price
            break
        part = min(size, left)
        cost += part * price
        left -= part
        level += 1
    return cost / quantity

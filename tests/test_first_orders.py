"""Talking to the gateway directly: a market and a limit order, and their fills in a table."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from engine import run_virtual

# The scripts folder is not a package: it goes on the path, as when the script runs itself.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import first_orders


async def test_first_orders_fill_both_orders_and_book_them() -> None:
    result = await first_orders.main(seed=11)
    market, limit = result.orders
    for order in result.orders:
        quantity = sum((f.quantity for f in result.fills if f.client_order_id == order.client_order_id),
                       Decimal(0))
        assert quantity == order.quantity
    assert all(f.is_maker for f in result.fills if f.client_order_id == limit.client_order_id)
    assert not any(f.is_maker for f in result.fills if f.client_order_id == market.client_order_id)
    assert result.positions == {"AAPL": Decimal(100), "MSFT": Decimal(50)}
    spent = sum((f.side.sign * f.quantity * f.price + f.fee for f in result.fills), Decimal(0))
    assert result.cash == Decimal(1_000_000) - spent


def test_first_orders_print_the_same_table_for_the_same_seed() -> None:
    first = first_orders.format_report(run_virtual(first_orders.main, 3))
    assert first == first_orders.format_report(run_virtual(first_orders.main, 3))
    assert first != first_orders.format_report(run_virtual(first_orders.main, 4))
    assert first.splitlines()[0].split() == ["symbol", "side", "qty", "price", "fee", "time", "client",
                                             "order", "id"]
    assert "positions: AAPL 100, MSFT 50" in first

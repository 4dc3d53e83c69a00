"""The gateway on its own: one market and one limit order against the simulated venue.

    python3 scripts/first_orders.py [seed]

Runs on virtual time (a simulated minute passes in milliseconds), prints the fills as a table and
the account afterwards. The same seed prints the same output.
"""

from __future__ import annotations

import sys

from _bootstrap import ensure_venv

if __name__ == "__main__":
    # Run as a script, it switches to the project's .venv (making it first if need be); imported,
    # as by the tests, it stays in the interpreter that imports it (a switch would replace that
    # whole process, a test run included).
    ensure_venv()

# The project's packages exist only inside the virtual environment ensure_venv() switched to.
import logging
from collections.abc import Mapping
from decimal import Decimal

import anyio
import attrs
import structlog

from engine import (
    ClientOrderIdGenerator,
    Order,
    OrderFilled,
    OrderSide,
    OrderType,
    run_virtual,
)
from gateways.simulated import SimulatedVenue

DEFAULT_SEED = 7


@attrs.frozen
class DemoResult:
    """What the script did: every fill, and the account afterwards."""

    orders: tuple[Order, ...]
    fills: tuple[OrderFilled, ...]
    positions: Mapping[str, Decimal] = attrs.field(hash=False)
    cash: Decimal


async def main(seed: int = DEFAULT_SEED) -> DemoResult:
    """Buy 100 AAPL at market and 50 MSFT with a limit at the mid; wait for both to fill."""
    ids = ClientOrderIdGenerator("demo", seed=seed)
    venue = SimulatedVenue.demo(seed=seed)
    fills: list[OrderFilled] = []
    async with venue:
        msft = await venue.get_quote("MSFT")
        orders = (
            Order("AAPL", OrderSide.BUY, 100, client_order_id=ids()),
            Order(
                "MSFT", OrderSide.BUY, 50, order_type=OrderType.LIMIT,
                limit_price=venue.instrument("MSFT").round_price(msft.mid, OrderSide.BUY),
                client_order_id=ids(),
            ),
        )
        wanted = {order.client_order_id: order.quantity for order in orders}
        with anyio.fail_after(3600):  # virtual seconds: the limit order fills long before
            async with anyio.create_task_group() as group:
                for order in orders:
                    group.start_soon(venue.submit_order, order)
                async for event in venue.events():
                    if isinstance(event, OrderFilled) and event.client_order_id in wanted:
                        fills.append(event)
                        wanted[event.client_order_id] -= event.quantity
                        if not any(wanted.values()):
                            break
        return DemoResult(orders, tuple(fills), dict(venue.positions), venue.cash)


def format_report(result: DemoResult) -> str:
    """The fills as a table, then the positions and cash."""
    header = ("symbol", "side", "qty", "price", "fee", "time", "client order id")
    rows = [
        (f.symbol, str(f.side), str(f.quantity), f"{f.price:.2f}", f"{f.fee:.4f}", f"{f.timestamp:.3f}s",
         f.client_order_id)
        for f in result.fills
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append("")
    lines.append("positions: " + ", ".join(f"{s} {q}" for s, q in sorted(result.positions.items())))
    lines.append(f"cash:      {result.cash:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    # Applications configure logging; this script shows only warnings so the table stands out.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SEED
    print(format_report(run_virtual(main, seed)))

"""The readable form of a rebalancing plan: a summary line, cash, and one table row per symbol."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.rebalancing_plan import RebalancingPlan

__all__ = ["format_plan"]


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _percent(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def _quantity(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def format_plan(plan: RebalancingPlan) -> str:
    """Render ``plan`` as text: what trades, what it costs, and why each symbol ends where it does."""
    trades = {trade.symbol: trade for trade in plan.trades}
    lines = [
        f"Rebalancing plan: {_count(len(plan.trades), 'trade')} "
        f"({_count(len(plan.sells), 'sell')}, {_count(len(plan.buys), 'buy')}), "
        f"turnover {_percent(plan.turnover)}, rounding error {plan.rounding_error:.6f}",
        f"cash {_money(plan.cash_before)} -> {_money(plan.cash_after)} "
        f"(weight {_percent(plan.cash_weight_before)} -> {_percent(plan.cash_weight_after)}, "
        f"target {_percent(plan.target_cash_weight)}; floor {_money(plan.cash_floor)}); "
        f"fees {_money(plan.total_fees)}, slippage {_money(plan.total_slippage)}",
    ]
    header = ("symbol", "side", "quantity", "est. price", "notional", "fee",
              "before", "target", "after", "reason")
    rows = [header]
    # Sells first, as they will be sent; then buys; then the symbols that do not trade.
    order = [t.symbol for t in plan.trades] + [a.symbol for a in plan.allocations if a.symbol not in trades]
    by_symbol = {a.symbol: a for a in plan.allocations}
    for symbol in order:
        row = by_symbol[symbol]
        trade = trades.get(symbol)
        rows.append((
            symbol,
            str(trade.side) if trade else "-",
            _quantity(trade.quantity) if trade else "0",
            _money(trade.estimated_price) if trade else _money(row.price),
            _money(trade.notional) if trade else "-",
            _money(trade.estimated_fee) if trade else "-",
            _percent(row.weight_before),
            _percent(row.target_weight),
            _percent(row.weight_after),
            row.reason.value if not row.reason.is_adjustment else f"{row.reason.value}: {row.note}",
        ))
    widths = [max(len(r[c]) for r in rows) for c in range(len(header) - 1)]
    for r in rows:
        # The last column (the reason) is free text and is not padded.
        pairs = enumerate(zip(r, widths, strict=False))
        cells = [cell.ljust(w) if c < 2 else cell.rjust(w) for c, (cell, w) in pairs]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
    return "\n".join(lines)

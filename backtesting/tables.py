"""The tables the command line prints (with rich) and writes (as CSV).

Numbers are formatted once, here, so the printed table, the CSV and the README agree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
from rich.table import Table

from backtesting.result import ParentSummary, VariantResult, VariantTotals

__all__ = [
    "COMPARISON_COLUMNS",
    "SUMMARY_COLUMNS",
    "comparison_cells",
    "comparison_table",
    "rows_to_csv",
    "summary_cells",
    "summary_table",
    "sweep_table",
]

SUMMARY_COLUMNS = (
    "symbol", "side", "quantity", "filled", "avg price", "slip vs arrival (bps)", "shortfall",
    "shortfall (bps)", "fees", "aggressive", "state",
)
COMPARISON_COLUMNS = (
    "variant", "parents", "fully filled", "completion", "shortfall (bps)", "slippage (bps)", "fees",
    "aggressive", "child orders", "429s", "duration (s)",
)


def _number(value: Decimal | str | None, places: int = 2) -> str:
    return "-" if value is None else f"{Decimal(value):,.{places}f}"


def _quantity(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def _share(value: Decimal | str) -> str:
    return f"{Decimal(value) * 100:.1f}%"


def summary_cells(row: ParentSummary) -> tuple[str, ...]:
    """One parent's row, formatted."""
    return (
        row.symbol, str(row.side), _quantity(row.quantity), _quantity(row.filled), _number(row.avg_price, 4),
        _number(row.slippage_bps), _number(row.shortfall), _number(row.shortfall_bps), _number(row.fees),
        _share(row.aggressive_share), row.final_state,
    )


def comparison_cells(row: VariantTotals) -> tuple[str, ...]:
    """One variant's totals, formatted."""
    return (
        row.variant, str(row.parents), str(row.fully_filled), _share(row.completion_share),
        _number(row.shortfall_bps), _number(row.slippage_bps), _number(row.fees),
        _share(row.aggressive_share), str(row.child_orders), str(row.rate_limit_violations),
        f"{row.duration:,.0f}",
    )


def _table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]], left: int = 1) -> Table:
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index < left else "right")
    for row in rows:
        table.add_row(*row)
    return table


def summary_table(variant: VariantResult, max_rows: int = 30) -> Table:
    """Per parent: filled, average price, slippage, shortfall, fees, aggressive share, final state.

    Beyond ``max_rows`` parents the largest (by quantity × average price) are shown.
    """
    rows = list(variant.summary())
    title = f"Execution summary: {variant.name}"
    if len(rows) > max_rows:
        rows.sort(key=lambda r: -(r.filled * (r.avg_price or Decimal(0))))
        title += f" (largest {max_rows} of {len(rows)} parents)"
        rows = rows[:max_rows]
    return _table(title, SUMMARY_COLUMNS, (summary_cells(r) for r in rows), left=2)


def comparison_table(totals: Sequence[VariantTotals]) -> Table:
    """One row per variant: the execution-quality comparison."""
    return _table("Execution quality by variant", COMPARISON_COLUMNS, (comparison_cells(t) for t in totals))


def sweep_table(rows: Sequence[Mapping[str, Any]], grid_keys: Sequence[str]) -> Table:
    """The sweep's comparison: one row per grid point and variant, formatted like the comparison."""
    def cells(row: Mapping[str, Any]) -> list[str]:
        totals = VariantTotals(**{key: row[key] for key in _TOTALS_KEYS})
        return [str(row[key]) for key in grid_keys] + list(comparison_cells(totals))

    columns = [*grid_keys, *COMPARISON_COLUMNS]
    return _table("Sweep", columns, (cells(row) for row in rows), left=len(grid_keys) + 1)


_TOTALS_KEYS = tuple(field.name for field in attrs.fields(VariantTotals))


def rows_to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV text with a header (``\\n`` line ends, so the bytes do not depend on the OS)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] for c in columns])
    return buffer.getvalue()

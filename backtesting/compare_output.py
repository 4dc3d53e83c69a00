"""What ``compare`` prints and writes: its table, ``compare.json`` and ``compare.png``.

The figure is drawn like the execution figure (matplotlib's object API on the Agg canvas): on
the left each variant's shortfall over the paths (box from the 25th to the 75th percentile,
whiskers at the 5th and 95th, the mean as a dot); on the right each variant's paired
difference from the baseline path by path, with its mean and 95% interval.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from backtesting.compare import CompareResult
from backtesting.outputs import write_outputs

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "COMPARE_COLUMNS", "compare_figure", "compare_markdown", "compare_rows", "compare_table", "write_compare",
]

COMPARE_COLUMNS = (
    "variant", "mean (bps)", "median", "std", "p5", "p95", "completion", "complete paths",
    "at deadline", "fees", "vs baseline (bps)", "95% interval", "p-value",
)
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
_METADATA: dict[str, str | None] = {"Software": None}


def compare_rows(result: CompareResult) -> list[tuple[str, ...]]:
    """The table's cells, one row per variant (the README shows the same)."""
    differences = result.differences()
    rows: list[tuple[str, ...]] = []
    for row in result.statistics():
        diff = differences[row.variant]
        shortfall = row.shortfall_bps
        if row.variant == result.baseline:
            versus, interval, p_value = "(baseline)", "", ""
        else:
            versus = f"{diff.mean:+.2f}"
            interval = f"[{diff.low:+.2f}, {diff.high:+.2f}]"
            p_value = f"{diff.p_value:.3g}" if diff.p_value >= 1e-4 else "<0.0001"
        rows.append((
            row.variant, f"{shortfall.mean:.2f}", f"{shortfall.median:.2f}", f"{shortfall.std:.2f}",
            f"{shortfall.p5:.2f}", f"{shortfall.p95:.2f}", f"{row.completion:.1%}",
            f"{row.complete_paths:.0%}", f"{row.deadline_share:.1%}", f"{row.fees:,.2f}", versus, interval,
            p_value,
        ))
    return rows


def compare_table(result: CompareResult) -> Table:
    """The study's table: shortfall per variant over the paths, and the paired differences."""
    paths = len(result.per_path)
    last = result.first_seed + paths - 1
    title = f"Shortfall over {paths} paths (seeds {result.first_seed}-{last}), baseline {result.baseline}"
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(COMPARE_COLUMNS):
        table.add_column(column, justify="left" if index == 0 else "right")
    for cells in compare_rows(result):
        table.add_row(*cells)
    return table


def compare_markdown(result: CompareResult) -> str:
    """The same table in Markdown, for a README."""
    lines = ["| " + " | ".join(COMPARE_COLUMNS) + " |", "|" + "---|" * len(COMPARE_COLUMNS)]
    lines += ["| " + " | ".join(cells) + " |" for cells in compare_rows(result)]
    return "\n".join(lines) + "\n"


def compare_figure(result: CompareResult) -> Figure:
    """The distributions (see the module docstring), as a matplotlib ``Figure``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(result.variants)
    figure = Figure(figsize=(12, 4.8), dpi=100)
    FigureCanvasAgg(figure)
    spread, paired = figure.subplots(1, 2)
    figure.subplots_adjust(left=0.07, right=0.98, wspace=0.22, bottom=0.22, top=0.86)
    paths = len(result.per_path)
    figure.suptitle(f"{result.scenario.name}: {paths} paths, each variant on the same ones", fontsize=12)
    samples = [result.values(name, "shortfall_bps") for name in names]
    spread.boxplot(samples, whis=(5, 95), showfliers=False, showmeans=True)
    spread.set_title("shortfall per path (bps; whiskers 5th-95th percentile)", fontsize=10)
    baseline = result.values(result.baseline, "shortfall_bps")
    others = [name for name in names if name != result.baseline]
    differences = result.differences()
    gaps = {
        name: [a - b for a, b in zip(result.values(name, "shortfall_bps"), baseline, strict=True)]
        for name in others
    }
    # One set of bins for every variant, so their histograms compare bar by bar.
    everything = [value for values in gaps.values() for value in values] or [0.0]
    low, high = min(everything), max(everything)
    count = min(40, max(5, paths // 8))
    width = (high - low) / count or 1.0
    edges = [low + width * step for step in range(count + 1)]
    for index, name in enumerate(others):
        colour = _COLOURS[index % len(_COLOURS)]
        paired.hist(gaps[name], bins=edges, alpha=0.5, color=colour, label=name)
        diff = differences[name]
        paired.axvline(diff.mean, color=colour, linewidth=1.5)
        if diff.low > float("-inf"):
            paired.axvspan(diff.low, diff.high, color=colour, alpha=0.15)
    paired.axvline(0.0, color="0.3", linewidth=0.8, linestyle="--")
    paired.set_title(f"paired difference from {result.baseline} (bps; mean and 95% interval)", fontsize=10)
    if others:
        paired.legend(fontsize=7, loc="best")
    spread.set_xticks(range(1, len(names) + 1))
    spread.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
    return figure


def write_compare(result: CompareResult, out_dir: str | Path) -> list[Path]:
    """Write ``compare.json`` and ``compare.png`` into ``out_dir``, both or neither."""
    text = json.dumps(result.to_dict(), sort_keys=True, indent=2) + "\n"

    def draw(path: Path) -> None:
        compare_figure(result).savefig(path, format="png", metadata=_METADATA)

    return write_outputs(out_dir, {
        "compare.json": lambda path: path.write_text(text, encoding="utf-8"),
        "compare.png": draw,
    })

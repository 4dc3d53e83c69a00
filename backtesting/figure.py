"""The execution figure: per symbol, cumulative filled against the schedule, and fills on the price path.

Drawn with matplotlib's object API on the Agg canvas (no screen, no global pyplot state), so it
works in a terminal, a notebook or a worker process alike. Each variant has its own colour; the
schedule is dashed, deadline-completion fills are drawn as crosses.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Literal

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from backtesting.result import BacktestResult, VariantResult
from engine.twap_executor import ExecutionReport

__all__ = ["execution_figure", "save_figure"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
# PNG text chunks only; no software version or time, so the same figure is the same file more often.
_METADATA: dict[str, str | None] = {"Software": None}


def _minutes(seconds: Sequence[float]) -> list[float]:
    return [s / 60.0 for s in seconds]


def _schedule(reports: Sequence[ExecutionReport]) -> tuple[list[float], list[float]]:
    due = sorted((s.scheduled_at, s.quantity) for r in reports for s in r.slices)
    times, totals, total = [], [], Decimal(0)
    for time, quantity in due:
        total += quantity
        times.append(time)
        totals.append(float(total))
    return times, totals


def _filled(variant: VariantResult, symbol: str, parents: set[str]) -> tuple[list[float], list[float]]:
    times, totals, total = [], [], Decimal(0)
    for fill in variant.fills:
        if fill.symbol == symbol and fill.parent_id in parents:
            total += fill.quantity
            times.append(fill.time)
            totals.append(float(total))
    return times, totals


def _symbols(result: BacktestResult) -> list[str]:
    shown: list[str] = []
    for variant in result.variants:
        shown += [symbol for symbol in variant.prices if symbol not in shown]
    return shown


def _legend(axes: Axes, where: Literal["upper left", "best"]) -> None:
    # A panel with nothing drawn (a run without trades) gets no legend rather than a warning.
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=7, loc=where)


def _weights(variant: VariantResult) -> dict[str, Decimal]:
    return {r.parent_id: r.arrival_price or r.avg_price or Decimal(0) for r in variant.reports}


def _overall(result: BacktestResult, progress: Axes, rate: Axes) -> None:
    """Every parent together: the share of the ordered notional scheduled and filled over time,
    and fills per minute (a venue rate limit shows as a ceiling)."""
    progress.set_title("all parents: share of the order filled vs scheduled", fontsize=10)
    rate.set_title("all parents: fills per minute", fontsize=10)
    progress.set_xlabel("minutes")
    rate.set_xlabel("minutes")
    progress.set_ylabel("share of notional")
    rate.set_ylabel("fills")
    for index, variant in enumerate(result.variants):
        colour = _COLOURS[index % len(_COLOURS)]
        weights = _weights(variant)
        total = sum((r.quantity * weights[r.parent_id] for r in variant.reports), Decimal(0)) or Decimal(1)
        due = sorted(
            (s.scheduled_at, s.quantity * weights[r.parent_id]) for r in variant.reports for s in r.slices
        )
        done = sorted((f.time, f.quantity * weights[f.parent_id]) for f in variant.fills)
        for points, style, label in ((due, "--", "scheduled"), (done, "-", "filled")):
            if points:
                times = [points[0][0]] + [t for t, _ in points]
                shares, running = [0.0], Decimal(0)
                for _, amount in points:
                    running += amount
                    shares.append(float(running / total))
                progress.step(_minutes(times), shares, where="post", color=colour, linestyle=style,
                              alpha=0.6 if style == "--" else 1.0, label=f"{variant.name}: {label}")
        minutes = [int(f.time // 60) for f in variant.fills]
        if minutes:
            counts = [0] * (max(minutes) + 1)
            for minute in minutes:
                counts[minute] += 1
            rate.step(list(range(len(counts) + 1)), [counts[0], *counts], where="pre", color=colour,
                      label=variant.name)
    _legend(progress, "upper left")
    _legend(rate, "best")


def execution_figure(result: BacktestResult) -> Figure:
    """The figure of ``result``: one row per symbol drawn (the largest trades), two panels each,
    after a first row for all parents together when there is more than one symbol."""
    symbols = _symbols(result) or ["(no trades)"]
    traded = {r.symbol for variant in result.variants for r in variant.reports}
    overall = len(traded) > 1
    rows = len(symbols) + (1 if overall else 0)
    height = 3.2 * rows + 1.1
    figure = Figure(figsize=(12, height), dpi=100)
    FigureCanvasAgg(figure)
    # Fixed margins (in inches, turned into fractions) instead of a layout engine: drawing once
    # instead of twice halves the time it takes.
    axes = figure.subplots(rows, 2, squeeze=False)
    figure.subplots_adjust(left=0.07, right=0.98, wspace=0.22, bottom=0.5 / height,
                           top=1 - 1.0 / height, hspace=0.9 / 3.2)
    title = f"{result.scenario.name} (seed {result.seed})"
    if len(traded) > len(symbols):
        title += f": all {len(traded)} symbols together, then the {len(symbols)} largest trades"
    figure.suptitle(title, fontsize=12)
    if overall:
        _overall(result, axes[0][0], axes[0][1])
        axes = axes[1:]
    for row, symbol in enumerate(symbols):
        progress, prices = axes[row][0], axes[row][1]
        progress.set_title(f"{symbol}: cumulative filled vs schedule", fontsize=10)
        prices.set_title(f"{symbol}: fills over the price path", fontsize=10)
        progress.set_xlabel("minutes")
        prices.set_xlabel("minutes")
        progress.set_ylabel("quantity")
        prices.set_ylabel("price")
        for index, variant in enumerate(result.variants):
            colour = _COLOURS[index % len(_COLOURS)]
            reports = [r for r in variant.reports if r.symbol == symbol]
            parents = {r.parent_id for r in reports}
            label = variant.name
            times, totals = _schedule(reports)
            if times:
                progress.step(_minutes([times[0], *times]), [0.0, *totals], where="post", color=colour,
                              linestyle="--", alpha=0.6, label=f"{label}: schedule")
            times, totals = _filled(variant, symbol, parents)
            if times:
                progress.step(_minutes([times[0], *times]), [0.0, *totals], where="post", color=colour,
                              label=f"{label}: filled")
            path = variant.prices.get(symbol, ())
            if index == 0 and path:
                minutes = _minutes([p.time for p in path])
                prices.fill_between(minutes, [float(p.bid) for p in path], [float(p.ask) for p in path],
                                    color="0.85", step="post", label="bid-ask")
                prices.plot(minutes, [float(p.mid) for p in path], color="0.3", linewidth=0.8, label="mid")
            for completion, marker in ((False, "o"), (True, "x")):
                fills = [f for f in variant.fills
                         if f.symbol == symbol and f.parent_id in parents and f.completion is completion]
                if fills:
                    largest = max(f.quantity for f in fills)
                    prices.scatter(_minutes([f.time for f in fills]), [float(f.price) for f in fills],
                                   s=[12 + 60 * float(f.quantity / largest) for f in fills],
                                   color=colour, marker=marker, alpha=0.7,
                                   label=f"{label}: {'deadline fills' if completion else 'fills'}")
        _legend(progress, "upper left")
        _legend(prices, "best")
    return figure


def save_figure(result: BacktestResult, path: str | Path) -> Path:
    """Draw ``result`` and write it as a PNG to ``path``; returns the path."""
    target = Path(path)
    execution_figure(result).savefig(target, format="png", metadata=_METADATA)
    return target

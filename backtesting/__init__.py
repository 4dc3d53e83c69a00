"""Scripted backtests: run a scenario through the engine on virtual time against the simulated venue.

::

    import backtesting

    result = backtesting.run("examples/three_stock_rebalance.toml", seed=7)
    for row in result.comparison():
        print(row.variant, row.shortfall_bps, row.completion_share)
    backtesting.save_figure(result, "execution.png")

This package joins ``engine`` (the core) and ``gateways`` (the simulated venue); the core never
imports it. The command line is ``twap-engine`` (or ``python -m backtesting``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backtesting.compare import CompareResult, run_compare
from backtesting.errors import BacktestError, ScenarioError
from backtesting.outputs import write_result
from backtesting.result import BacktestResult, FillPoint, ParentSummary, VariantResult, VariantTotals
from backtesting.runner import build_venue, run, run_async
from backtesting.scenario import Scenario, Variant, load_scenario, parse_scenario
from backtesting.sweep import parse_grid, run_sweep

if TYPE_CHECKING:
    from backtesting.figure import execution_figure, save_figure

__all__ = [
    "BacktestError",
    "BacktestResult",
    "CompareResult",
    "FillPoint",
    "ParentSummary",
    "Scenario",
    "ScenarioError",
    "Variant",
    "VariantResult",
    "VariantTotals",
    "build_venue",
    "execution_figure",
    "load_scenario",
    "parse_grid",
    "parse_scenario",
    "run",
    "run_async",
    "run_compare",
    "run_sweep",
    "save_figure",
    "write_result",
]


def __getattr__(name: str) -> Any:
    # The figure needs matplotlib, which takes a second to import: only when it is asked for, so
    # sweep workers and scripts that never draw start quickly.
    if name in ("execution_figure", "save_figure"):
        from backtesting import figure

        return getattr(figure, name)
    raise AttributeError(f"module 'backtesting' has no attribute {name!r}")

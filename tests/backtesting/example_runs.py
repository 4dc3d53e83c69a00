"""The scenarios in examples/, each run once per test session and shared by the tests that read it."""

from __future__ import annotations

import functools
from pathlib import Path

from backtesting import BacktestResult, run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.toml"))


@functools.cache
def first_runs_of_examples() -> dict[str, BacktestResult]:
    """One run of every example by name (runs are reproducible, so one serves every reader)."""
    return {path.stem: run(path) for path in EXAMPLES}

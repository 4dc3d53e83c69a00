"""The errors of the backtesting package, named for what happened.

``ScenarioError`` is bad input in a scenario file or a file it names: it names the file, the key
(or the line) and the value, e.g. ``examples/a.toml: execution.num_slices='ten': expected a whole
number``. It is an ``engine.InvalidInputError``, hence a ``ValueError``. ``BacktestError`` is a
run that could not finish (for example, one that outran its time horizon).
"""

from __future__ import annotations

from typing import Any

from engine.errors import EngineError, InvalidInputError

__all__ = ["BacktestError", "ScenarioError"]


class ScenarioError(InvalidInputError):
    """Raised when a scenario (or a data file it names) is refused; names file, key or line, value."""

    def __init__(self, path: str, key: str, value: Any, reason: str) -> None:
        self.path = path
        self.key = key
        super().__init__(f"{path}: {key}" if key else path, value, reason)


class BacktestError(EngineError):
    """Raised when a backtest cannot run to the end (its parents did not finish in time)."""

"""The errors of the backtesting package, named for what happened.

``ScenarioError`` is bad input in a scenario file or a file it names: it names the file, the key
(or the line) and the value, e.g. ``examples/a.toml: execution.num_slices='ten': expected a whole
number``. It is an ``engine.InvalidInputError``, hence a ``ValueError``. ``BacktestError`` is a
run that could not finish (for example, one that outran its time horizon).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.errors import EngineError, InvalidInputError

__all__ = ["BacktestError", "ScenarioError", "plan_error"]


class ScenarioError(InvalidInputError):
    """Raised when a scenario (or a data file it names) is refused; names file, key or line, value."""

    def __init__(self, path: str, key: str, value: Any, reason: str) -> None:
        self.path = path
        self.key = key
        super().__init__(f"{path}: {key}" if key else path, value, reason)


class BacktestError(EngineError):
    """Raised when a backtest cannot run to the end (its parents did not finish in time)."""


# Where the planner's fields live in a scenario file; a plan file spells them the same way.
_PLAN_KEYS = {"target_weights": "rebalance.targets", "current_positions": "portfolio.positions",
              "cash": "portfolio.cash", "portfolio_value": "portfolio.cash",
              "cash_weight": "rebalance.cash_weight"}


def plan_error(
    path: str, error: InvalidInputError, more_keys: Mapping[str, str] | None = None
) -> ScenarioError:
    """The planner's ``error`` renamed to the key of the file that holds the field.

    ``target_weights['AAPL']`` becomes ``rebalance.targets.AAPL``; ``more_keys`` names fields
    only some files hold (a plan file's ``prices``). A field no file key holds (a planner setting)
    is named ``rebalance``, the table that sets it.
    """
    name, _, rest = error.field.partition("[")
    key = _PLAN_KEYS.get(name) or (more_keys or {}).get(name, "rebalance")
    symbol = rest.rstrip("]").strip("'\"")
    return ScenarioError(path, f"{key}.{symbol}" if symbol else key, error.value, error.reason)

"""The ``plan`` command's input: positions, cash, prices and targets, in TOML.

::

    [portfolio]
    cash = 10000
    positions = { AAPL = 100, MSFT = 50 }

    [prices]
    AAPL = 150
    MSFT = 300
    GOOGL = 140

    [rebalance]                 # targets plus any planner setting (slippage_bps, mode, fees, ...)
    targets = { AAPL = 0.4, MSFT = 0.3, GOOGL = 0.3 }

    [instruments.GOOGL]         # optional venue rules: lot_size, tick_size, min_quantity, min_notional
    lot_size = 1

A full scenario file works too: its prices are then the venue's starting prices. Errors name
the key as the file spells it (``rebalance.targets.AAPL``, ``portfolio.positions.AAPL``,
``prices.AAPL``), as a scenario file's do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backtesting._toml import NUMBER, Table, parse_toml, read_file
from backtesting.errors import ScenarioError, plan_error
from backtesting.runner import plan_for
from backtesting.scenario import parse_scenario
from engine.errors import InvalidInputError
from engine.fees import FeeModel
from engine.instruments import Instrument
from engine.numbers import to_decimal, to_positive
from engine.rebalancing_plan import RebalancingPlan, RebalancingPlanner

__all__ = ["plan_from_file"]

_PLANNER_KEYS = (
    "slippage_bps", "cash_reserve", "absolute_band", "relative_band", "min_trade_notional", "mode",
    "turnover_cap", "untargeted", "max_leverage", "allow_short", "rounding", "hold_tolerance",
    "max_gross_leverage",
)
# The planner's fields a plan file holds and a scenario does not (the rest are spelled alike).
_FILE_KEYS = {"prices": "prices", "instruments": "instruments"}


def plan_from_file(path: str | Path) -> RebalancingPlan:
    """Read a plan file (or a scenario) and return the rebalancing plan it describes."""
    file = Path(path)
    text = read_file(path)
    data = parse_toml(text, str(path))
    if "venue" in data:
        scenario = parse_scenario(text, str(path), base_dir=file.parent)
        if scenario.rebalance is None:
            raise ScenarioError(str(path), "rebalance", None, "missing; the plan command needs targets")
        plan = plan_for(scenario, {spec.symbol: spec.price for spec in scenario.venue.specs})
        assert plan is not None
        return plan
    return _light(Table(str(path), "", data, file.parent))


def _numbers(table: Table, name: str) -> dict[str, Any]:
    values = table.mapping(name, NUMBER)
    for symbol, raw in values.items():
        try:
            to_decimal(raw, symbol)
        except InvalidInputError as error:
            raise table.error(f"{name}.{symbol}", raw, error.reason) from None
    return values


def _price(prices: Table, symbol: str) -> Any:
    raw = prices.take(symbol, NUMBER)
    try:
        to_positive(raw, symbol)
    except InvalidInputError as error:
        raise prices.error(symbol, raw, error.reason) from None
    return raw


def _light(top: Table) -> RebalancingPlan:
    portfolio = top.table("portfolio") or Table(top.path, "portfolio", {}, top.base_dir)
    cash = portfolio.take("cash", NUMBER, default=0)
    positions = _numbers(portfolio, "positions")
    portfolio.finish()
    prices = top.table("prices")
    if prices is None:
        raise top.error("prices", None, "missing; give a [prices] table of symbol = price")
    price_values = {name: _price(prices, name) for name in prices.names()}
    prices.finish()
    rebalance = top.table("rebalance")
    if rebalance is None:
        raise top.error("rebalance", None, "missing; give [rebalance] with targets")
    targets = _numbers(rebalance, "targets")
    cash_weight = rebalance.take("cash_weight", NUMBER)
    fees_table = rebalance.table("fees")
    options = rebalance.take_known(_PLANNER_KEYS)
    if fees_table is not None:
        options["fees"] = fees_table.build(FeeModel, fees_table.take_known(("bps", "per_share", "minimum")))
        fees_table.finish()
    planner = rebalance.build(RebalancingPlanner, options)
    rebalance.finish()
    instruments = {}
    rules = top.table("instruments")
    if rules is not None:
        for symbol in rules.names():
            table = rules.table(symbol)
            assert table is not None
            keys = ("tick_size", "lot_size", "min_quantity", "min_notional")
            instruments[symbol] = table.build(Instrument, {**table.take_known(keys), "symbol": symbol})
            table.finish()
        rules.finish()
    top.finish()
    try:
        return planner.create_plan(
            current_positions=positions, target_weights=targets, prices=price_values, cash=cash,
            cash_weight=cash_weight, instruments=instruments or None,
        )
    except InvalidInputError as error:  # named by the planner's field: rename it to the file's key
        raise plan_error(top.path, error, _FILE_KEYS) from None


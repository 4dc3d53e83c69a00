"""A plan file's errors name the key as the file spells it, as a scenario file's errors do."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtesting.errors import ScenarioError
from backtesting.plan_file import plan_from_file

PLAN = """\
[portfolio]
cash = 10000
positions = { AAPL = 100, MSFT = 50 }

[prices]
AAPL = 150
MSFT = 300
GOOGL = 140

[rebalance]
targets = { AAPL = 0.4, MSFT = 0.3, GOOGL = 0.3 }
"""


def refused(tmp_path: Path, old: str, new: str) -> ScenarioError:
    assert old in PLAN
    path = tmp_path / "plan.toml"
    path.write_text(PLAN.replace(old, new), encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        plan_from_file(path)
    assert caught.value.path == str(path)
    return caught.value


def test_the_plan_file_itself_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(PLAN, encoding="utf-8")
    assert {trade.symbol for trade in plan_from_file(path).trades} == {"AAPL", "MSFT", "GOOGL"}


def test_a_negative_weight_is_named_by_its_targets_key(tmp_path: Path) -> None:
    error = refused(tmp_path, "AAPL = 0.4", "AAPL = -0.4")
    assert error.key == "rebalance.targets.AAPL"
    assert "target_weights" not in str(error)


def test_weights_that_add_up_to_too_much_are_named_by_the_targets_table(tmp_path: Path) -> None:
    error = refused(tmp_path, "AAPL = 0.4, MSFT = 0.3", "AAPL = 0.9, MSFT = 0.9")
    assert error.key == "rebalance.targets"
    assert "add up to 2.1" in error.reason


def test_a_negative_position_is_named_by_its_positions_key(tmp_path: Path) -> None:
    error = refused(tmp_path, "AAPL = 100", "AAPL = -100")
    assert error.key == "portfolio.positions.AAPL"
    assert error.value == -100
    assert "current_positions" not in str(error)


def test_a_negative_cash_is_named_by_its_portfolio_key(tmp_path: Path) -> None:
    error = refused(tmp_path, "cash = 10000", "cash = -5")
    assert error.key == "portfolio.cash"


@pytest.mark.parametrize("price", ["-150", "0", "nan", "inf"])
def test_a_bad_price_is_named_by_its_prices_key(tmp_path: Path, price: str) -> None:
    error = refused(tmp_path, "AAPL = 150", f"AAPL = {price}")
    assert error.key == "prices.AAPL"
    assert str(error.value) == price


def test_a_missing_price_is_named_by_the_prices_table_listing_the_symbol(tmp_path: Path) -> None:
    error = refused(tmp_path, "GOOGL = 140\n", "")
    assert error.key == "prices"
    assert "GOOGL=missing" in error.reason

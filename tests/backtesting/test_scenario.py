"""Scenario files: every key is checked, and a bad one is named with its file and value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from backtesting import ScenarioError, load_scenario, parse_scenario
from backtesting.demo import demo_text
from engine import Schedule, SliceStyle
from tests.backtesting.scenarios import SMALL, write

ROOT = Path(__file__).resolve().parents[2]


def _error(tmp_path: Path, text: str) -> ScenarioError:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(path) in str(caught.value)
    return caught.value


def test_a_valid_scenario_loads_with_its_variants_and_settings(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path))
    assert scenario.name == "small"
    assert scenario.seed == 3
    assert [v.name for v in scenario.variants] == ["market", "passive"]
    assert scenario.params(scenario.variants[1]).style is SliceStyle.PASSIVE
    assert scenario.params(scenario.variants[0]).num_slices == 4
    assert scenario.symbols() == ("AAA", "BBB")
    assert scenario.max_orders_per_minute == 60


def test_an_unknown_key_is_named_with_its_table_and_value(tmp_path: Path) -> None:
    error = _error(tmp_path, SMALL.replace("num_slices = 4", "num_slices = 4\nnum_slice = 5"))
    assert error.key == "execution.num_slice"
    assert error.value == 5
    assert "unknown key" in str(error)


def test_a_wrong_type_names_the_key_and_value(tmp_path: Path) -> None:
    error = _error(tmp_path, SMALL.replace("num_slices = 4", 'num_slices = "ten"'))
    assert error.key == "execution.num_slices"
    assert error.value == "ten"


def test_a_bad_value_inside_an_array_of_tables_names_its_index(tmp_path: Path) -> None:
    error = _error(tmp_path, SMALL.replace('symbol = "BBB", price = 20', 'symbol = "BBB", price = -20'))
    assert error.key == "venue.symbols[1].price"
    assert error.value == -20


def test_an_unknown_symbol_in_the_targets_is_refused(tmp_path: Path) -> None:
    error = _error(tmp_path, SMALL.replace("BBB = 0.5 }", "CCC = 0.5 }"))
    assert error.key == "rebalance.targets.CCC"


def test_a_missing_data_file_names_the_file(tmp_path: Path) -> None:
    text = SMALL.replace("[venue]\n", '[venue]\ndata = "nowhere.csv"\n')
    error = _error(tmp_path, text)
    assert error.key == "venue.data"
    assert error.value == "nowhere.csv"
    assert "file not found" in str(error)


def test_a_bad_csv_row_names_the_data_file_line_and_value(tmp_path: Path) -> None:
    data = tmp_path / "bars.csv"
    data.write_text(
        "time,symbol,open,high,low,close,volume\n0,AAA,100,101,99,100,500\n60,AAA,100,101,99,abc,500\n",
        encoding="utf-8",
    )
    text = SMALL.replace("[venue]\n", '[venue]\ndata = "bars.csv"\n').replace(
        '    { symbol = "BBB", price = 20, volume_per_second = 200 },\n', ""
    ).replace("BBB = 0.5", "AAA = 0.5").replace("{ AAA = 0.5, AAA = 0.5 }", "{ AAA = 1.0 }")
    text = text.replace('{ symbol = "AAA", price = 100, volume_per_second = 50 },', '{ symbol = "AAA" },')
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.path == str(data)
    assert caught.value.key == "line 3, column close"
    assert caught.value.value == "abc"


def test_a_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    error = _error(tmp_path, SMALL.replace("num_slices = 4", "num_slices = = 4"))
    line = SMALL.splitlines().index("num_slices = 4") + 1
    assert error.key == f"line {line}"
    assert error.value == "num_slices = = 4"


def test_a_missing_scenario_file_is_named() -> None:
    with pytest.raises(ScenarioError, match=r"no-such-file\.toml"):
        load_scenario("no-such-file.toml")


def test_a_scenario_needs_targets_or_orders() -> None:
    text = SMALL.split("[rebalance]")[0] + "[execution]\nnum_slices = 2\n"
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "inline.toml")
    assert caught.value.key == "rebalance"


def test_explicit_orders_carry_their_own_overrides() -> None:
    text = SMALL.split("[rebalance]")[0] + (
        '[[orders]]\nsymbol = "AAA"\nside = "buy"\nquantity = 40\nnum_slices = 2\n'
    )
    scenario = parse_scenario(text, "inline.toml")
    (order,) = scenario.orders
    assert order.overrides == {"num_slices": 2}
    assert scenario.params(scenario.variants[0], order.overrides).num_slices == 2


def test_a_bad_order_side_is_named() -> None:
    text = SMALL.split("[rebalance]")[0] + '[[orders]]\nsymbol = "AAA"\nside = "hold"\nquantity = 4\n'
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "inline.toml")
    assert caught.value.key == "orders[0].side"
    assert caught.value.value == "hold"


def test_the_demo_is_the_three_stock_example() -> None:
    example = (ROOT / "examples" / "three_stock_rebalance.toml").read_text(encoding="utf-8")
    assert demo_text() == example


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0"])
def test_a_horizon_that_is_not_a_finite_positive_number_is_refused(tmp_path: Path, value: str) -> None:
    error = _error(tmp_path, SMALL.replace("seed = 3", f"seed = 3\nhorizon = {value}"))
    assert error.key == "horizon"


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("AAA = 0.5, BBB = 0.5", "AAA = 0.9, BBB = 0.5", "rebalance.targets"),
        ("AAA = 0.5, BBB = 0.5", "AAA = -0.5, BBB = 0.5", "rebalance.targets.AAA"),
        ("positions = { AAA = 50 }", "positions = { AAA = -50 }", "portfolio.positions.AAA"),
    ],
)
def test_targets_or_positions_the_planner_refuses_are_named_when_the_file_loads(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    # Before, they loaded and failed only inside the run (in every sweep worker), naming no file.
    error = _error(tmp_path, SMALL.replace(old, new))
    assert error.key == key


def test_the_queue_table_takes_the_queue_settings_and_names_a_bad_one(tmp_path: Path) -> None:
    def with_queue(extra: str) -> str:
        return SMALL.replace("max_orders_per_minute = 60", "max_orders_per_minute = 60\n" + extra)

    scenario = load_scenario(write(tmp_path, with_queue('max_in_flight = 4\nwhen_full = "refuse"')))
    assert scenario.queue_options == {"max_in_flight": 4, "when_full": "refuse"}
    error = _error(tmp_path, with_queue("max_in_flight = 0"))
    assert error.key == "queue.max_in_flight"
    assert error.value == 0
    error = _error(tmp_path, with_queue("max_inflight = 4"))
    assert error.key == "queue.max_inflight"
    assert "unknown key" in str(error)


def test_the_rebalance_table_takes_a_gross_leverage_cap_and_names_a_bad_one(tmp_path: Path) -> None:
    def with_cap(value: str) -> str:
        targets = "targets = { AAA = 0.5, BBB = 0.5 }"
        return SMALL.replace(targets, f"{targets}\nmax_gross_leverage = {value}")

    scenario = load_scenario(write(tmp_path, with_cap("1.5")))
    assert scenario.rebalance is not None
    assert scenario.rebalance.planner.max_gross_leverage == Decimal("1.5")
    error = _error(tmp_path, with_cap("0"))
    assert error.key == "rebalance.max_gross_leverage"
    error = _error(tmp_path, with_cap("0.5"))  # the targets' gross exposure is 1.0
    assert error.key == "rebalance.targets"


def test_variants_choose_their_schedule_and_its_settings(tmp_path: Path) -> None:
    text = SMALL.replace('name = "passive"\nstyle = "passive"', (
        'name = "passive"\nstyle = "passive"\n\n[[variants]]\nname = "vwap"\nschedule = "vwap"\n'
        'volume_profile = [3, 1, 1, 3]\n\n[[variants]]\nname = "pov"\nschedule = "pov"\n'
        'participation = 0.2\nmin_rate = 0.1\nmax_rate = 0.4\ncompletion_window = 600\n\n'
        '[[variants]]\nname = "is"\nschedule = "almgren_chriss"\nrisk_aversion = 3\n'
    ))
    scenario = load_scenario(write(tmp_path, text))
    vwap, pov, shortfall = (scenario.params(v) for v in scenario.variants[2:])
    assert vwap.schedule is Schedule.VWAP
    assert vwap.volume_profile == (3.0, 1.0, 1.0, 3.0)
    assert (pov.schedule, pov.participation, pov.min_rate, pov.max_rate) == (Schedule.POV, 0.2, 0.1, 0.4)
    assert pov.completion_window == 600
    assert shortfall.schedule is Schedule.IMPLEMENTATION_SHORTFALL
    assert shortfall.risk_aversion == 3
    assert scenario.params(scenario.variants[0]).schedule is Schedule.TWAP


def test_a_bad_schedule_in_a_variant_is_named_with_its_key_and_value(tmp_path: Path) -> None:
    error = _error(tmp_path, SMALL.replace('style = "passive"', 'style = "passive"\nschedule = "fast"'))
    assert error.key.endswith("schedule")
    assert error.value == "fast"

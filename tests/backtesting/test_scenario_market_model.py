"""Scenario files choose the market model per symbol and a replay's bootstrap; bad values are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtesting import ScenarioError, load_scenario, run
from tests.backtesting.scenarios import SMALL, write


def _error(tmp_path: Path, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, text))
    return caught.value


def test_the_model_is_chosen_per_symbol_and_legacy_is_the_default(tmp_path: Path) -> None:
    text = SMALL.replace(
        '{ symbol = "AAA", price = 100,', '{ symbol = "AAA", price = 100, impact_model = "square_root",'
    )
    scenario = load_scenario(write(tmp_path, text))
    models = {spec.symbol: spec.impact_model for spec in scenario.venue.specs}
    assert models == {"AAA": "square_root", "BBB": "legacy"}
    first = run(scenario)
    assert run(scenario).to_json() == first.to_json()  # the same seed, the same bytes


def test_symbol_defaults_set_the_model_knobs_for_every_symbol(tmp_path: Path) -> None:
    defaults = '[venue.symbol_defaults]\nimpact_model = "square_root"\npermanent_share = 0.2\n\n'
    text = SMALL.replace("[portfolio]", defaults + "[portfolio]")
    scenario = load_scenario(write(tmp_path, text))
    assert {spec.permanent_share for spec in scenario.venue.specs} == {0.2}


def test_an_unknown_model_is_refused_naming_its_key(tmp_path: Path) -> None:
    error = _error(tmp_path, SMALL.replace('price = 20,', 'price = 20, impact_model = "linear",'))
    assert error.key == "venue.symbols[1].impact_model"
    assert error.value == "linear"


def test_a_bootstrap_needs_replayed_data_and_a_block_of_at_least_one_row(tmp_path: Path) -> None:
    error = _error(tmp_path, SMALL.replace("[venue]\n", "[venue]\nbootstrap_block = 10\n"))
    assert error.key == "venue.bootstrap_block"
    data = tmp_path / "bars.csv"
    data.write_text(
        "time,symbol,open,high,low,close,volume\n0,AAA,100,101,99,100,500\n0,BBB,20,21,19,20,500\n",
        encoding="utf-8",
    )
    replayed = SMALL.replace("[venue]\n", '[venue]\ndata = "bars.csv"\nbootstrap_block = -1\n')
    assert _error(tmp_path, replayed).key == "venue.bootstrap_block"

"""The examples in examples/: each is there, runs, and shows what it was written to show.

Their byte-identical reports for the same seed are tried in
``tests/promises/test_deterministic_backtests.py``.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from backtesting import BacktestResult, load_scenario
from tests.backtesting.example_runs import EXAMPLES, ROOT, first_runs_of_examples


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def first_runs() -> dict[str, BacktestResult]:
    """One run of every example, shared by the tests that read it."""
    return dict(first_runs_of_examples())


def test_the_three_examples_are_there() -> None:
    names = [path.stem for path in EXAMPLES]
    assert names == ["rate_limited_200", "thin_name_impact", "three_stock_rebalance"]


def test_the_impact_example_compares_market_slices_with_passive_slices_and_completion(
    first_runs: dict[str, BacktestResult],
) -> None:
    result = first_runs["thin_name_impact"]
    market, passive = result.comparison()
    assert (market.variant, passive.variant) == ("market-equal", "passive-deadline")
    assert market.aggressive_share == 0
    assert passive.aggressive_share > 0
    # Resting orders earn the maker rebate; market slices pay the taker fee on everything.
    assert passive.fees < market.fees
    for row in (market, passive):
        assert 0 < row.completion_share <= 1
        assert row.parents == 1
    data = result.to_dict()
    assert [row["variant"] for row in data["comparison"]] == ["market-equal", "passive-deadline"]
    assert {"shortfall_bps", "completion_share"} <= set(data["comparison"][0])


def test_the_200_name_rebalance_is_bound_by_the_rate_limit_and_never_breaks_it(
    first_runs: dict[str, BacktestResult],
) -> None:
    result = first_runs["rate_limited_200"]
    scenario = load_scenario(ROOT / "examples" / "rate_limited_200.toml")
    assert len(scenario.symbols()) == 200
    (variant,) = result.variants
    totals = variant.totals()
    assert totals.parents > 150
    assert totals.rate_limit_violations == 0
    # 5 one-minute slices per name, but 120 orders a minute for all of them: the run takes longer.
    assert totals.child_orders > 5 * 120
    assert totals.duration > 5 * 60


def test_the_generated_example_files_are_what_the_script_writes() -> None:
    for path, text in _script("make_examples").expected_files().items():
        assert path.read_text(encoding="utf-8") == text, f"run scripts/make_examples.py: {path} is stale"

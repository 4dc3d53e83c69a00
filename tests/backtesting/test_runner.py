"""Running a scenario: the engine on virtual time against the simulated venue.

That the same seed gives a byte-identical report is tried in
``tests/promises/test_deterministic_backtests.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backtesting import BacktestError, BacktestResult, load_scenario, run
from tests.backtesting.scenarios import FAULTY, SMALL, write


def _run(tmp_path: Path, seed: int | None = None) -> BacktestResult:
    return run(write(tmp_path), seed=seed)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> BacktestResult:
    """One run of the small scenario, shared by the tests that only read it."""
    return _run(tmp_path_factory.mktemp("small"))


def test_every_planned_trade_becomes_a_parent_in_every_variant(small: BacktestResult) -> None:
    result = small
    assert result.plan is not None
    planned = [(t.symbol, t.side, t.quantity) for t in result.plan.trades]
    for variant in result.variants:
        assert [(r.symbol, r.side, r.quantity) for r in variant.reports] == planned
        for report in variant.reports:
            assert report.filled_quantity <= report.quantity
            assert report.filled_quantity > 0


def test_another_seed_gives_another_market(tmp_path: Path, small: BacktestResult) -> None:
    other = _run(tmp_path, seed=small.seed + 1)
    assert other.seed == small.seed + 1
    assert other.variants[0].prices != small.variants[0].prices
    assert other.to_json() != small.to_json()


def test_every_variant_meets_the_same_market(small: BacktestResult) -> None:
    market, passive = small.variants
    shared = set(market.prices) & set(passive.prices)
    assert shared
    for symbol in shared:
        first = {point.time: point for point in market.prices[symbol]}
        second = {point.time: point for point in passive.prices[symbol]}
        common = sorted(set(first) & set(second))
        assert len(common) > 10
        assert [first[t] for t in common] == [second[t] for t in common]


def test_passive_slices_pay_fewer_taker_fills_than_market_slices(small: BacktestResult) -> None:
    market, passive = small.variants
    assert all(f.quantity > 0 for f in market.fills)
    market_totals, passive_totals = market.totals(), passive.totals()
    assert market_totals.completion_share == 1
    assert passive_totals.fees < market_totals.fees


def test_fills_add_up_to_each_parents_filled_quantity(small: BacktestResult) -> None:
    for variant in small.variants:
        for report in variant.reports:
            filled = sum(f.quantity for f in variant.fills if f.parent_id == report.parent_id)
            assert filled == report.filled_quantity


def test_progress_is_reported_up_to_the_end_for_each_variant(tmp_path: Path) -> None:
    seen: dict[str, list[float]] = {}
    run(load_scenario(write(tmp_path)), progress=lambda name, done: seen.setdefault(name, []).append(done))
    assert set(seen) == {"market", "passive"}
    for fractions in seen.values():
        assert fractions == sorted(fractions)
        assert fractions[-1] == 1.0


def test_report_ids_are_relabelled_per_parent(small: BacktestResult) -> None:
    data = small.to_dict()
    reports = data["variants"][0]["reports"]
    assert [r["parent_id"] for r in reports] == [f"P{i}" for i in range(1, len(reports) + 1)]
    first_children = [c for s in reports[0]["slices"] for c in s["child_ids"]]
    assert first_children[0] == "P1.1"


def test_a_run_longer_than_its_horizon_stops_with_an_error_naming_the_variant(tmp_path: Path) -> None:
    path = write(tmp_path, "horizon = 45\n" + SMALL)
    with pytest.raises(BacktestError, match=r"variant 'market'.*45 virtual seconds"):
        run(path)


def test_queue_settings_from_the_scenario_reach_the_engines_queue(tmp_path: Path) -> None:
    # Requests the queue may retry: with one attempt allowed, a 429 is final, so retries stay 0.
    text = FAULTY.replace("max_orders_per_minute = 30", "max_orders_per_minute = 30\nmax_attempts = 1")
    result = run(write(tmp_path, text, "one_attempt.toml"))
    statistics = result.variants[0].queue_statistics
    assert statistics["retries"] == 0
    assert statistics["failed"] + statistics["rejected"] > 0

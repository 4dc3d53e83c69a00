"""The compare study: every variant on the same paths, paired statistics, its files and command."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import distributed
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from scipy import stats

from backtesting import cli, load_scenario, run
from backtesting.compare import CompareResult, run_compare, variant_metrics
from backtesting.paired import paired_difference, summary

ROOT = Path(__file__).resolve().parents[2]
FOUR_WAYS = ROOT / "examples" / "studies" / "thin_name_four_ways.toml"
THIN = ROOT / "examples" / "thin_name_impact.toml"


@pytest.fixture(scope="module")
def study() -> CompareResult:
    """Six paths of the four-way thin-name study, run here, one after another."""
    return run_compare(load_scenario(FOUR_WAYS), 6, workers=1)


def test_every_variant_runs_on_every_path_and_the_baseline_is_the_first(study: CompareResult) -> None:
    assert study.variants == ("market-equal", "market-12", "passive-deadline", "mid-deadline")
    assert study.baseline == "market-equal"
    assert len(study.per_path) == 6
    assert all(set(path) == set(study.variants) for path in study.per_path)
    # The paths differ: the bootstrap draws a new market per seed.
    assert len({round(value, 6) for value in study.values("market-equal", "shortfall_bps")}) == 6


def test_path_k_is_the_backtest_of_seed_k_for_every_variant(study: CompareResult) -> None:
    third = run(load_scenario(FOUR_WAYS), seed=study.first_seed + 2)
    for variant in third.variants:
        assert study.per_path[2][variant.name] == variant_metrics(variant)


def test_the_baselines_own_difference_is_zero_and_the_others_are_paired(study: CompareResult) -> None:
    differences = study.differences()
    assert differences["market-equal"].mean == 0
    baseline = study.values("market-equal", "shortfall_bps")
    mid = study.values("mid-deadline", "shortfall_bps")
    assert differences["mid-deadline"] == paired_difference(mid, baseline)
    mid_difference = differences["mid-deadline"]
    assert mid_difference.low < mid_difference.mean < mid_difference.high


def test_compare_json_holds_the_baseline_the_statistics_and_the_differences(study: CompareResult) -> None:
    data = study.to_dict()
    assert set(data) == {"baseline", "variants", "differences"}
    assert data["baseline"] == "market-equal"
    for name in study.variants:
        row = data["variants"][name]
        assert set(row["shortfall_bps"]) == {"mean", "median", "std", "p5", "p95"}
        assert {"completion", "deadline_share", "fees", "paths"} <= set(row)
        assert row["shortfall_bps"]["p5"] <= row["shortfall_bps"]["median"] <= row["shortfall_bps"]["p95"]
        difference = data["differences"][name]
        assert set(difference) == {"mean_bps", "ci95_bps", "p_value"}
    json.dumps(data, allow_nan=False)


def test_unfilled_quantity_is_valued_at_what_sweeping_it_would_cost_not_at_the_mid(tmp_path: Path) -> None:
    # Passive slices with nothing sent at the deadline: some quantity is always left.
    bars = (ROOT / "examples" / "data" / "thin_name_bars.csv").as_posix()
    text = THIN.read_text(encoding="utf-8").replace('"data/thin_name_bars.csv"', f'"{bars}"')
    text = text.replace("complete_at_deadline = true", "complete_at_deadline = false")
    scenario = tmp_path / "passive_only.toml"
    scenario.write_text(text, encoding="utf-8")
    passive = run(load_scenario(scenario), seed=1).variant("passive-deadline")
    (report,) = passive.reports
    assert report.unfilled_quantity > 0
    sweep = passive.sweep_prices[report.parent_id]
    assert report.end_price is not None
    assert sweep > report.end_price  # a buy sweeps above the mid
    assert report.implementation_shortfall_bps is not None
    assert variant_metrics(passive)["shortfall_bps"] > float(report.implementation_shortfall_bps)


def test_local_processes_give_the_same_figures_as_one_process(study: CompareResult) -> None:
    parallel = run_compare(load_scenario(FOUR_WAYS), 6, workers=2)
    assert parallel.per_path == study.per_path


def test_on_a_dask_cluster_the_figures_are_the_same() -> None:
    scenario = load_scenario(THIN)
    with distributed.LocalCluster(  # type: ignore[no-untyped-call]  # distributed leaves it unannotated
        n_workers=1, threads_per_worker=2, processes=False, host="127.0.0.1", protocol="tcp",
        dashboard_address=None,
    ) as cluster:
        on_dask = run_compare(scenario, 3, scheduler=cluster.scheduler_address)
    assert on_dask.per_path == run_compare(scenario, 3, workers=1).per_path


@settings(max_examples=40, deadline=None)
@given(pairs=st.lists(st.tuples(st.floats(-500, 500), st.floats(-500, 500)), min_size=3, max_size=60))
def test_the_paired_interval_and_p_value_are_students(pairs: list[tuple[float, float]]) -> None:
    variant, baseline = [a for a, _ in pairs], [b for _, b in pairs]
    differences = [a - b for a, b in pairs]
    result = paired_difference(variant, baseline)
    if statistics_spread(differences) < 1e-6:
        return  # no spread: scipy has no t either
    test = stats.ttest_rel(variant, baseline)
    assert result.p_value == pytest.approx(test.pvalue, abs=1e-7)
    low, high = test.confidence_interval(0.95)
    assert (result.low, result.high) == pytest.approx((low, high), rel=1e-6, abs=1e-6)
    shown = summary(variant)
    assert shown.p5 == pytest.approx(float(stats.scoreatpercentile(variant, 5)))


def statistics_spread(values: list[float]) -> float:
    mean = math.fsum(values) / len(values)
    return max(abs(value - mean) for value in values)


def _main(*argv: str) -> tuple[int, str]:
    buffer = io.StringIO()
    console = Console(file=buffer, width=220, force_terminal=False, color_system=None)
    return cli.main(list(argv), console=console), buffer.getvalue()


def test_the_compare_command_prints_the_table_and_writes_json_and_figure(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = _main("compare", str(THIN), "--paths", "4", "--workers", "1", "--out", str(out),
                       "--baseline", "passive-deadline")
    assert code == 0
    assert "Shortfall over 4 paths (seeds 1-4), baseline passive-deadline" in text
    assert "market-equal" in text
    data = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    assert data["baseline"] == "passive-deadline"
    assert (out / "compare.png").read_bytes().startswith(b"\x89PNG")


def test_an_unknown_baseline_exits_2_naming_it_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _ = _main("compare", str(THIN), "--paths", "2", "--baseline", "nope", "--out", str(out))
    assert code == 2
    assert "--baseline" in capsys.readouterr().err
    assert not out.exists()


def test_a_replay_without_a_bootstrap_is_flagged_as_one_path(tmp_path: Path) -> None:
    text = THIN.read_text(encoding="utf-8").replace("bootstrap_block = 10", "bootstrap_block = 0")
    bars = (ROOT / "examples" / "data" / "thin_name_bars.csv").as_posix()
    text = text.replace('"data/thin_name_bars.csv"', f'"{bars}"')
    scenario = tmp_path / "one_path.toml"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code, printed = _main("compare", str(scenario), "--paths", "2", "--workers", "1", "--out", str(out))
    assert code == 0
    assert "replays its data as it is" in printed

"""Sweeps: a grid of settings run in parallel processes, or on a Dask cluster, in grid order."""

from __future__ import annotations

import io
from pathlib import Path

import distributed
import pytest
from rich.console import Console

from backtesting import cli, load_scenario, parse_grid, run_sweep
from backtesting.sweep import apply_point, grid_points
from engine import SliceStyle
from engine.errors import InvalidInputError
from tests.backtesting.scenarios import SMALL, write

# One variant keeps each point quick: the grid is what varies.
ONE_VARIANT = SMALL.split("[[variants]]")[0]


def test_a_grid_reads_values_as_toml_would() -> None:
    grid = parse_grid(["num_slices=5,10", "style=market,passive", "complete_at_deadline=true,false"])
    assert grid == {
        "num_slices": [5, 10], "style": ["market", "passive"], "complete_at_deadline": [True, False]
    }
    assert len(grid_points(grid)) == 8
    assert grid_points(grid)[1] == {"num_slices": 5, "style": "market", "complete_at_deadline": False}


@pytest.mark.parametrize(
    ("item", "reason"),
    [("slices=5", "unknown key"), ("num_slices", "KEY=VALUE"), ("style=", "KEY=VALUE")],
)
def test_a_bad_grid_item_is_refused_naming_it(item: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason) as caught:
        parse_grid([item])
    assert caught.value.value == item


def test_a_bad_grid_value_is_refused_before_anything_runs(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, ONE_VARIANT))
    with pytest.raises(InvalidInputError) as caught:
        run_sweep(scenario, parse_grid(["num_slices=4,0"]))
    assert caught.value.field == "--grid num_slices"
    assert caught.value.value == 0


def test_a_grid_point_overrides_every_variant(tmp_path: Path) -> None:
    scenario = apply_point(load_scenario(write(tmp_path)), {"style": "touch", "max_orders_per_minute": 30})
    assert {scenario.params(v).style for v in scenario.variants} == {SliceStyle.TOUCH}
    assert scenario.max_orders_per_minute == 30


def test_a_sweep_on_local_processes_returns_rows_in_grid_order(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, ONE_VARIANT))
    done: list[int] = []
    columns, rows = run_sweep(
        scenario, parse_grid(["num_slices=2,4"]), workers=2, on_done=lambda d, total: done.append(d)
    )
    assert columns[:2] == ["num_slices", "variant"]
    assert [row["num_slices"] for row in rows] == [2, 4]
    assert [row["child_orders"] for row in rows] == [4, 8]
    assert sorted(done) == [1, 2]


def test_a_sweep_on_a_dask_cluster_gives_the_same_rows_as_local_processes(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, ONE_VARIANT))
    grid = parse_grid(["style=market,passive"])
    with distributed.LocalCluster(  # type: ignore[no-untyped-call]  # distributed leaves it unannotated
        n_workers=1, threads_per_worker=2, processes=False, host="127.0.0.1", protocol="tcp",
        dashboard_address=None,
    ) as cluster:
        on_dask = run_sweep(scenario, grid, scheduler=cluster.scheduler_address)
    assert on_dask == run_sweep(scenario, grid, workers=1)
    assert [row["style"] for row in on_dask[1]] == ["market", "passive"]


def test_the_sweep_command_prints_the_table_and_writes_the_csv(tmp_path: Path) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, force_terminal=False, color_system=None)
    out = tmp_path / "sweep"
    scenario = write(tmp_path, ONE_VARIANT)
    code = cli.main(["sweep", str(scenario), "--grid", "num_slices=2,3", "--workers", "2", "--out", str(out)],
                    console=console)
    assert code == 0
    lines = (out / "sweep.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("num_slices,variant,parents,fully_filled,completion_share,shortfall_bps")
    assert [line.split(",")[0] for line in lines[1:]] == ["2", "3"]
    assert "Sweep" in buffer.getvalue()

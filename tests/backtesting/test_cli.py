"""The command line, run in-process: outputs, tables, errors, and nothing half-written."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from backtesting import cli
from tests.backtesting.scenarios import SMALL, write


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=200, force_terminal=False, color_system=None), buffer


def _main(*argv: str) -> tuple[int, str]:
    console, buffer = _console()
    code = cli.main(list(argv), console=console)
    return code, buffer.getvalue()


def test_backtest_writes_report_and_figure_and_prints_the_tables(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = _main("backtest", str(write(tmp_path)), "--out", str(out))
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["execution.png", "report.json"]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [v["name"] for v in report["variants"]] == ["market", "passive"]
    assert report["seed"] == 3
    assert (out / "execution.png").read_bytes().startswith(b"\x89PNG")
    for heading in ("Execution summary: market", "Execution quality by variant", "slip vs arrival (bps)",
                    "Rebalancing plan", "completed"):
        assert heading in text
    assert "wrote" in text
    assert "100%" not in text  # no progress bar when the output is not a terminal


def test_a_bad_scenario_exits_2_naming_file_key_and_value_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(tmp_path, SMALL.replace("num_slices = 4", "num_slices = 4\nslices = 9"))
    out = tmp_path / "out"
    code, printed = _main("backtest", str(scenario), "--out", str(out))
    assert code == 2
    assert "wrote" not in printed
    error = capsys.readouterr().err
    assert str(scenario) in error
    assert "execution.slices=9" in error
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [scenario]


def test_a_failure_while_writing_leaves_no_partial_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(result: object, path: Path) -> Path:
        raise OSError("disk full")

    monkeypatch.setattr("backtesting.figure.save_figure", broken)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier run", encoding="utf-8")
    with pytest.raises(OSError, match="disk full"):
        _main("backtest", str(write(tmp_path)), "--out", str(out))
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "small.toml"]


def test_plan_prints_the_trades_with_their_reasons(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(
        "[portfolio]\ncash = 0\npositions = { AAPL = 100, MSFT = 50 }\n"
        "[prices]\nAAPL = 150\nMSFT = 300\nGOOGL = 140\n"
        "[rebalance]\ntargets = { AAPL = 0.4, MSFT = 0.3, GOOGL = 0.3 }\nmin_trade_notional = 5000\n",
        encoding="utf-8",
    )
    code, text = _main("plan", str(plan_file))
    assert code == 0
    assert "Rebalancing plan" in text
    assert "GOOGL" in text
    assert "BUY" in text
    assert "below_min_notional" in text


def test_plan_refuses_a_bad_price_naming_the_symbol(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(
        '[prices]\nAAPL = "cheap"\n[rebalance]\ntargets = { AAPL = 1.0 }\n', encoding="utf-8"
    )
    assert _main("plan", str(plan_file))[0] == 2
    error = capsys.readouterr().err
    assert str(plan_file) in error
    assert "cheap" in error


def test_demo_runs_the_three_stock_rebalance(tmp_path: Path) -> None:
    code, text = _main("demo", "--out", str(tmp_path / "demo"))
    assert code == 0
    assert "three-stock rebalance" in text
    for symbol in ("AAPL", "MSFT", "GOOGL"):
        assert symbol in text
    assert (tmp_path / "demo" / "report.json").exists()


def test_a_progress_bar_shows_on_a_terminal(tmp_path: Path) -> None:
    buffer = io.StringIO()
    terminal = Console(file=buffer, width=120, force_terminal=True, color_system=None)
    assert cli.main(["backtest", str(write(tmp_path)), "--out", str(tmp_path / "tty")], console=terminal) == 0
    shown = buffer.getvalue()
    assert "market" in shown
    assert "100%" in shown


def test_plan_reads_a_scenario_file_too() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "three_stock_rebalance.toml"
    code, text = _main("plan", str(example))
    assert code == 0
    assert "Rebalancing plan: 3 trades" in text


def test_a_bad_grid_exits_2_naming_the_item_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    code, _ = _main("sweep", str(write(tmp_path)), "--grid", "slices=1,2", "--out", str(out))
    assert code == 2
    assert "--grid='slices=1,2': unknown key 'slices'" in capsys.readouterr().err
    assert not out.exists()


def test_backtest_takes_a_schedule_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scenario = write(tmp_path, SMALL.replace("num_slices = 4", "num_slices = 6"))
    code, _ = _main("backtest", str(scenario), "--out", str(out), "--schedule", "vwap")
    assert code == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for variant in report["variants"]:
        assert variant["params"]["schedule"] == "vwap"
        sizes = [int(line["quantity"]) for line in variant["reports"][0]["slices"]]
        # The U-shaped default profile: the open and the close trade more than the middle.
        assert sizes[0] > sizes[2]
        assert sizes[-1] > sizes[3]


def test_an_unknown_schedule_exits_2_naming_the_setting_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _ = _main("backtest", str(write(tmp_path)), "--out", str(out), "--schedule", "bogus")
    assert code == 2
    assert "schedule='bogus'" in capsys.readouterr().err
    assert not out.exists()

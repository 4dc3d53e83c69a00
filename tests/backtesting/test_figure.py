"""The execution figure: one row per symbol drawn, plus a row for all parents when there are several."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtesting import BacktestResult, execution_figure, run, save_figure, write_result
from tests.backtesting.scenarios import SMALL, write


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> BacktestResult:
    """One run of the small two-name, two-variant scenario."""
    return run(write(tmp_path_factory.mktemp("figure")))


def test_two_symbols_get_a_row_each_after_the_row_for_all_parents(small: BacktestResult) -> None:
    figure = execution_figure(small)
    titles = [axes.get_title() for axes in figure.axes]
    assert len(titles) == 6
    assert titles[0].startswith("all parents")
    assert {title.split(":")[0] for title in titles[2:]} == {"AAA", "BBB"}


def test_each_variant_draws_its_schedule_and_its_fills(small: BacktestResult) -> None:
    figure = execution_figure(small)
    legends = [axes.get_legend() for axes in figure.axes]
    labels = {text.get_text() for legend in legends if legend is not None for text in legend.texts}
    for variant in ("market", "passive"):
        assert f"{variant}: schedule" in labels
        assert f"{variant}: filled" in labels
        assert f"{variant}: fills" in labels


def test_one_symbol_gets_one_row(tmp_path: Path) -> None:
    text = SMALL.split("[rebalance]")[0] + '[[orders]]\nsymbol = "AAA"\nside = "sell"\nquantity = 20\n'
    figure = execution_figure(run(write(tmp_path, text)))
    assert len(figure.axes) == 2


def test_the_figure_is_written_as_a_png(small: BacktestResult, tmp_path: Path) -> None:
    path = save_figure(small, tmp_path / "execution.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_result_writes_its_report_and_figure_together(small: BacktestResult, tmp_path: Path) -> None:
    written = write_result(small, tmp_path / "out")
    assert [path.name for path in written] == ["report.json", "execution.png"]
    assert (tmp_path / "out" / "report.json").read_text(encoding="utf-8") == small.to_json()
    assert len(execution_figure(small).axes) == 6


def test_a_run_with_nothing_to_trade_still_reports_and_draws(tmp_path: Path) -> None:
    text = (
        '[venue]\nsymbols = [{ symbol = "AAA", price = 100 }]\n'
        "[portfolio]\ncash = 0\npositions = { AAA = 10 }\n[rebalance]\ntargets = { AAA = 1.0 }\n"
    )
    result = run(write(tmp_path, text))
    (totals,) = result.comparison()
    assert totals.parents == 0
    assert totals.completion_share == 1
    assert len(execution_figure(result).axes) == 2

"""Promise 6: deterministic backtests. The same scenario and seed give byte-identical reports.

Tried at each layer that draws random numbers from its own seeded generator: the simulated venue's
event log, one TWAP's report, a scenario run (also with faults, retries and 429s), the command
line's report file, every example, and a report made in another process with another hash seed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from rich.console import Console

from backtesting import BacktestResult, cli, run
from engine import OrderFilled, TWAPExecutor, run_virtual
from gateways.simulated import SimulatedVenue
from tests.backtesting.example_runs import EXAMPLES, ROOT, first_runs_of_examples
from tests.backtesting.scenarios import FAULTY, write
from tests.gateways.simulated.venues import limit, market

pytestmark = pytest.mark.usefixtures("quiet_engine_logs")

# -- the simulated venue and one TWAP --------------------------------------------------------------


async def _seeded_scenario(seed: int) -> list[object]:
    venue = SimulatedVenue.demo(seed=seed)
    async with venue:
        await venue.submit_order(market("AAPL", "buy", 1200, client_order_id="m1"))
        await venue.submit_order(limit("MSFT", "sell", 30, "300.05", client_order_id="l1"))
        await venue.submit_order(limit("GOOGL", "buy", 40, "139.97", client_order_id="l2"))
        await anyio.sleep(600)
        return [*venue.event_log, venue.cash, dict(venue.positions)]


def test_the_same_seed_gives_an_identical_event_log() -> None:
    first = run_virtual(_seeded_scenario, 5)
    assert run_virtual(_seeded_scenario, 5) == first
    assert run_virtual(_seeded_scenario, 6) != first
    assert any(isinstance(event, OrderFilled) and event.is_maker for event in first)


def test_a_twap_with_the_same_seed_gives_a_byte_identical_report() -> None:
    async def scenario() -> str:
        async with SimulatedVenue.demo(seed=5) as gateway:
            executor = TWAPExecutor(
                gateway,
                num_slices=6,
                interval_seconds=30,
                size_jitter=0.3,
                time_jitter=0.3,
                seed=9,
                style="mid",
                reproducible_ids=True,
            )
            report = await executor.execute("MSFT", 600, "sell")
        return report.to_json()

    first = run_virtual(scenario)
    assert first == run_virtual(scenario)
    assert '"filled_quantity": "600"' in first


# -- scenario runs and the command line ------------------------------------------------------------


def _run(tmp_path: Path, seed: int | None = None) -> BacktestResult:
    return run(write(tmp_path), seed=seed)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> BacktestResult:
    """One run of the small scenario, shared by the tests that only read it."""
    return _run(tmp_path_factory.mktemp("small"))


def test_a_scenario_run_with_the_same_seed_gives_a_byte_identical_report(
    tmp_path: Path, small: BacktestResult
) -> None:
    assert _run(tmp_path).to_json() == small.to_json()


def test_retries_after_faults_and_429s_are_reproducible_too(tmp_path: Path) -> None:
    path = write(tmp_path, FAULTY, "faulty.toml")
    first = run(path)
    statistics = first.variants[0].queue_statistics
    assert statistics["retries"] > 0
    assert first.variants[0].venue_statistics["rate_limit_violations"] > 0
    assert run(path).to_json() == first.to_json()


def _console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=200, force_terminal=False, color_system=None), buffer


def _main(*argv: str) -> tuple[int, str]:
    console, buffer = _console()
    code = cli.main(list(argv), console=console)
    return code, buffer.getvalue()


def test_the_same_scenario_and_seed_twice_write_the_same_report_bytes(tmp_path: Path) -> None:
    scenario = write(tmp_path)
    for name in ("first", "second"):
        assert _main("backtest", str(scenario), "--out", str(tmp_path / name), "--seed", "11")[0] == 0
    first = (tmp_path / "first" / "report.json").read_bytes()
    assert first == (tmp_path / "second" / "report.json").read_bytes()
    assert json.loads(first)["seed"] == 11


# -- the examples ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def first_runs() -> dict[str, BacktestResult]:
    """One run of every example, shared with the example tests that read it."""
    return dict(first_runs_of_examples())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_each_example_twice_gives_a_byte_identical_report(
    path: Path, first_runs: dict[str, BacktestResult]
) -> None:
    first = first_runs[path.stem]
    assert run(path).to_json() == first.to_json()
    for variant in first.variants:
        assert variant.reports
        assert all(r.filled_quantity <= r.quantity for r in variant.reports)


def test_a_report_does_not_depend_on_the_process_or_its_hash_seed(
    tmp_path: Path, first_runs: dict[str, BacktestResult]
) -> None:
    example = ROOT / "examples" / "three_stock_rebalance.toml"
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [sys.executable, "-m", "backtesting", "backtest", str(example), "--out", str(tmp_path)],
        check=True, env=environment, capture_output=True, timeout=120,
    )
    assert (tmp_path / "report.json").read_text(encoding="utf-8") == first_runs[example.stem].to_json()

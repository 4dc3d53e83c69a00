"""Stopping the daemon: SIGTERM stops it within its grace, a second signal exits at once, resting
children are cancelled or left by policy, and the next start recovers; bad starts change nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from daemon.journal import Journal
from tests.daemon.processes import TOKEN, DaemonProcess, VenueProcess, running, wait_until, write_config


def _slow_twap(number: int) -> dict[str, Any]:
    return {
        "symbol": "AAPL",
        "side": "buy",
        "quantity": "60",
        "num_slices": 6,
        "interval_seconds": 1.0,
        "style": "passive",
        "offset_ticks": 50,  # rests well below the market: it stays working until cancelled
        "rest_fraction": 0.95,
    }


def _open_children(path: Path) -> list[str]:
    with Journal.open_for_reading(path) as journal:
        return [c.status for c in journal.children(unsettled_only=True)]


@pytest.fixture
def venue(tmp_path: Path) -> Any:
    process = VenueProcess(tmp_path)
    with running(process):
        yield process


def test_sigterm_cancels_resting_children_keeps_parents_open_and_the_next_start_finishes_them(
    tmp_path: Path, venue: VenueProcess
) -> None:
    config = write_config(tmp_path, venue.address, grace_seconds=20.0)
    daemon = DaemonProcess(tmp_path, config, 0)
    with running(daemon):
        ids = [daemon.request("POST", "/v1/twaps", _slow_twap(n))["parent_id"] for n in range(2)]
        wait_until(lambda: "acked" in _open_children(tmp_path / "journal.sqlite3"), 30, "a resting child")
        assert daemon.terminate() == 0
    journal_path = tmp_path / "journal.sqlite3"
    assert _open_children(journal_path) == []  # every resting child was cancelled and settled
    with Journal.open_for_reading(journal_path) as journal:
        assert {row.parent_id for row in journal.parents(open_only=True)} == set(ids)

    again = DaemonProcess(tmp_path, config, 1)
    with running(again):

        def finished() -> bool:
            return all(again.request("GET", f"/v1/parents/{pid}")["is_final"] for pid in ids)

        wait_until(finished, 60, "the resumed parents to finish")
        for parent_id in ids:
            view = again.request("GET", f"/v1/parents/{parent_id}")
            assert view["state"] == "completed"
            assert Decimal(view["filled"]) == 60
        assert again.terminate() == 0
    assert max(venue.audit()["submits"].values()) == 1


def test_a_second_signal_exits_at_once(tmp_path: Path) -> None:
    slow_venue = VenueProcess(tmp_path, latency=1.0)  # a cancel takes two seconds to be answered
    with running(slow_venue):
        config = write_config(tmp_path, slow_venue.address, grace_seconds=60.0)
        daemon = DaemonProcess(tmp_path, config, 0)
        with running(daemon):
            long_rest = {**_slow_twap(0), "num_slices": 2, "interval_seconds": 20.0}
            daemon.request("POST", "/v1/twaps", long_rest)
            wait_until(lambda: "acked" in _open_children(tmp_path / "journal.sqlite3"), 30, "a resting child")
            daemon.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            daemon.process.send_signal(signal.SIGTERM)
            assert daemon.process.wait(timeout=30) == 3
    assert "second signal" in daemon.log_path.read_text(encoding="utf-8")


def test_leaving_resting_children_by_policy_and_settling_them_on_the_next_start(
    tmp_path: Path, venue: VenueProcess
) -> None:
    config = write_config(tmp_path, venue.address, resting_children="leave")
    daemon = DaemonProcess(tmp_path, config, 0)
    with running(daemon):
        parent_id = daemon.request("POST", "/v1/twaps", _slow_twap(0))["parent_id"]
        wait_until(lambda: "acked" in _open_children(tmp_path / "journal.sqlite3"), 30, "a resting child")
        assert daemon.terminate() == 0
    assert "acked" in _open_children(tmp_path / "journal.sqlite3")  # left working at the venue

    again = DaemonProcess(tmp_path, config, 1)
    with running(again):
        wait_until(lambda: again.request("GET", f"/v1/parents/{parent_id}")["is_final"], 60, "the parent")
        assert again.request("GET", f"/v1/parents/{parent_id}")["state"] == "completed"
        assert again.terminate() == 0
    recovery = [line for line in again.log_path.read_text().splitlines() if "recovery planned" in line]
    assert '"cancelled": 1' in recovery[0]


def _run_cli(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "TWAP_ENGINE_API_TOKEN": TOKEN}
    return subprocess.run(
        [sys.executable, "-m", "backtesting", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=environment,
        check=False,
    )


def test_a_second_daemon_on_the_same_journal_is_refused(tmp_path: Path, venue: VenueProcess) -> None:
    config = write_config(tmp_path, venue.address)
    daemon = DaemonProcess(tmp_path, config, 0)
    with running(daemon):
        second = _run_cli("daemon", "--config", str(config), cwd=tmp_path)
        assert second.returncode == 2
        assert "locked by a running daemon" in second.stderr
        assert f"pid {daemon.process.pid}" in second.stderr
        assert daemon.request("GET", "/v1/parents")["parents"] == []  # the first runs on, untouched
        assert daemon.terminate() == 0


def test_a_bad_config_exits_2_naming_the_key_and_value_and_creates_nothing(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(
        '[queue]\nmax_orders_per_minute = -3\n[journal]\npath = "j.sqlite3"\n', encoding="utf-8"
    )
    started = time.monotonic()
    result = _run_cli("daemon", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "queue.max_orders_per_minute=-3" in result.stderr
    assert not (tmp_path / "j.sqlite3").exists()
    assert time.monotonic() - started < 60


def test_journal_show_prints_what_the_journal_holds(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal.open(path, venue="paper:x", account="main") as journal:
        from daemon.views import TwapRequest
        from engine import Order

        request = TwapRequest(symbol="AAPL", side="buy", quantity=10, num_slices=2, interval_seconds=1)
        journal.record_parent("P1", request, created_at=0.0, deadline_at=2.0)
        journal.record_segment("S1", "P1", Decimal(10))
        journal.record_child(Order("AAPL", "buy", 5, client_order_id="c1", parent_id="S1"))
    result = _run_cli("journal", "show", "--journal", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "venue paper:x, account main" in result.stdout
    assert "P1 working" in result.stdout
    assert "unsettled c1 sending buy 5 AAPL" in result.stdout
    missing = _run_cli("journal", "show", "--journal", str(tmp_path / "none.sqlite3"), cwd=tmp_path)
    assert missing.returncode == 2
    assert "no journal here" in missing.stderr

"""``twap-engine serve-venue``: serves the venue until interrupted; bad settings exit 2, naming them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import ccxt.async_support as ccxt_async
import pytest

from backtesting.cli import main

_SCENARIO = Path(__file__).resolve().parents[2] / "backtesting" / "scenarios" / "three_stock_rebalance.toml"


def _ccxt_settings(port: int) -> dict[str, object]:
    base = f"http://127.0.0.1:{port}/api/v3"
    return {
        "apiKey": "cli-key", "secret": "cli-secret", "enableRateLimit": False, "timeout": 5_000,
        "urls": {"api": {"public": base, "private": base}},
        "options": {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                    "fetchMargins": False},
    }


def test_serve_venue_serves_a_scenario_until_interrupted() -> None:
    env = {**os.environ, "TWAP_ENGINE_API_KEY": "cli-key", "TWAP_ENGINE_API_SECRET": "cli-secret",
           "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "backtesting", "serve-venue", "--dialect", "binance", "--port", "0",
         str(_SCENARIO)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        assert process.stdout is not None
        port = None
        for _ in range(20):  # the banner is four lines
            line = process.stdout.readline()
            found = re.search(r"REST http://127\.0\.0\.1:(\d+)/api/v3", line)
            if found:
                port = int(found.group(1))
                break
        assert port is not None

        async def trade() -> tuple[list[str], object]:
            exchange = ccxt_async.binance(_ccxt_settings(port))
            try:
                markets = await exchange.load_markets()
                balance = await exchange.fetch_balance()
                return sorted(markets), balance["USDT"]["free"]
            finally:
                await exchange.close()

        markets, cash = anyio.run(trade)
        assert markets == ["AAPL/USDT", "GOOGL/USDT", "MSFT/USDT"]
        assert cash == 40_000  # the scenario's portfolio
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert "cli-secret" not in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_serve_venue_without_keys_exits_2_naming_the_missing_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TWAP_ENGINE_API_KEY", raising=False)
    monkeypatch.delenv("TWAP_ENGINE_API_SECRET", raising=False)
    assert main(["serve-venue", "--port", "0"]) == 2
    assert "api_key" in capsys.readouterr().err


def test_serve_venue_refuses_a_bad_fault_probability(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["serve-venue", "--port", "0", "--api-key", "k", "--api-secret", "s", "--slow", "2"])
    assert status == 2
    assert "slow" in capsys.readouterr().err

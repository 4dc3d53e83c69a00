"""The README's paper-trading bot (examples/paper_trading_bot.py) runs as printed against the served
venue: a plain ccxt program, its settings the only change from trading on Binance Spot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gateways.served import Credentials, serve_in_thread
from gateways.simulated import SimulatedVenue

BOT = Path(__file__).resolve().parents[3] / "examples" / "paper_trading_bot.py"


def test_the_paper_trading_bot_trades_through_the_served_venue() -> None:
    credentials = Credentials("paper-key", "paper-secret")
    with serve_in_thread(lambda: SimulatedVenue.demo(rate_limits=[]), credentials=credentials) as served:
        env = {**os.environ, "TWAP_ENGINE_API_KEY": "paper-key", "TWAP_ENGINE_API_SECRET": "paper-secret"}
        finished = subprocess.run(
            [sys.executable, str(BOT), "--port", str(served.port)],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )
        assert finished.returncode == 0, finished.stderr
        lines = finished.stdout.splitlines()
        assert "market buy: closed, 10.0 at " in finished.stdout
        assert "stream: bot-market-1 closed filled 10.0" in lines
        assert "cancelled bot-rest-1: canceled" in lines
        venue = served.exchange.venue
        assert venue.positions["AAPL"] == 10
        assert served.statistics().rate_limit_violations == 0

"""The README's bot (examples/twap_over_ccxt.py) runs as printed against a served paper exchange."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from gateways.served import Credentials, serve_in_thread
from gateways.simulated import LatencyModel, SimulatedVenue

ROOT = Path(__file__).resolve().parents[2]


def test_the_twap_bot_fills_its_order_on_the_served_venue() -> None:
    credentials = Credentials("paper-key", "paper-secret")
    with serve_in_thread(
        lambda: SimulatedVenue.demo(latency=LatencyModel.zero()), port=0, credentials=credentials
    ) as served:
        environment = {
            **os.environ,
            "TWAP_ENGINE_API_KEY": "paper-key",
            "TWAP_ENGINE_API_SECRET": "paper-secret",
        }
        environment.pop("BINANCE_API_KEY", None)
        run = subprocess.run(
            [
                sys.executable,
                str(ROOT / "examples" / "twap_over_ccxt.py"),
                "--url",
                f"http://{served.host}:{served.port}",
                "--interval",
                "0.5",
            ],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert run.returncode == 0, run.stderr
    assert re.search(r"^filled 20 of 20 AAPL/USDT @ \d+\.\d\d$", run.stdout, flags=re.MULTILINE), run.stdout
    assert "stream drops: 0" in run.stdout

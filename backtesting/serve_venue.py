"""``twap-engine serve-venue``: the paper exchange on the command line.

::

    twap-engine serve-venue --dialect binance [--host 127.0.0.1] [--port 8765] [SCENARIO.toml]
                            [--api-key KEY --api-secret SECRET] [--seed N]
                            [--orders-per-10s N] [--orders-per-day N] [--weight-per-minute N]
                            [--drop-answer P] [--server-error P] [--slow P] [--close-user-stream P]
                            [--check-balances]

Serves the simulated venue of SCENARIO (its symbols, market, latency, fees, venue faults, cash
and positions, as ``backtest`` reads them) or the demo venue, in Binance Spot's dialect, on real
time, until interrupted (Ctrl-C). The server's Binance-shaped limits replace the scenario's own
``rate_limits``. The key and secret come from the options or from ``TWAP_ENGINE_API_KEY`` /
``TWAP_ENGINE_API_SECRET``; the secret is never printed. It binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

import anyio
from rich.console import Console

from backtesting.scenario import load_scenario
from gateways.served import BinanceLimits, Credentials, WireFaults, serve_venue
from gateways.simulated import SimulatedVenue

__all__ = ["add_parser", "run"]

DEFAULT_PORT = 8765


def add_parser(commands: Any) -> None:
    """Add the ``serve-venue`` command to the command line's sub-commands."""
    serve = commands.add_parser(
        "serve-venue", help="serve the simulated venue over HTTP in a real venue's dialect"
    )
    serve.add_argument("scenario", type=Path, nargs="?", help="scenario TOML file (default: the demo venue)")
    serve.add_argument("--dialect", choices=["binance"], default="binance", help="the venue's API dialect")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)"
    )
    serve.add_argument("--api-key", help="the API key clients must send (or TWAP_ENGINE_API_KEY)")
    serve.add_argument("--api-secret", help="the secret they sign with (or TWAP_ENGINE_API_SECRET)")
    serve.add_argument("--seed", type=int, help="replace the scenario's seed (also seeds the wire faults)")
    limits = BinanceLimits()
    serve.add_argument("--orders-per-10s", type=int, default=limits.orders_per_10s)
    serve.add_argument("--orders-per-day", type=int, default=limits.orders_per_day)
    serve.add_argument("--weight-per-minute", type=int, default=limits.request_weight_per_minute)
    serve.add_argument("--check-balances", action="store_true", help="refuse orders without the funds")
    for fault in ("drop-answer", "server-error", "slow", "close-user-stream"):
        serve.add_argument(f"--{fault}", type=float, default=0.0, metavar="P", help="wire fault probability")


def _venue(arguments: argparse.Namespace) -> tuple[SimulatedVenue, int]:
    if arguments.scenario is None:
        seed = 7 if arguments.seed is None else arguments.seed
        return SimulatedVenue.demo(seed=seed, rate_limits=[]), seed
    scenario = load_scenario(arguments.scenario)
    if arguments.seed is not None:
        scenario = scenario.with_seed(arguments.seed)
    settings = scenario.venue
    venue = SimulatedVenue(
        settings.replay if settings.replay is not None else list(settings.symbols),
        seed=scenario.seed, latency=settings.latency, fees=settings.fees, faults=settings.faults,
        cash=scenario.cash, positions=dict(scenario.positions), request_timeout=settings.request_timeout,
        step=settings.step, participation=settings.participation,
    )
    return venue, scenario.seed


def run(arguments: argparse.Namespace, console: Console) -> int:
    """Serve until interrupted; returns the exit status."""
    credentials = Credentials.from_environment(arguments.api_key, arguments.api_secret)
    limits = BinanceLimits(
        request_weight_per_minute=arguments.weight_per_minute, orders_per_10s=arguments.orders_per_10s,
        orders_per_day=arguments.orders_per_day,
    )
    faults = WireFaults(
        drop_answer=arguments.drop_answer, server_error=arguments.server_error, slow=arguments.slow,
        close_user_stream=arguments.close_user_stream,
    )
    venue, seed = _venue(arguments)

    async def main() -> None:
        async with serve_venue(
            venue, host=arguments.host, port=arguments.port, credentials=credentials, limits=limits,
            faults=faults, seed=seed, check_balances=arguments.check_balances,
        ) as served:
            markets = ", ".join(f"{m.market_id} ({m.ccxt_symbol})" for m in served.exchange.symbols)
            console.print(f"serving the simulated venue in Binance's dialect: {markets}", markup=False)
            console.print(f"REST {served.rest_url}", markup=False)
            console.print(f"user data {served.ws_api_url}, market streams {served.ws_url}", markup=False)
            console.print(f"API key {served.api_key}; press Ctrl-C to stop", markup=False)
            try:
                await served.wait_stopped()
            finally:
                console.print(f"stopped: {served.statistics()}", markup=False, highlight=False)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it stops
        anyio.run(main)
    return 0

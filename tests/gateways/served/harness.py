"""Running tests against the served venue over real sockets, on real time.

pytest-asyncio runs async tests on virtual time, which real sockets do not mix with (a client's
timeout would fire while the loop waits for I/O). So these tests are plain functions that run
their scenario with ``run_served(scenario, venue=..., **serve_options)``: a fresh real-time
asyncio loop (``anyio.run``), the venue served on 127.0.0.1 at an ephemeral port for the
scenario's duration, and the ccxt clients it makes closed afterwards::

    def test_something() -> None:
        async def scenario(served: ServedEndpoints, clients: Clients) -> None:
            exchange = await clients.rest()          # ccxt.async_support.binance, markets loaded
            pro = await clients.pro()                # ccxt.pro.binance, markets loaded
            ...
        run_served(scenario)

Synchronous callers (a pytest fixture) can use ``gateways.served.serve_in_thread`` instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
import anyio
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from gateways.served import ServedEndpoints, serve_venue
from gateways.simulated import LatencyModel, SimulatedVenue

__all__ = ["Clients", "quiet_venue", "raw_request", "run_served", "signed_query"]

# Every scenario ends well within this; a hang fails the test instead of stalling the run.
SCENARIO_SECONDS = 30.0


def quiet_venue(**overrides: Any) -> SimulatedVenue:
    """The demo venue without latency or its own rate limits: the server's limits are the ones."""
    options: dict[str, Any] = {"latency": LatencyModel.zero(), "rate_limits": [], **overrides}
    return SimulatedVenue.demo(**options)


class Clients:
    """Makes unmodified ccxt clients for the served venue, and closes them all at the end."""

    def __init__(self, served: ServedEndpoints) -> None:
        self._served = served
        self._made: list[Any] = []

    async def rest(self, *, timeout_ms: int = 5_000, load: bool = True, **config: Any) -> Any:
        """A ``ccxt.async_support.binance`` pointed at the served venue."""
        exchange = ccxt_async.binance({**self._served.ccxt_config(), "timeout": timeout_ms, **config})
        self._made.append(exchange)
        if load:
            await exchange.load_markets()
        return exchange

    async def pro(self, *, load: bool = True, **config: Any) -> Any:
        """A ``ccxt.pro.binance`` pointed at the served venue."""
        exchange = ccxt_pro.binance({**self._served.ccxt_config(), **config})
        self._made.append(exchange)
        if load:
            await exchange.load_markets()
        return exchange

    async def close(self) -> None:
        for exchange in self._made:
            await exchange.close()


Scenario = Callable[[ServedEndpoints, Clients], Awaitable[None]]


def run_served(scenario: Scenario, venue: SimulatedVenue | None = None, **serve_options: Any) -> None:
    """Serve ``venue`` (default ``quiet_venue()``) and run ``scenario`` against it, on real time."""

    async def main() -> None:
        with anyio.fail_after(SCENARIO_SECONDS):
            async with serve_venue(venue if venue is not None else quiet_venue(), **serve_options) as served:
                clients = Clients(served)
                try:
                    await scenario(served, clients)
                finally:
                    await clients.close()

    anyio.run(main)


async def raw_request(
    served: ServedEndpoints,
    method: str,
    path: str,
    query: str = "",
    *,
    body: str = "",
    api_key: str | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One HTTP request exactly as given (no ccxt): status, headers (lower-case names) and the
    decoded JSON body."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if api_key is not None:
        headers["X-MBX-APIKEY"] = api_key
    url = f"http://{served.authority}{path}" + (f"?{query}" if query else "")
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=body or None, headers=headers) as response,
    ):
        text = await response.text()
        try:
            decoded: Any = json.loads(text)
        except ValueError:
            decoded = text
        return response.status, {name.lower(): value for name, value in response.headers.items()}, decoded


def signed_query(
    served: ServedEndpoints, params: Mapping[str, object], *, timestamp_ms: int | None = None
) -> str:
    """``params`` with ``timestamp`` and a valid ``signature``, as a query string."""
    values = {**params, "timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)}
    query = urlencode(values)
    return f"{query}&signature={served.exchange.credentials.sign(query)}"

"""Serving: ``serve_venue`` runs the paper exchange on uvicorn inside the caller's task group.

::

    venue = SimulatedVenue.demo(latency=LatencyModel.zero())
    async with serve_venue(venue, port=0) as served:       # opens the venue too
        exchange = ccxt.async_support.binance(served.ccxt_config())
        ...
        print(served.statistics().rate_limit_violations)

``serve_venue`` opens the venue, starts the event pump and the HTTP server (uvicorn's
``Server.serve`` on a socket bound here, so the port is known, with a ready handshake through
``task_group.start``), and on exit stops them in order: held answers and sockets end, uvicorn shuts
down gracefully, the venue closes. ``port=0`` takes a free ephemeral port. It binds 127.0.0.1
unless told otherwise. Without credentials it makes a random key and secret (``served.api_key``,
``served.secret``). ``check_balances=True`` refuses orders without the funds, as Binance does.

``serve_in_thread`` does the same on its own event loop in a background thread, for synchronous
callers (a pytest fixture, a notebook); leaving its ``with`` stops the server and joins the thread.
"""

from __future__ import annotations

import math
import queue
import secrets
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import anyio.abc
import attrs
import uvicorn

from engine.errors import InvalidInputError
from gateways.served.app import build_app
from gateways.served.auth import Credentials
from gateways.served.errors import ServerNotReadyError
from gateways.served.exchange import PaperExchange, PaperExchangeStatistics
from gateways.served.faults import WireFaults
from gateways.served.limits import BinanceLimits
from gateways.served.symbols import DEFAULT_QUOTE_ASSET, SymbolMap
from gateways.simulated import SimulatedVenue

__all__ = ["ServedEndpoints", "serve_in_thread", "serve_venue"]

_READY_SECONDS = 10.0
_GRACEFUL_SECONDS = 2


@attrs.frozen
class ServedEndpoints:
    """Where the served venue listens, the key it accepts, and its live state."""

    host: str
    port: int
    api_key: str
    secret: str = attrs.field(repr=False)
    exchange: PaperExchange = attrs.field(repr=False)

    @property
    def authority(self) -> str:
        """``host:port`` as a URL writes it (an IPv6 address in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def rest_url(self) -> str:
        """Base of the REST API: ``http://host:port/api/v3``."""
        return f"http://{self.authority}/api/v3"

    @property
    def ws_url(self) -> str:
        """Base of the market streams: ``ws://host:port/ws``."""
        return f"ws://{self.authority}/ws"

    @property
    def ws_api_url(self) -> str:
        """The WebSocket API (user-data stream): ``ws://host:port/ws-api/v3``."""
        return f"ws://{self.authority}/ws-api/v3"

    def ccxt_config(self, **options: Any) -> dict[str, Any]:
        """Settings for an unmodified ``ccxt.binance`` (REST or pro) to trade here.

        Points the spot REST and WebSocket URLs here, loads spot markets only, skips the currency
        list and the margin pairs (wallet and margin endpoints the served venue does not have) and
        turns ccxt's throttler off; ``options`` go into ccxt's ``options`` on top.
        """
        return {
            "apiKey": self.api_key,
            "secret": self.secret,
            "enableRateLimit": False,
            "urls": {
                "api": {
                    "public": self.rest_url,
                    "private": self.rest_url,
                    "ws": {"spot": self.ws_url, "margin": self.ws_url, "ws-api": {"spot": self.ws_api_url}},
                },
            },
            "options": {
                "defaultType": "spot",
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
                **options,
            },
        }

    def statistics(self) -> PaperExchangeStatistics:
        """The served venue's counters now."""
        return self.exchange.statistics()

    async def wait_stopped(self) -> None:
        """Wait until the server stops (a signal, or the owner leaving ``serve_venue``)."""
        await self.exchange.stopping.wait()


@asynccontextmanager
async def serve_venue(
    venue: SimulatedVenue,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    credentials: Credentials | None = None,
    limits: BinanceLimits | None = None,
    faults: WireFaults | None = None,
    seed: int = 0,
    quote_asset: str = DEFAULT_QUOTE_ASSET,
    stream_interval: float = 0.05,
    check_balances: bool = False,
) -> AsyncIterator[ServedEndpoints]:
    """Open ``venue`` and serve it in Binance's dialect until the ``async with`` ends."""
    _check_settings(venue, port, stream_interval, credentials)
    SymbolMap(venue.instruments, quote_asset)  # refuses a bad quote asset or symbol before binding
    if credentials is None:
        credentials = Credentials(secrets.token_hex(16), secrets.token_hex(32))
    # IPPROTO_TCP named: asyncio turns Nagle's algorithm off only on sockets that say they are TCP,
    # and without that every answer (headers, then body) waits ~40 ms for the client's delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
        async with venue:
            exchange = PaperExchange(
                venue, credentials, limits=limits or BinanceLimits(), faults=faults or WireFaults(),
                seed=seed, quote_asset=quote_asset, stream_interval=stream_interval,
                check_balances=check_balances,
            )
            endpoints = ServedEndpoints(
                host, sock.getsockname()[1], credentials.api_key, credentials.secret, exchange
            )
            async with anyio.create_task_group() as task_group:
                await task_group.start(exchange.run_event_pump)
                await task_group.start(_serve_http, exchange, sock, endpoints)
                try:
                    yield endpoints
                finally:
                    exchange.stop()
    finally:
        sock.close()


def _check_settings(venue: Any, port: Any, stream_interval: Any, credentials: Any) -> None:
    """Refuse bad settings before anything binds or opens, naming the field."""
    if not isinstance(venue, SimulatedVenue):
        raise InvalidInputError("venue", venue, "expected a SimulatedVenue (not yet opened)")
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65_535:
        raise InvalidInputError("port", port, "expected a port number from 0 (any free) to 65535")
    if (
        isinstance(stream_interval, bool) or not isinstance(stream_interval, int | float)
        or not 0 < stream_interval < math.inf
    ):
        raise InvalidInputError("stream_interval", stream_interval, "expected a positive number of seconds")
    if credentials is not None and not isinstance(credentials, Credentials):
        raise InvalidInputError("credentials", "<hidden>", "expected Credentials")


async def _serve_http(
    exchange: PaperExchange,
    sock: socket.socket,
    endpoints: ServedEndpoints,
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Run uvicorn on ``sock``; ready once it listens; stop it when the exchange stops."""
    # log_config=None: uvicorn leaves the application's logging configuration alone.
    config = uvicorn.Config(
        build_app(exchange), lifespan="off", log_config=None, log_level="warning", access_log=False,
        ws="websockets-sansio", timeout_graceful_shutdown=_GRACEFUL_SECONDS, server_header=False,
    )
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as task_group:

        async def serve() -> None:
            try:
                await server.serve(sockets=[sock])
            finally:
                exchange.stop()  # a signal stopped uvicorn: the owner's wait ends too

        task_group.start_soon(serve)
        with anyio.move_on_after(_READY_SECONDS):
            # uvicorn tells of its start only by a flag: polled, briefly
            while not server.started and not exchange.stopping.is_set():  # noqa: ASYNC110
                await anyio.sleep(0.005)
        if not server.started:
            server.should_exit = True
            raise ServerNotReadyError(endpoints.host, endpoints.port, _READY_SECONDS)
        task_status.started()
        await exchange.stopping.wait()
        server.should_exit = True


@contextmanager
def serve_in_thread(make_venue: Callable[[], SimulatedVenue], **options: Any) -> Iterator[ServedEndpoints]:
    """``serve_venue`` on its own event loop in a background thread (``options`` as for it)."""
    ready: queue.Queue[ServedEndpoints | BaseException] = queue.Queue()
    stop = threading.Event()

    async def main() -> None:
        try:
            async with serve_venue(make_venue(), **options) as endpoints:
                ready.put(endpoints)
                # the owner's signal is a thread's Event: polled, briefly
                while not stop.is_set() and not endpoints.exchange.stopping.is_set():  # noqa: ASYNC110
                    await anyio.sleep(0.02)
        except BaseException as error:
            ready.put(error)
            raise

    thread = threading.Thread(target=anyio.run, args=(main,), name="served-venue", daemon=True)
    thread.start()
    try:
        started = ready.get(timeout=_READY_SECONDS * 2)
        if isinstance(started, BaseException):
            raise started
        yield started
    finally:
        stop.set()
        thread.join(timeout=_READY_SECONDS * 2)

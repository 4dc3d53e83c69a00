"""The daemon's runner: venue, journal, service and API composed, with signals and a bounded stop.

``run_daemon(config)`` opens the venue's gateway, the journal (locked: a second daemon on it is
refused), the ``TradingService`` (which recovers what the journal holds open) and the control API
inside one task group, then runs until SIGTERM or SIGINT. The first signal stops taking requests
and new slices, then, by ``shutdown.resting_children``, cancels the resting children and waits
for them (``cancel``) or leaves them at the venue (``leave``); the journal is flushed and closed.
If that takes longer than ``shutdown.grace_seconds``, or a second signal comes, the process exits
at once: every journal write is already committed, so the next start recovers as after a crash.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import attrs
import structlog

from daemon.api import create_app, resolve_api_token, serve_api
from daemon.config import DaemonConfig
from daemon.journal import Journal
from daemon.paper import PaperVenueGateway
from daemon.service import TradingService
from engine import TradingGateway
from gateways.simulated import SimulatedVenue

__all__ = ["DaemonReady", "open_venue", "run_daemon"]

_log = structlog.get_logger("daemon")

# Exit statuses: a stop cut short (grace over, or a second signal) is not a clean exit.
EXIT_OK = 0
EXIT_CUT_SHORT = 3


@attrs.frozen
class DaemonReady:
    """What a started daemon tells: where its API listens, its journal, its run and venue."""

    url: str
    journal: str
    run: int
    venue: str
    token_source: str
    token_file: str | None


@asynccontextmanager
async def open_venue(config: DaemonConfig) -> AsyncIterator[tuple[TradingGateway, str]]:
    """The configured venue's open gateway and the venue's identity for the journal."""
    choice = config.venue
    if choice.kind == "paper":
        assert choice.address is not None
        async with PaperVenueGateway(choice.address) as paper:
            yield paper, f"paper:{paper.venue_id}"
    elif choice.kind in ("served", "ccxt"):
        from gateways.ccxt import CcxtGateway, CcxtSettings

        if choice.kind == "served":
            # The paper exchange prices every symbol in USDT: our AAPL is its AAPL/USDT.
            settings = CcxtSettings.from_environment("binance", base_url=choice.url)
            aliases = {symbol: f"{symbol}/USDT" for symbol in choice.symbols}
            identity = f"served:{choice.url}"
        else:
            assert choice.exchange is not None
            settings, aliases = CcxtSettings.from_environment(choice.exchange), None
            identity = f"ccxt:{choice.exchange}"
        async with CcxtGateway(settings, aliases=aliases) as gateway:
            yield gateway, identity
    else:
        # An in-process venue lives and dies with this process: each start is another venue.
        async with SimulatedVenue.demo(choice.seed) as venue:
            yield venue, f"simulated:{uuid.uuid4().hex[:12]}"


def _hard_exit(status: int, reason: str) -> None:
    _log.warning("exiting at once", reason=reason)
    sys.stderr.flush()
    os._exit(status)


async def _watch_signals(
    stop: anyio.Event,
    grace: float,
    leave_resting: bool,
    journal: Journal,
    *,
    task_status: anyio.abc.TaskStatus[None],
) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        task_status.started()
        async for received in signals:
            if stop.is_set():
                _hard_exit(EXIT_CUT_SHORT, f"second signal {signal.Signals(received).name}")
            _log.info("stopping", signal=signal.Signals(received).name, grace_seconds=grace)
            stop.set()
            if leave_resting:
                # Every journal write is committed: leaving now leaves the children resting at the
                # venue, and the next start settles them.
                journal.close()
                _hard_exit(EXIT_OK, "resting children left at the venue by policy")
            break
        with anyio.move_on_after(grace):
            async for received in signals:
                _hard_exit(EXIT_CUT_SHORT, f"second signal {signal.Signals(received).name}")
        _hard_exit(EXIT_CUT_SHORT, f"the stop took longer than {grace}s")


async def run_daemon(config: DaemonConfig, *, on_ready: Callable[[DaemonReady], None] | None = None) -> int:
    """Run the daemon until a signal stops it; returns the exit status."""
    token = resolve_api_token(configured=config.api.token, token_file=config.api.token_file)
    async with open_venue(config) as (gateway, venue_id):
        with Journal.open(
            config.journal.path,
            venue=venue_id,
            account=config.venue.account,
            synchronous=config.journal.synchronous,
        ) as journal:
            assert journal.run is not None
            if journal.venue != venue_id:
                _log.warning(
                    "journal venue differs",
                    journal_venue=journal.venue,
                    running_venue=venue_id,
                    note="parents journaled elsewhere are left for the operator",
                )
            stop = anyio.Event()
            async with anyio.create_task_group() as watcher:
                await watcher.start(
                    _watch_signals,
                    stop,
                    config.shutdown.grace_seconds,
                    config.shutdown.resting_children == "leave",
                    journal,
                )
                service = TradingService(
                    gateway,
                    journal=journal,
                    venue=venue_id,
                    account=config.venue.account,
                    max_orders_per_minute=config.queue.max_orders_per_minute,
                    limits=(*config.queue.limits, *getattr(gateway, "limits", ())),
                    settle_timeout=config.shutdown.settle_timeout,
                )
                async with service:
                    app = create_app(service, token=token.value)
                    async with anyio.create_task_group() as server:
                        address = await server.start(serve_api, app, config.api.host, config.api.port)
                        ready = DaemonReady(
                            url=address.url,
                            journal=str(journal.path),
                            run=journal.run.run,
                            venue=venue_id,
                            token_source=token.source,
                            token_file=None if token.path is None else str(token.path),
                        )
                        _log.info("daemon ready", **attrs.asdict(ready))
                        if on_ready is not None:
                            on_ready(ready)
                        await stop.wait()
                        service.stop_accepting()
                        server.cancel_scope.cancel()
                # the service has cancelled its resting children and waited for them
                watcher.cancel_scope.cancel()
    _log.info("stopped")
    return EXIT_OK

"""The long-lived consumers of ccxt.pro's streams, and the resync that follows a drop.

A ccxt.pro ``watch_*`` call resolves only on updates that arrive while it is pending (and with
``newUpdates`` it returns what came since the previous call), so each stream has exactly one
consumer that calls it again the moment it has folded the last batch in, synchronously, without
awaiting anything in between. One consumer for ``watch_orders`` (acks, cancels, expiries,
rejects, and the fills Binance's execution reports carry) and one for ``watch_my_trades`` (every
fill with its trade id); both feed the ``OrderTracker``, which dedupes.

When a stream fails (ccxt rejects the pending call when the socket closes), its consumer asks for
a resync and calls ``watch_*`` again after a back-off (that call reconnects and resubscribes). A
socket that closed while no call was pending rejects nothing, and the next call silently opens a
new one: so each consumer also compares ccxt's connection objects before and after each call, and
a new one asks for a resync too. The
``Resync`` task then subscribes (``ensure_subscribed``), so that anything from now on arrives by
stream, and runs a REST reconciliation pass over the gap. If ``report_after`` passes in a row fail,
the readers of the event stream get ``EventStreamDroppedError`` (the gap is not covered yet); the
resync keeps trying, with back-off up to ``max_delay``, and the readers who subscribe again get
what it finds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import anyio.abc
import structlog

from engine.errors import GatewayError
from gateways.ccxt.journal import EventJournal
from gateways.ccxt.reconcile import Reconciler

__all__ = ["Backoff", "Resync", "StreamConsumer"]

_log = structlog.get_logger("gateways.ccxt")


class Backoff:
    """Exponential back-off: ``first`` seconds, doubling, at most ``max_delay``."""

    def __init__(self, first: float = 0.05, max_delay: float = 5.0) -> None:
        self._first = first
        self._max = max_delay

    def delay(self, attempt: int) -> float:
        """The wait before attempt ``attempt`` (0 for the first try)."""
        return 0.0 if attempt <= 0 else min(self._max, self._first * 2 ** (attempt - 1))


class Resync:
    """Runs REST reconciliation after each drop until one pass covers the gap."""

    def __init__(
        self,
        reconciler: Reconciler,
        journal: EventJournal,
        ensure_subscribed: Callable[[], Awaitable[None]],
        backoff: Backoff,
        report_after: int = 3,
    ) -> None:
        self._reconciler = reconciler
        self._journal = journal
        self._ensure_subscribed = ensure_subscribed
        self._backoff = backoff
        self._report_after = report_after
        self._wanted = anyio.Event()
        self._symbols: set[str] = set()
        self._reported = 0
        self.passes_failed = 0

    def request(self, symbols: Iterable[str] = ()) -> None:
        """Ask for a pass (after a drop, or when the venue shows fills we have not seen)."""
        self._symbols.update(symbols)
        self._wanted.set()

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Wait for requests and serve each with a pass, retrying until one succeeds."""
        task_status.started()
        while True:
            await self._wanted.wait()
            self._wanted = anyio.Event()
            symbols, self._symbols = self._symbols, set()
            attempt = 0
            while True:
                await anyio.sleep(self._backoff.delay(attempt))
                try:
                    await self._ensure_subscribed()
                    await self._reconciler.run_pass(symbols)
                except GatewayError as error:
                    attempt += 1
                    self.passes_failed += 1
                    _log.warning("reconciliation failed; retrying", attempt=attempt, error=str(error))
                    if attempt == self._report_after:
                        self._reported += 1
                        self._journal.fail()
                    continue
                break


class StreamConsumer:
    """One long-lived consumer of one ccxt.pro ``watch_*`` stream."""

    def __init__(
        self,
        name: str,
        watch: Callable[[], Awaitable[list[Any]]],
        fold: Callable[[list[Any]], None],
        on_drop: Callable[[], None],
        backoff: Backoff,
        connection: Callable[[], object] = lambda: None,
    ) -> None:
        self.name = name
        self._watch = watch
        self._fold = fold
        self._on_drop = on_drop
        self._backoff = backoff
        self._connection = connection
        self.drops = 0
        self.batches = 0

    def __repr__(self) -> str:
        return f"<StreamConsumer {self.name} [batches: {self.batches}, drops: {self.drops}]>"

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Watch, fold, watch again; after a failure, ask for a resync and back off."""
        task_status.started()
        failures = 0
        connection = self._connection()
        while True:
            try:
                batch = await self._watch()
            except Exception as error:  # ccxt's NetworkError and kin: the stream dropped
                failures += 1
                self.drops += 1
                _log.warning("stream dropped; reconnecting", stream=self.name, error=type(error).__name__)
                self._on_drop()
                await anyio.sleep(self._backoff.delay(failures))
                connection = self._connection()
                continue
            failures = 0
            self.batches += 1
            self._fold(batch)
            now_on = self._connection()
            if now_on != connection:
                # The socket closed while no call was pending (ccxt then rejects nothing) and the
                # last call reconnected: what came in between is lost on the stream. Reconcile.
                connection = now_on
                self.drops += 1
                _log.warning("stream reconnected unseen; reconciling", stream=self.name)
                self._on_drop()

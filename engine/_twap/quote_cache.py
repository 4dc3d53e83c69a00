"""Shared quotes: parents of the same symbol share one quote request per ``max_age`` seconds.

A thousand parents slicing the same symbol at the same instant need one quote, not a thousand
requests that would also eat the venue's rate limit. A request in flight is shared by everyone
who asks meanwhile, and one who only wants to know its answer, without waiting for it, can
``listen`` for it instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import attrs

from engine.clock import now
from engine.errors import GatewayError, InvalidInputError
from engine.gateway import TradingGateway
from engine.market import Quote

__all__ = ["QuoteCache", "QuoteCacheStatistics"]


@attrs.frozen
class QuoteCacheStatistics:
    """Counters of a ``QuoteCache``."""

    requests: int
    hits: int
    failures: int


class _Fetch:
    __slots__ = ("done", "error", "listeners", "quote")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.quote: Quote | None = None
        self.error: GatewayError | None = None
        self.listeners: list[Callable[[Quote], object]] = []


class QuoteCache:
    """Quotes from ``gateway``, reused while younger than ``max_age`` seconds (engine clock).

    ``quote`` is how a quote is asked for (by default ``gateway.get_quote``; an engine passes its
    order queue's ``quote``, so quote requests count against the venue's limits).
    """

    def __init__(
        self,
        gateway: TradingGateway,
        *,
        max_age: float = 1.0,
        quote: Callable[[str], Awaitable[Quote]] | None = None,
    ) -> None:
        if not isinstance(max_age, (int, float)) or isinstance(max_age, bool) or not max_age >= 0:
            raise InvalidInputError("max_age", max_age, "expected seconds ≥ 0")
        self._gateway = gateway
        self._ask = gateway.get_quote if quote is None else quote
        self._max_age = float(max_age)
        self._quotes: dict[str, tuple[float, Quote]] = {}
        self._in_flight: dict[str, _Fetch] = {}
        self._requests = self._hits = self._failures = 0

    def __repr__(self) -> str:
        return f"<QuoteCache symbols={len(self._quotes)} requests={self._requests} hits={self._hits}>"

    def statistics(self) -> QuoteCacheStatistics:
        """A frozen snapshot of the counters."""
        return QuoteCacheStatistics(requests=self._requests, hits=self._hits, failures=self._failures)

    def get_quote_nowait(self, symbol: str) -> Quote | None:
        """The cached quote if it is no older than ``max_age``, else ``None`` (never asks the gateway)."""
        cached = self._quotes.get(symbol)
        if cached is not None and now() - cached[0] <= self._max_age:
            self._hits += 1
            return cached[1]
        return None

    def listen(self, symbol: str, on_quote: Callable[[Quote], object]) -> anyio.Event | None:
        """If a request for ``symbol`` is in flight, have ``on_quote`` called with its quote.

        Returns the event set once the request ended (``on_quote`` was then called, unless the
        request failed or its task was cancelled), or ``None`` when no request is in flight (the
        caller asks with ``get_quote``). A task that only records the quote, like a parent
        sampling the mid after a market slice, then goes on instead of waiting for the answer:
        at a slice time shared by a thousand parents, that is a thousand wake-ups saved.
        """
        fetch = self._in_flight.get(symbol)
        if fetch is None:
            return None
        self._hits += 1
        fetch.listeners.append(on_quote)
        return fetch.done

    async def get_quote(self, symbol: str) -> Quote:
        """A quote no older than ``max_age``; raises the gateway's error if the request fails."""
        while True:
            cached = self._quotes.get(symbol)
            if cached is not None and now() - cached[0] <= self._max_age:
                self._hits += 1
                return cached[1]
            fetch = self._in_flight.get(symbol)
            if fetch is None:
                return await self._fetch(symbol)
            self._hits += 1
            await fetch.done.wait()
            if fetch.error is not None:
                raise fetch.error
            if fetch.quote is not None:
                return fetch.quote
            # The task that fetched was cancelled before an answer came: ask again.

    async def _fetch(self, symbol: str) -> Quote:
        fetch = self._in_flight[symbol] = _Fetch()
        self._requests += 1
        asked_at = now()
        try:
            quote = fetch.quote = await self._ask(symbol)
            self._quotes[symbol] = (asked_at, quote)
            for on_quote in fetch.listeners:
                on_quote(quote)
        except GatewayError as error:
            self._failures += 1
            fetch.error = error
            raise
        finally:
            # Whoever waits on this fetch is woken, also when this task is cancelled.
            del self._in_flight[symbol]
            fetch.done.set()
        return quote

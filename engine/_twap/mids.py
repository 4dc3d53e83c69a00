"""The mids one parent samples over its schedule: the interval's TWAP price and the last mid."""

from __future__ import annotations

from decimal import Decimal

import anyio
import structlog

from engine._twap.quote_cache import QuoteCache
from engine.errors import GatewayError
from engine.market import Quote
from engine.numbers import ZERO

__all__ = ["MidSamples"]


class MidSamples:
    """The arrival mid and one mid per slice: their mean is the interval's TWAP benchmark.

    A sample may still be on its way (``pending``: a quote request of another parent of the same
    symbol, whose answer this one takes too); ``wait_pending`` waits for it.
    """

    __slots__ = ("_count", "_sum", "last", "pending")

    def __init__(self, arrival: Quote | None) -> None:
        self._sum = arrival.mid if arrival is not None else ZERO
        self._count = 1 if arrival is not None else 0
        self.last: Decimal | None = arrival.mid if arrival is not None else None
        self.pending: anyio.Event | None = None

    def __repr__(self) -> str:
        return f"<MidSamples count={self._count} last={self.last}>"

    @property
    def twap(self) -> Decimal | None:
        """The mean of the mids sampled, or ``None`` before the first."""
        return self._sum / self._count if self._count else None

    def take(self, quote: Quote) -> None:
        """Count ``quote``'s mid as a sample."""
        mid = quote.mid  # (worked out on each read)
        self._sum += mid
        self._count += 1
        self.last = mid

    def is_pending(self) -> bool:
        """True while a sample is on its way."""
        return self.pending is not None and not self.pending.is_set()

    async def wait_pending(self) -> None:
        """Wait for a sample on its way (at once if none is)."""
        if self.pending is not None and not self.pending.is_set():
            await self.pending.wait()

    def sample_nowait(self, quotes: QuoteCache, symbol: str) -> bool:
        """Sample without waiting: from the cache, or from a request in flight without waiting for
        it (another parent of the symbol waits). False when only a request of its own can give it
        (``sample``). Not a coroutine: most find the cache."""
        quote = quotes.get_quote_nowait(symbol)
        if quote is not None:
            self.take(quote)
            return True
        pending = quotes.listen(symbol, self.take)
        if pending is not None:
            self.pending = pending
            return True
        return False

    async def sample(
        self, quotes: QuoteCache, symbol: str, log: structlog.typing.FilteringBoundLogger
    ) -> Quote | None:
        """Sample the quote of ``symbol`` (shared, or asked for); ``None`` if the venue failed."""
        # Most slices find a fresh shared quote; only a miss pays for a coroutine.
        quote = quotes.get_quote_nowait(symbol)
        if quote is None:
            try:
                quote = await quotes.get_quote(symbol)
            except GatewayError as error:
                log.warning("quote failed", error=str(error))
                return None
        self.take(quote)
        return quote

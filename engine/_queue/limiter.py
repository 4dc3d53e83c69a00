"""The order queue's limiter: the capacity every request takes under the limits, and when to try again.

It owns the queue's :class:`~engine._queue.limits.LimitGroup` (rolling windows and token buckets,
the pause after a 429 and the lowered rate that recovers over clean periods) and the one seeded
``random.Random`` of the queue, which lengthens a 429's pause and shortens a back-off by up to
``retry_jitter``, so a backtest with the same seed waits the same. The dispatcher asks it when the
head of the lanes may go out and records each send with it; a look-up or quote asked while no
dispatcher runs (before the queue is entered, or after it closed) waits for its capacity here.

It knows nothing of lanes, handles or the dispatcher.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import anyio

from engine import clock
from engine._queue.limits import LimitGroup
from engine.errors import RateLimitedError
from engine.rate_limits import RequestKind

__all__ = ["Limiter"]


class Limiter:
    """Capacity under the venue's limits, 429 pauses and back-off delays; see the module."""

    __slots__ = (
        "_group",
        "_log",
        "_lookups",
        "_max_retry_backoff",
        "_quotes",
        "_random",
        "_rate_limited",
        "_retry_backoff",
        "_retry_jitter",
        "check_cost",
        "ready_at",
        "record",
        "take",
    )

    def __init__(
        self,
        group: LimitGroup,
        *,
        retry_backoff: float,
        max_retry_backoff: float,
        retry_jitter: float,
        seed: int | None,
        log: Any,
    ) -> None:
        self._group = group
        # Every request asks and records its capacity: these are the group's own bound methods,
        # so a request pays no second call through this object (two calls fewer per order on the
        # queue's hottest path, where the composed queue measured within 3% of the inherited one).
        self.check_cost: Callable[[RequestKind, int], None] = group.check_cost
        """Refuse a request no limit could ever admit (its weight exceeds a limit's size)."""
        self.ready_at: Callable[[RequestKind, int, float], float] = group.ready_at
        """The earliest engine-clock time at which a request of ``kind`` and ``weight`` fits."""
        self.record: Callable[[RequestKind, int, float], None] = group.record
        """Count a request that goes out at ``now``."""
        self.take: Callable[[RequestKind, int, float], bool] = group.take
        """Count the request and return True if it fits at ``now``; otherwise change nothing."""
        self._retry_backoff = retry_backoff
        self._max_retry_backoff = max_retry_backoff
        self._retry_jitter = retry_jitter
        self._random = random.Random(seed)
        self._log = log
        self._rate_limited = 0  # 429s from the venue, for orders, cancels, look-ups and quotes
        self._lookups = 0  # look-up permits granted (look-ups of unknown outcomes: the dispatcher's)
        self._quotes = 0

    def __repr__(self) -> str:
        return repr(self._group)

    # -- capacity ------------------------------------------------------------------------------

    def charges(self, kind: RequestKind) -> bool:
        """True when some limit counts requests of ``kind``."""
        return self._group.charges(kind)

    def rate_factor(self, now: float) -> float:
        """The share of each limit in use after recent 429s (1.0: all of it)."""
        return self._group.rate_factor(now)

    def count_permit(self, kind: RequestKind) -> None:
        """A look-up's or quote's capacity was granted (its caller asks the venue itself)."""
        if kind is RequestKind.LOOKUP:
            self._lookups += 1
        else:
            self._quotes += 1

    async def wait_for_capacity(self, kind: RequestKind) -> None:
        """Wait until a look-up or quote fits the limits and count it (no dispatcher runs to grant it)."""
        group = self._group
        while True:
            now = clock.now()
            ready = group.ready_at(kind, 1, now)
            if ready <= now:
                group.record(kind, 1, now)
                self.count_permit(kind)
                return
            await anyio.sleep(ready - now)

    # -- when to try again ---------------------------------------------------------------------

    def pause_for_rate_limit(self, retry_after: float) -> float:
        """The venue answered 429: pause the whole group for ``retry_after`` plus jitter; the pause."""
        now = clock.now()
        self._rate_limited += 1
        pause = max(0.0, retry_after) * (1.0 + self._random.uniform(0.0, self._retry_jitter))
        self._group.on_rate_limited(now, now + pause)
        return pause

    def on_venue_rate_limited(self, error: RateLimitedError) -> None:
        """A counted look-up or quote was answered 429: pause the group, as for orders."""
        pause = self.pause_for_rate_limit(error.retry_after)
        self._log.warning("request.rate_limited", retry_after=error.retry_after, pause=pause)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``: doubling, capped, shortened by jitter."""
        base: float = min(self._max_retry_backoff, self._retry_backoff * 2.0 ** max(0, attempt - 1))
        return base * (1.0 - self._random.uniform(0.0, self._retry_jitter))

    # -- counters ------------------------------------------------------------------------------

    @property
    def rate_limited(self) -> int:
        """429 answers from the venue so far."""
        return self._rate_limited

    @property
    def lookup_permits(self) -> int:
        """Look-ups (``queue.lookup``) whose capacity was counted."""
        return self._lookups

    @property
    def quotes(self) -> int:
        """Quotes (``queue.quote``) whose capacity was counted."""
        return self._quotes

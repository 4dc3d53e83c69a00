"""The exact accounting of venue rate limits: rolling windows, token buckets, and a group of both.

The accounting is pure: every method takes ``now`` (engine seconds) and never sleeps, so it is
exact and deterministic. :class:`LimitGroup` combines several limits at once, and answers the one
question a dispatcher needs without polling: *at what time does this request fit?* It also holds
the group's reaction to the venue's 429s: a pause until the venue's retry-after, a lower effective
rate, and the rate's recovery over clean periods.

``safety_margin`` widens every rolling window by that many seconds (and makes a token bucket
credit the tokens drained after each send that much later). A venue counts a request when
it *arrives*, after a latency that varies from request to request, so two requests sent just over
``period`` apart can arrive just under it; a margin of at least the spread of one-way latency
(slowest minus fastest) keeps the venue's own count within the limit too.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable

import attrs

from engine.errors import InvalidInputError
from engine.fields import finite_number
from engine.rate_limits import LimitShape, RateLimit, RequestKind

__all__ = ["LimitGroup", "LimitGroupStatistics", "RollingWindow", "TokenBucket"]

# Float slack when comparing a computed ready time with the clock (event loops round timers).
_EPSILON = 1e-9


def _effective_limit(limit: int, scale: float) -> int:
    return max(1, math.floor(limit * scale + _EPSILON))


class RollingWindow:
    """Exact rolling-window accounting: the send times (and costs) within the last window.

    A request of cost ``c`` fits at ``now`` when the costs recorded in the last
    ``period + margin`` seconds plus ``c`` stay within the (effective) limit; a lone request
    always fits an empty window. Sends at the same instant share one entry, so a burst costs one
    entry, not one per request.
    """

    __slots__ = ("_entries", "_limit", "_span", "_used")

    def __init__(self, limit: RateLimit, margin: float = 0.0) -> None:
        self._limit = limit
        self._span = limit.period + margin
        self._entries: collections.deque[list[float]] = collections.deque()  # [time, cost]
        self._used = 0

    def __repr__(self) -> str:
        return f"<RollingWindow {self._limit.describe()} [used: {self._used}, entries: {len(self._entries)}]>"

    @property
    def limit(self) -> RateLimit:
        """The limit this window enforces."""
        return self._limit

    def _expire(self, now: float) -> None:
        entries, horizon = self._entries, now + _EPSILON - self._span
        while entries and entries[0][0] <= horizon:
            self._used -= int(entries.popleft()[1])

    def used(self, now: float) -> int:
        """The cost recorded within the window that ends at ``now``."""
        self._expire(now)
        return self._used

    def ready_at(self, cost: int, now: float, scale: float = 1.0) -> float:
        """The earliest time ≥ ``now`` at which ``cost`` fits."""
        if cost == 0:
            return now
        self._expire(now)
        allowed = max(_effective_limit(self._limit.limit, scale), cost)
        excess = self._used + cost - allowed
        if excess <= 0:
            return now
        for time, entry_cost in self._entries:
            excess -= int(entry_cost)
            if excess <= 0:
                return time + self._span
        return now  # pragma: no cover - unreachable: a lone request always fits

    def record(self, cost: int, now: float) -> None:
        """Count ``cost`` as sent at ``now`` (``now`` never goes back)."""
        if cost == 0:
            return
        self._expire(now)
        entries = self._entries
        if entries and entries[-1][0] == now:
            entries[-1][1] += cost
        else:
            entries.append([now, float(cost)])
        self._used += cost


class TokenBucket:
    """Token-bucket accounting with aiolimiter's semantics, as a pure function of time.

    The level drains at ``limit / period`` per second; a request of cost ``c`` fits while
    ``level + c ≤ limit`` (``aiolimiter.AsyncLimiter(limit, period)`` admits exactly the same
    requests when ``margin`` is zero). Under a lowered rate both the capacity and the drain scale
    down.

    ``margin`` (seconds) is the spread of one-way latency. The venue's bucket drains between
    *arrivals*, and an earlier request may arrive up to ``margin`` later than sent while this one
    arrives at once; so a request recorded at ``s`` starts draining only at ``s + margin``. The
    level seen at ``now`` is the bucket's level at ``now - margin`` plus what was recorded since.
    A burst from an empty bucket is not held back; the drained tokens after it come ``margin`` late.
    """

    __slots__ = ("_level", "_limit", "_margin", "_recent", "_updated")

    def __init__(self, limit: RateLimit, margin: float = 0.0) -> None:
        self._limit = limit
        self._margin = margin
        self._level = 0.0  # the bucket at time ``_updated``, which lags the clock by ``margin``
        self._updated = 0.0
        self._recent: collections.deque[list[float]] = collections.deque()  # [time, cost] not draining yet

    def __repr__(self) -> str:
        return f"<TokenBucket {self._limit.describe()} [level: {self._level + self._pending():.3f}]>"

    @property
    def limit(self) -> RateLimit:
        """The limit this bucket enforces."""
        return self._limit

    def _rate(self, scale: float) -> float:
        return self._limit.limit * scale / self._limit.period

    def _pending(self) -> float:
        return sum(cost for _, cost in self._recent)

    def _drain_to(self, time: float, rate: float) -> None:
        if time > self._updated:
            self._level = max(0.0, self._level - (time - self._updated) * rate)
            self._updated = time

    def _advance(self, now: float, scale: float) -> None:
        """Bring the lagging bucket to ``now - margin``, letting older records start draining."""
        rate, lagged = self._rate(scale), now - self._margin
        recent = self._recent
        while recent and recent[0][0] <= lagged:
            time, cost = recent.popleft()
            self._drain_to(time, rate)
            self._level += cost
        self._drain_to(lagged, rate)

    def level(self, now: float, scale: float = 1.0) -> float:
        """The bucket's level at ``now`` (records of the last ``margin`` seconds not yet drained)."""
        self._advance(now, scale)
        return self._level + self._pending()

    def ready_at(self, cost: int, now: float, scale: float = 1.0) -> float:
        """The earliest time ≥ ``now`` at which ``cost`` fits."""
        if cost == 0:
            return now
        self._advance(now, scale)
        capacity = max(self._limit.limit * scale, float(cost))
        excess = self._level + self._pending() + cost - capacity
        if excess <= _EPSILON:
            return now
        rate = self._rate(scale)
        time, level = now, self._level
        for recorded, pending in self._recent:  # each starts draining ``margin`` after it was sent
            starts = recorded + self._margin
            drained = min(level, (starts - time) * rate)
            if drained >= excess:
                return time + excess / rate
            excess -= drained
            level += pending - drained
            time = starts
        return time + excess / rate

    def record(self, cost: int, now: float, scale: float = 1.0) -> None:
        """Count ``cost`` as sent at ``now`` (``now`` never goes back)."""
        if cost == 0:
            return
        self._advance(now, scale)
        if self._margin == 0.0:
            self._level += cost
        elif self._recent and self._recent[-1][0] == now:
            self._recent[-1][1] += cost
        else:
            self._recent.append([now, float(cost)])


@attrs.frozen
class LimitGroupStatistics:
    """A snapshot of a :class:`LimitGroup`."""

    usage: tuple[tuple[str, float], ...]
    rate_factor: float
    paused_until: float
    rate_limited_count: int


class LimitGroup:
    """Several limits enforced together, with the reaction to the venue's 429s.

    ``ready_at`` gives the earliest time a request fits every limit (and the pause), ``record``
    counts a sent request against all of them. After a 429, ``on_rate_limited`` pauses the group
    until the venue's retry-after and multiplies the effective rate by ``backoff_factor`` (never
    below ``min_rate_factor``; once per overload: 429s that arrive while a pause holds answer
    requests sent before it and lower nothing more); every ``recovery_period`` seconds without a
    429 gives back ``recovery_step`` of the rate, up to the full limits.
    """

    def __init__(
        self,
        limits: Iterable[RateLimit],
        *,
        safety_margin: float = 0.0,
        backoff_factor: float = 0.8,
        min_rate_factor: float = 0.5,
        recovery_step: float = 0.1,
        recovery_period: float | None = None,
    ) -> None:
        limits = tuple(limits)
        for index, limit in enumerate(limits):
            if not isinstance(limit, RateLimit):
                raise InvalidInputError(f"limits[{index}]", limit, "expected a RateLimit")
        margin = finite_number(safety_margin, "safety_margin", minimum=0.0)
        for field, value in (
            ("backoff_factor", backoff_factor),
            ("min_rate_factor", min_rate_factor),
            ("recovery_step", recovery_step),
        ):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise InvalidInputError(field, value, "expected a number in (0, 1]")
        if recovery_period is None:
            recovery_period = min((limit.period for limit in limits), default=60.0)
        self._recovery_period = finite_number(recovery_period, "recovery_period", above=0.0)
        self._limits = limits
        self._windows = tuple(
            RollingWindow(limit, margin)
            if limit.shape is LimitShape.ROLLING_WINDOW
            else TokenBucket(limit, margin)
            for limit in limits
        )
        # the kinds whose lone, unweighted request fits every limit: ``check_cost``'s common answer
        self._fits_alone = tuple(
            kind for kind in RequestKind if all(limit.cost(kind) <= limit.limit for limit in limits)
        )
        self._backoff_factor = float(backoff_factor)
        self._min_rate_factor = float(min_rate_factor)
        self._recovery_step = float(recovery_step)
        self._factor = 1.0
        self._clean_since = 0.0
        self._paused_until = -math.inf
        self._rate_limited_count = 0

    def __repr__(self) -> str:
        limits = ", ".join(limit.describe() for limit in self._limits) or "no limits"
        return f"<LimitGroup [{limits}] [rate: {self._factor:.2f}, paused until: {self._paused_until:.3f}]>"

    @property
    def limits(self) -> tuple[RateLimit, ...]:
        """The limits, in the order given."""
        return self._limits

    def rate_factor(self, now: float) -> float:
        """The effective share of the configured rate at ``now`` (1.0 unless 429s lowered it)."""
        self._recover(now)
        return self._factor

    def charges(self, kind: RequestKind) -> bool:
        """True when some limit counts requests of ``kind`` (a non-zero weight)."""
        return any(limit.cost(kind) > 0 for limit in self._limits)

    def check_cost(self, kind: RequestKind, request_weight: int, field: str = "weight") -> None:
        """Raise ``InvalidInputError`` if such a request could never fit some limit."""
        if request_weight == 1 and kind in self._fits_alone:  # a tuple: ``in`` compares by identity
            return
        for limit in self._limits:
            if limit.cost(kind, request_weight) > limit.limit:
                raise InvalidInputError(
                    field,
                    request_weight,
                    f"a {kind.value} of this weight exceeds the limit {limit.describe()}",
                )

    def _recover(self, now: float) -> None:
        while self._factor < 1.0 and now >= self._clean_since + self._recovery_period:
            self._factor = min(1.0, self._factor + self._recovery_step)
            self._clean_since += self._recovery_period

    def ready_at(self, kind: RequestKind, request_weight: int, now: float) -> float:
        """The earliest time ≥ ``now`` at which the request fits every limit and no pause holds.

        If the rate is lowered, the result is also no later than the next recovery step, after
        which the caller should ask again.
        """
        self._recover(now)
        ready = max(now, self._paused_until)
        scale = self._factor
        for window in self._windows:
            ready = max(ready, window.ready_at(window.limit.cost(kind, request_weight), now, scale))
        if scale < 1.0 and ready > now:
            ready = min(ready, max(self._clean_since + self._recovery_period, self._paused_until))
        return ready

    def take(self, kind: RequestKind, request_weight: int, now: float) -> bool:
        """Count a request sent at ``now`` if it fits every limit now; else count nothing, False.

        The same answer as ``ready_at(...) <= now`` followed by ``record``, in one call.
        """
        if now < self._paused_until:
            return False
        if not self._windows:
            return True
        if self.ready_at(kind, request_weight, now) > now:
            return False
        self.record(kind, request_weight, now)
        return True

    def record(self, kind: RequestKind, request_weight: int, now: float) -> None:
        """Count a request sent at ``now`` against every limit."""
        scale = self._factor
        for window in self._windows:
            cost = window.limit.cost(kind, request_weight)
            if isinstance(window, TokenBucket):
                window.record(cost, now, scale)
            else:
                window.record(cost, now)

    def on_rate_limited(self, now: float, resume_at: float) -> None:
        """The venue answered 429: pause until ``resume_at`` and lower the effective rate."""
        self._recover(now)
        self._rate_limited_count += 1
        # nothing is sent during a pause, so a 429 that comes while one holds answers a request
        # sent before it began: the same overload, already answered by one step down
        already_paused = now < self._paused_until
        self._paused_until = max(self._paused_until, resume_at)
        if self._limits and not already_paused:
            self._factor = max(self._min_rate_factor, self._factor * self._backoff_factor)
        self._clean_since = max(now, self._paused_until)

    def paused_until(self) -> float:
        """The time until which the venue asked us to wait (``-inf`` if never)."""
        return self._paused_until

    def statistics(self, now: float) -> LimitGroupStatistics:
        """A snapshot: use per limit (count or level), rate factor, pause and 429 count."""
        usage = tuple(
            (
                window.limit.describe(),
                float(window.used(now))
                if isinstance(window, RollingWindow)
                else window.level(now, self._factor),
            )
            for window in self._windows
        )
        return LimitGroupStatistics(
            usage=usage,
            rate_factor=self.rate_factor(now),
            paused_until=self._paused_until,
            rate_limited_count=self._rate_limited_count,
        )

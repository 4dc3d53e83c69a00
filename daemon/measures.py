"""Running measures for the statistics: a latency summary and the sends in each limit's window."""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Sequence

from daemon.views import LATENCY_BOUNDS, LatencySummary, LimitUse
from engine import RateLimit

__all__ = ["LatencyRecorder", "SendWindows"]


class LatencyRecorder:
    """Counts durations into fixed buckets; ``summary()`` is a frozen snapshot."""

    def __init__(self) -> None:
        self._counts = [0] * (len(LATENCY_BOUNDS) + 1)
        self._count = 0
        self._total = 0.0
        self._max = 0.0

    def __repr__(self) -> str:
        return f"<LatencyRecorder count={self._count} max={self._max:.6f}>"

    def observe(self, seconds: float) -> None:
        """Add one duration (negative ones count as zero)."""
        seconds = max(seconds, 0.0)
        self._counts[bisect.bisect_left(LATENCY_BOUNDS, seconds)] += 1
        self._count += 1
        self._total += seconds
        self._max = max(self._max, seconds)

    def summary(self) -> LatencySummary:
        """Count, sum, largest and cumulative bucket counts."""
        cumulative: list[tuple[float, int]] = []
        running = 0
        for bound, count in zip(LATENCY_BOUNDS, self._counts, strict=False):
            running += count
            cumulative.append((bound, running))
        return LatencySummary(
            count=self._count, total_seconds=self._total, max_seconds=self._max, buckets=tuple(cumulative)
        )


class SendWindows:
    """Times of the submits and cancels that left, to count each configured limit's window use."""

    def __init__(self, limits: Sequence[RateLimit]) -> None:
        self._limits = tuple(limits)
        longest = max((limit.period for limit in self._limits), default=0.0)
        self._longest = longest
        self._times: deque[float] = deque()

    def __repr__(self) -> str:
        return f"<SendWindows limits={len(self._limits)} held={len(self._times)}>"

    def record(self, at: float) -> None:
        """One request left at ``at`` (engine clock)."""
        if not self._limits:
            return
        self._times.append(at)
        while self._times and self._times[0] < at - self._longest:
            self._times.popleft()

    def use(self, at: float) -> tuple[LimitUse, ...]:
        """Each limit with the count of sends in the window ending at ``at``."""
        result = []
        for limit in self._limits:
            start = at - limit.period
            used = len(self._times) - bisect.bisect_left(self._times, start)
            result.append(
                LimitUse(name=limit.describe(), limit=limit.limit, period_seconds=limit.period, used=used)
            )
        return tuple(result)

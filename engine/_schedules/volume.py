"""The market volume one parent has seen in its quotes (``Quote.volume``: the venue's running
count of what the market traded)."""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine.market import Quote
from engine.numbers import ZERO

__all__ = ["CompletionPacing", "VolumeMeter"]


class VolumeMeter:
    """Running market volume from quotes: the rate since the first quote, and the volume since
    the last ``mark``. Knows nothing while the venue reports no volume."""

    __slots__ = ("_first", "_last", "_mark")

    def __init__(self) -> None:
        self._first: tuple[float, Decimal] | None = None
        self._last: tuple[float, Decimal] | None = None
        self._mark: Decimal | None = None

    def __repr__(self) -> str:
        return f"<VolumeMeter rate={self.rate()} since_mark={self.since_mark()}>"

    def observe(self, quote: Quote | None) -> None:
        """Take a quote's running volume (a quote without one, or an older one, changes nothing)."""
        if quote is None or quote.volume is None:
            return
        sample = (quote.timestamp, quote.volume)
        if self._first is None:
            self._first = sample
        if self._last is None or sample[0] >= self._last[0]:
            self._last = sample
        if self._mark is None:
            self._mark = quote.volume

    def rate(self) -> float | None:
        """Volume per second between the first and the latest quote, or ``None`` before two."""
        if self._first is None or self._last is None or self._last[0] <= self._first[0]:
            return None
        return float(self._last[1] - self._first[1]) / (self._last[0] - self._first[0])

    def since_mark(self) -> Decimal | None:
        """Volume traded since the last ``mark`` (or the first quote), or ``None`` if unknown."""
        if self._last is None or self._mark is None:
            return None
        return max(self._last[1] - self._mark, ZERO)

    def mark(self) -> None:
        """Count the volume from the latest quote on (a POV slice was sized from it)."""
        if self._last is not None:
            self._mark = self._last[1]


@attrs.frozen
class CompletionPacing:
    """How the completion handler paces its clips: the deadline it aims for, the most of the
    observed volume it takes, and the meter that observes it."""

    end: float
    max_rate: float
    meter: VolumeMeter = attrs.field(eq=False)

    def wait_after(self, clip: Decimal, remainder: Decimal, current: float, minimum: float) -> float:
        """Seconds to wait after a clip of ``clip`` before the next: the time the market takes
        to trade ``clip / max_rate`` at the rate seen; without a rate, the time left spread
        evenly over the clips left. Never below ``minimum``."""
        rate = self.meter.rate()
        if rate is not None and rate > 0:
            return max(minimum, float(clip) / (rate * self.max_rate))
        clips_left = max(1.0, float(remainder) / float(clip)) if clip > 0 else 1.0
        return max(minimum, (self.end - current) / clips_left)

"""The venue's own rate limits: weight per rolling window, counted when a request arrives.

Every request that reaches the venue is logged as a ``VenueRequest`` in arrival order, including
the refused ones, so a test or benchmark can recompute the weight in any rolling window.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Sequence

import attrs

from engine.errors import InvalidInputError
from gateways.simulated.config import DEFAULT_REQUEST_WEIGHTS, REQUEST_KINDS, VenueRateLimit

__all__ = ["RateLimiter", "RequestOutcome", "VenueRequest"]


class RequestOutcome(enum.Enum):
    """What the venue did with a request."""

    OK = "ok"
    RATE_LIMITED = "rate_limited"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    UNKNOWN_ORDER = "unknown_order"
    ACK_DROPPED = "ack_dropped"

    @property
    def counted(self) -> bool:
        """True if the request consumed rate-limit weight (everything but a rate-limited refusal)."""
        return self is not RequestOutcome.RATE_LIMITED


@attrs.frozen(kw_only=True)
class VenueRequest:
    """One request as the venue saw it: arrival time, kind, order id, weight and outcome.

    ``weight`` is the weight under the first configured limit (the default weights if none);
    ``weights`` holds one weight per configured limit, in their order.
    """

    timestamp: float
    kind: str
    client_order_id: str | None
    weight: int
    outcome: RequestOutcome
    weights: tuple[int, ...] = ()


class _Window:
    """Admitted weight in the rolling window ``(now - period, now]`` of one limit."""

    def __init__(self, limit: VenueRateLimit) -> None:
        self.limit = limit
        self._entries: deque[tuple[float, int]] = deque()
        self._total = 0

    def _evict(self, now: float) -> None:
        while self._entries and self._entries[0][0] + self.limit.period <= now:
            self._total -= self._entries.popleft()[1]

    def retry_after(self, weight: int, now: float) -> float | None:
        """``None`` if ``weight`` fits now, else the seconds until it would."""
        self._evict(now)
        excess = self._total + weight - self.limit.limit
        if excess <= 0:
            return None
        for time, entry_weight in self._entries:
            excess -= entry_weight
            if excess <= 0:
                return max(0.0, time + self.limit.period - now)
        raise AssertionError("a weight above the limit is refused at configuration")

    def admit(self, weight: int, now: float) -> None:
        if weight > 0:
            self._entries.append((now, weight))
            self._total += weight

    @property
    def level(self) -> int:
        return self._total


class RateLimiter:
    """Checks every configured ``VenueRateLimit``; a request is admitted only if all admit it."""

    def __init__(self, limits: Sequence[VenueRateLimit]) -> None:
        if isinstance(limits, VenueRateLimit) or not isinstance(limits, Sequence):
            raise InvalidInputError("rate_limits", limits, "expected a sequence of VenueRateLimit")
        for index, limit in enumerate(limits):
            if not isinstance(limit, VenueRateLimit):
                raise InvalidInputError(f"rate_limits[{index}]", limit, "expected a VenueRateLimit")
            for kind, weight in limit.weights.items():
                if weight > limit.limit:
                    raise InvalidInputError(
                        f"rate_limits[{index}].weights[{kind!r}]", weight,
                        f"above the limit {limit.limit}: such a request could never be admitted",
                    )
        self._windows = [_Window(limit) for limit in limits]
        self.enabled = bool(self._windows)  # False: every request is admitted, nothing counted

    def __repr__(self) -> str:
        levels = ", ".join(f"{w.level}/{w.limit.limit} per {w.limit.period}s" for w in self._windows)
        return f"<RateLimiter [{levels}]>"

    def weights(self, kind: str) -> tuple[int, ...]:
        """The weight of ``kind`` under each limit."""
        return tuple(window.limit.weight(kind) for window in self._windows)

    def primary_weight(self, kind: str) -> int:
        """The weight logged for ``kind``: under the first limit, or the default weights."""
        if self._windows:
            return self._windows[0].limit.weight(kind)
        return DEFAULT_REQUEST_WEIGHTS.get(kind, 0)

    def try_admit(self, kind: str, now: float) -> float | None:
        """Admit one request of ``kind`` at ``now`` and return ``None``, or return a retry-after."""
        assert kind in REQUEST_KINDS, kind
        if not self._windows:
            return None  # a venue without limits: nothing to count
        waits = [
            wait for window in self._windows
            if (wait := window.retry_after(window.limit.weight(kind), now)) is not None
        ]
        if waits:
            return max(waits)
        for window in self._windows:
            window.admit(window.limit.weight(kind), now)
        return None

"""Binance's rate limits as the server enforces them: fixed windows, 429, then a 418 ban.

Three counters, each over a fixed window (not a rolling one; the shape Binance publishes):

- request weight per minute (default 6,000): every REST request adds its endpoint's weight,
  also a refused one;
- orders per 10 seconds (default 50) and per day (default 160,000): every new order admitted.

A request that would pass a limit is refused with HTTP 429, ``Retry-After`` (seconds to the end of
the full window) and -1003 (weight) or -1015 (orders); nothing of it reaches the venue. A client
that keeps sending after a 429 (``ban_after`` refusals in one weight window) is banned for
``ban_seconds``: every request then gets HTTP 418. Each refusal is a *violation*, counted in
``statistics()``. Windows follow the wall clock as Binance's do (a minute window resets on the
minute, the day window at midnight UTC); ``align_to_clock=False`` counts them from the server's
start instead (tests use it so that no window boundary falls inside a short burst).

Every answer carries ``X-MBX-USED-WEIGHT-1M``; order answers also ``X-MBX-ORDER-COUNT-10S`` and
``X-MBX-ORDER-COUNT-1D``.
"""

from __future__ import annotations

import math
from typing import Any

import attrs

from engine.errors import InvalidInputError
from gateways.served.errors import banned, orders_limit, weight_limit

__all__ = ["BinanceLimits", "LimitStatistics", "RequestLimiter"]

_MINUTE = 60.0
_TEN_SECONDS = 10.0
_DAY = 86_400.0


def _count(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(field, value, "expected a whole number ≥ 1")
    return value


def _weight(value: Any) -> int:
    return _count(value, "request_weight_per_minute")


def _orders_10s(value: Any) -> int:
    return _count(value, "orders_per_10s")


def _orders_day(value: Any) -> int:
    return _count(value, "orders_per_day")


def _ban_after(value: Any) -> int:
    return _count(value, "ban_after")


def _ban_seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise InvalidInputError("ban_seconds", value, "expected a positive number of seconds")
    return float(value)


@attrs.frozen
class BinanceLimits:
    """The limits the server enforces; the defaults are Binance Spot's published ones."""

    request_weight_per_minute: int = attrs.field(default=6_000, converter=_weight)
    orders_per_10s: int = attrs.field(default=50, converter=_orders_10s)
    orders_per_day: int = attrs.field(default=160_000, converter=_orders_day)
    ban_after: int = attrs.field(default=5, converter=_ban_after)
    ban_seconds: float = attrs.field(default=120.0, converter=_ban_seconds)
    align_to_clock: bool = attrs.field(default=True, converter=bool)

    def published(self) -> list[dict[str, object]]:
        """The ``rateLimits`` list of ``exchangeInfo``."""
        return [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": self.request_weight_per_minute},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
             "limit": self.orders_per_10s},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": self.orders_per_day},
        ]


@attrs.frozen
class LimitStatistics:
    """A snapshot of the limiter: what the current windows hold, and the refusals so far."""

    used_weight: int
    orders_10s: int
    orders_day: int
    violations: int
    bans: int
    requests: int


@attrs.define
class _Window:
    """A fixed window of ``period`` seconds counted from ``origin``: its index and its count."""

    period: float
    origin: float
    index: int = -1
    count: int = 0

    def roll(self, now: float) -> None:
        index = math.floor((now - self.origin) / self.period)
        if index != self.index:
            self.index = index
            self.count = 0

    def retry_after(self, now: float) -> int:
        end = self.origin + (self.index + 1) * self.period
        return max(1, math.ceil(end - now))


class RequestLimiter:
    """The server's counters; ``admit`` is the one place they change."""

    def __init__(self, limits: BinanceLimits, origin: float, wall_origin: float) -> None:
        self.limits = limits
        self._wall_offset = wall_origin - origin
        # On the loop clock: the server's start, or the epoch (where the wall clock's windows start).
        start = -self._wall_offset if limits.align_to_clock else origin
        self._weight = _Window(_MINUTE, start)
        self._orders_10s = _Window(_TEN_SECONDS, start)
        self._orders_day = _Window(_DAY, start)
        self._strikes = 0  # refusals in the current weight window
        self._strike_window = -1
        self._banned_until = -math.inf
        self._violations = 0
        self._bans = 0
        self._requests = 0

    def __repr__(self) -> str:
        return (
            f"<RequestLimiter weight={self._weight.count}/{self.limits.request_weight_per_minute} "
            f"orders_10s={self._orders_10s.count}/{self.limits.orders_per_10s} "
            f"violations={self._violations} bans={self._bans}>"
        )

    def statistics(self) -> LimitStatistics:
        """A frozen snapshot of the counters."""
        return LimitStatistics(
            used_weight=self._weight.count, orders_10s=self._orders_10s.count,
            orders_day=self._orders_day.count, violations=self._violations, bans=self._bans,
            requests=self._requests,
        )

    def admit(self, weight: int, is_order: bool, now: float) -> None:
        """Count one request at ``now``; raise the 429 or 418 answer if it passes a limit."""
        self._requests += 1
        for window in (self._weight, self._orders_10s, self._orders_day):
            window.roll(now)
        if now < self._banned_until:
            self._violations += 1
            raise banned(
                int((self._banned_until + self._wall_offset) * 1000), math.ceil(self._banned_until - now)
            )
        self._weight.count += weight
        limits = self.limits
        if self._weight.count > limits.request_weight_per_minute:
            raise self._refuse(
                weight_limit(limits.request_weight_per_minute, self._weight.retry_after(now)), now
            )
        if not is_order:
            return
        if self._orders_10s.count >= limits.orders_per_10s:
            raise self._refuse(
                orders_limit(limits.orders_per_10s, "TEN_SECONDS", self._orders_10s.retry_after(now)), now
            )
        if self._orders_day.count >= limits.orders_per_day:
            raise self._refuse(
                orders_limit(limits.orders_per_day, "DAY", self._orders_day.retry_after(now)), now
            )
        self._orders_10s.count += 1
        self._orders_day.count += 1

    def _refuse(self, error: Exception, now: float) -> Exception:
        self._violations += 1
        if self._strike_window != self._weight.index:
            self._strike_window = self._weight.index
            self._strikes = 0
        self._strikes += 1
        if self._strikes > self.limits.ban_after:
            self._bans += 1
            self._strikes = 0
            self._banned_until = now + self.limits.ban_seconds
            return banned(
                int((self._banned_until + self._wall_offset) * 1000), math.ceil(self.limits.ban_seconds)
            )
        return error

    def headers(self, is_order: bool) -> dict[str, str]:
        """The usage headers of an answer."""
        headers = {"X-MBX-USED-WEIGHT-1M": str(self._weight.count)}
        if is_order:
            headers["X-MBX-ORDER-COUNT-10S"] = str(self._orders_10s.count)
            headers["X-MBX-ORDER-COUNT-1D"] = str(self._orders_day.count)
        return headers

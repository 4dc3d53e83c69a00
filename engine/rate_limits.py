# attrs' mypy plugin reads only named functions as converters, and reports the rules of
# engine.fields as "unsupported" (it then types each __init__ argument as Any, which is right).
# mypy: disable-error-code="misc"
"""Venue rate limits: what a venue allows, per kind of request.

A :class:`RateLimit` describes one limit as a venue publishes it: "``limit`` (weight) per
``period`` seconds", either as a rolling window (every window of ``period`` seconds holds at most
``limit``) or as a token bucket (a decaying counter that drains at ``limit / period`` per second
and admits a request while its level plus the request's cost stays within ``limit``: exactly the
leaky bucket of ``aiolimiter.AsyncLimiter(limit, period)``). Each request kind (submit, cancel,
order look-up) has its own weight per limit, so cancels and look-ups count only where the venue
counts them; a limit with ``per_request_weight`` multiplies that by the weight each request carries
(a request-weight budget).

How the queue keeps them is ``engine/_queue/limits.py``; ``max_window_count`` checks a record of
send times against a limit.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

import attrs

from engine.errors import InvalidInputError
from engine.fields import finite, member, whole

__all__ = [
    "LimitShape",
    "RateLimit",
    "RequestKind",
    "max_window_count",
]


class RequestKind(enum.Enum):
    """What a request to the venue does; each kind has its own weight per limit."""

    SUBMIT = "submit"
    CANCEL = "cancel"
    LOOKUP = "get_order"
    QUOTE = "get_quote"


class LimitShape(enum.Enum):
    """How a venue defines a limit: a rolling window, or a token bucket (decaying counter)."""

    ROLLING_WINDOW = "rolling_window"
    TOKEN_BUCKET = "token_bucket"


@attrs.frozen
class RateLimit:
    """One venue limit: at most ``limit`` (weight) per ``period`` seconds.

    ``submit_weight``, ``cancel_weight``, ``lookup_weight`` (order look-ups) and ``quote_weight``
    say what one request of each kind costs against this limit (zero: the venue does not count it
    here). With
    ``per_request_weight`` the cost is further multiplied by the weight each request carries, for
    venues that publish a weight per endpoint. ``RateLimit(100, 60)`` is "100 orders and cancels in
    any rolling minute".
    """

    limit: int = attrs.field(converter=whole(minimum=1))
    period: float = attrs.field(converter=finite(above=0.0))
    shape: LimitShape = attrs.field(default=LimitShape.ROLLING_WINDOW, converter=member(LimitShape))
    submit_weight: int = attrs.field(default=1, converter=whole(minimum=0))
    cancel_weight: int = attrs.field(default=1, converter=whole(minimum=0))
    lookup_weight: int = attrs.field(default=0, converter=whole(minimum=0))
    per_request_weight: bool = attrs.field(default=False)
    quote_weight: int = attrs.field(default=0, converter=whole(minimum=0))

    @per_request_weight.validator
    def _check_flag(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, bool):
            raise InvalidInputError("per_request_weight", value, "expected True or False")

    @classmethod
    def per_minute(cls, limit: int) -> RateLimit:
        """A rolling-minute limit on submits and cancels."""
        return cls(limit, 60.0)

    def cost(self, kind: RequestKind, request_weight: int = 1) -> int:
        """What one request of ``kind`` carrying ``request_weight`` costs against this limit."""
        if kind is RequestKind.SUBMIT:
            base = self.submit_weight
        elif kind is RequestKind.CANCEL:
            base = self.cancel_weight
        elif kind is RequestKind.LOOKUP:
            base = self.lookup_weight
        else:
            base = self.quote_weight
        return base * request_weight if self.per_request_weight else base

    def describe(self) -> str:
        """A short label such as ``100/60s window``."""
        shape = "window" if self.shape is LimitShape.ROLLING_WINDOW else "bucket"
        return f"{self.limit}/{self.period:g}s {shape}"


def max_window_count(times: Sequence[float], period: float, weights: Sequence[int] | None = None) -> int:
    """The largest total weight of sends in any closed window ``[t, t + period]`` of sorted ``times``.

    The measure used by the tests and the benchmark: a limit "N per T" holds iff this is ≤ N.
    """
    total = best = 0
    start = 0
    for index, time in enumerate(times):
        total += 1 if weights is None else weights[index]
        while times[start] < time - period:
            total -= 1 if weights is None else weights[start]
            start += 1
        best = max(best, total)
    return best

"""The venue's published limits as presets, and what the venue reports of their use.

ccxt's own throttler is off (``enableRateLimit: False``): the engine's queue paces, with the
limits below as ``engine.RateLimit`` values (rolling windows, so stricter than Binance's fixed ones).

The venue also reports what it has counted: Binance answers every request with
``X-MBX-USED-WEIGHT-1M`` (request weight used in the current minute) and, for orders,
``X-MBX-ORDER-COUNT-10S`` / ``X-MBX-ORDER-COUNT-1D``. ccxt reads none of them (and keeps only the
last response's headers, shared by every request of the instance), so ``ResponseHeaders`` hooks
ccxt's ``on_rest_response`` and hands each request its own response's headers and HTTP status.

``VenueUsage`` folds those reports into one small mechanism: the venue's count is the truth for
its current fixed window (which also holds requests the queue never saw: the gateway's own
reconciliation, another process on the same key). Before a request leaves, ``check`` refuses it
with ``RateLimitedError`` (known not sent; the queue pauses until ``retry_after``, the end of the
venue's window) if the venue's count plus this request's own weight would pass the published
limit. So the engine never provokes a 429 that the venue's own numbers predicted. Each call is
weighed as the venue weighs it (``BINANCE_REQUEST_WEIGHTS``): the gateway's own reconciliation
(``openOrders`` 6, ``myTrades`` 20, ``exchangeInfo`` 20) is checked here too, though the engine's
queue, which never sees those requests, cannot charge them to its own limits. ``statistics()`` shows the
counts to anyone who asks.
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs

from engine.errors import InvalidInputError, RateLimitedError
from engine.rate_limits import RateLimit, RequestKind

__all__ = [
    "BINANCE_HEADER_LIMITS",
    "BINANCE_REQUEST_WEIGHTS",
    "BINANCE_SPOT_LIMITS",
    "CapturedResponse",
    "ResponseHeaders",
    "UsageStatistics",
    "VenueUsage",
    "limits_for",
]

#: Binance spot: 50 orders per 10 s, 160,000 orders per day, request weight 6,000 per minute
#: (a new order weighs 1, a cancel 1, an order look-up 4, a 24-hour ticker 2).
BINANCE_SPOT_LIMITS: tuple[RateLimit, ...] = (
    RateLimit(50, 10.0, submit_weight=1, cancel_weight=0),
    RateLimit(160_000, 86_400.0, submit_weight=1, cancel_weight=0),
    RateLimit(6_000, 60.0, submit_weight=1, cancel_weight=1, lookup_weight=4, quote_weight=2),
)

_PRESETS: dict[str, tuple[RateLimit, ...]] = {"binance": BINANCE_SPOT_LIMITS}

#: What each request kind weighs in Binance's request-weight count, when the call gives no weight.
_WEIGHTS = {RequestKind.SUBMIT: 1, RequestKind.CANCEL: 1, RequestKind.LOOKUP: 4, RequestKind.QUOTE: 2}

#: What each ccxt call the gateway makes weighs in Binance spot's request-weight count (ccxt
#: 4.5.90's binance gives each endpoint a cost of 0.2 × its weight): ``exchangeInfo`` 20, a new
#: order 1, a cancel 1, an order look-up 4, ``openOrders`` for one symbol 6, ``myTrades`` 20, a
#: 24-hour ticker for one symbol 2.
BINANCE_REQUEST_WEIGHTS: dict[str, int] = {
    "load_markets": 20,
    "create_order": 1,
    "cancel_order": 1,
    "fetch_order": 4,
    "fetch_open_orders": 6,
    "fetch_my_trades": 20,
    "fetch_ticker": 2,
}

_HEADER = re.compile(r"x-mbx-(used-weight|order-count)-(\d+)([smhd])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
#: The published limit of each count Binance reports, by its header.
BINANCE_HEADER_LIMITS: dict[str, int] = {
    "X-MBX-USED-WEIGHT-1M": 6_000,
    "X-MBX-ORDER-COUNT-10S": 50,
    "X-MBX-ORDER-COUNT-1D": 160_000,
}


def _key(header: str) -> tuple[str, int] | None:
    match = _HEADER.fullmatch(header)
    if match is None:
        return None
    return match.group(1).lower(), int(match.group(2)) * _UNIT_SECONDS[match.group(3).lower()]


def limits_for(exchange_id: str) -> tuple[RateLimit, ...]:
    """The published limits of ``exchange_id`` as ``RateLimit`` values (empty when unknown)."""
    return _PRESETS.get(exchange_id, ())


@attrs.define
class CapturedResponse:
    """What one request's response showed: its headers, and its HTTP status (0 if it had none).

    ``status`` stays ``None`` while no response came (the request failed before one did)."""

    headers: dict[str, str] = attrs.Factory(dict)
    status: int | None = None


_current: contextvars.ContextVar[CapturedResponse | None] = contextvars.ContextVar(
    "ccxt_response", default=None
)


class ResponseHeaders:
    """Hands each ccxt request the headers of its own response (ccxt shares one slot per instance).

    ``install(exchange)`` wraps the instance's ``on_rest_response`` (ccxt calls it with every
    response's headers before it parses or raises); ``capture()`` opens a per-request slot, so a
    request sees its own headers even while others are in flight on the same instance.
    """

    def __init__(self, on_headers: Callable[[Mapping[str, str]], None]) -> None:
        self._on_headers = on_headers

    def install(self, exchange: Any) -> None:
        """Hook ``exchange.on_rest_response`` (once per instance)."""
        original = exchange.on_rest_response

        def on_rest_response(
            code: Any, reason: Any, url: Any, method: Any, headers: Any, body: Any, *rest: Any
        ) -> Any:
            slot = _current.get()
            if slot is not None:
                slot.status = code if isinstance(code, int) and not isinstance(code, bool) else 0
                if isinstance(headers, Mapping):
                    slot.headers.update(headers)
            if isinstance(headers, Mapping):
                self._on_headers(headers)
            return original(code, reason, url, method, headers, body, *rest)

        exchange.on_rest_response = on_rest_response

    @staticmethod
    @contextmanager
    def capture() -> Iterator[CapturedResponse]:
        """A slot that receives the status and headers of the response to the request made inside."""
        slot = CapturedResponse()
        token = _current.set(slot)
        try:
            yield slot
        finally:
            _current.reset(token)


@attrs.frozen
class UsageStatistics:
    """The venue's last reported counts: ``(name, used, limit, window ends at (epoch s))``."""

    counts: tuple[tuple[str, int, int, float], ...]
    refused: int


@attrs.define
class _Count:
    used: int
    window_end: float


class VenueUsage:
    """The venue's own counts from its response headers, and the check they imply.

    ``limits`` give the limit of each reported count by header name (Binance's by default);
    ``wall_clock`` gives epoch seconds (the venue's fixed windows follow its wall clock).
    """

    def __init__(
        self, limits: Mapping[str, int] | None = None, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._limits: dict[tuple[str, int], int] = {}
        for header, limit in (BINANCE_HEADER_LIMITS if limits is None else limits).items():
            key = _key(header)
            if key is None or isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise InvalidInputError(
                    f"header_limits.{header}", limit, "expected X-MBX-... header: a limit ≥ 1"
                )
            self._limits[key] = limit
        self._clock = wall_clock
        self._counts: dict[tuple[str, int], _Count] = {}
        self._refused = 0

    def __repr__(self) -> str:
        shown = ", ".join(f"{kind}-{period}s: {count.used}" for (kind, period), count in self._counts.items())
        return f"<VenueUsage [{shown or 'nothing reported'}] [refused: {self._refused}]>"

    def observe(self, headers: Mapping[str, str]) -> None:
        """Fold one response's ``X-MBX-USED-WEIGHT-*`` / ``X-MBX-ORDER-COUNT-*`` headers in."""
        now = self._clock()
        for name, value in headers.items():
            key = _key(name)
            if key is None:
                continue
            try:
                used = int(value)
            except ValueError:
                continue
            period = key[1]
            window_end = (now // period + 1) * period
            count = self._counts.get(key)
            if count is None or count.window_end != window_end or used > count.used:
                self._counts[key] = _Count(used, window_end)

    def check(
        self, kind: RequestKind, client_order_id: str | None = None, *, weight: int | None = None
    ) -> None:
        """Raise ``RateLimitedError`` (nothing sent) if the venue's counts leave no room for it.

        ``weight`` is the request's own weight in the venue's count (the kind's usual one if not
        given: see ``BINANCE_REQUEST_WEIGHTS`` for what each call weighs)."""
        now = self._clock()
        for (header, period), count in self._counts.items():
            limit = self._limits.get((header, period))
            if limit is None or now >= count.window_end:
                continue
            if header == "used-weight":
                cost = _WEIGHTS[kind] if weight is None else weight
            else:
                cost = int(kind is RequestKind.SUBMIT)
            if cost and count.used + cost > limit:
                self._refused += 1
                raise RateLimitedError(
                    f"the venue reports {count.used}/{limit} {header} in its {period}s window",
                    retry_after=max(0.0, count.window_end - now),
                    client_order_id=client_order_id,
                )

    def statistics(self) -> UsageStatistics:
        """The last reported counts and how many requests ``check`` refused."""
        counts = tuple(
            (f"{header}-{period}s", count.used, self._limits.get((header, period), 0), count.window_end)
            for (header, period), count in sorted(self._counts.items())
        )
        return UsageStatistics(counts=counts, refused=self._refused)

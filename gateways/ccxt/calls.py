"""The REST edge: every ccxt request the gateway makes, with its errors translated.

Each call checks the venue's reported usage first, at its own weight (``VenueUsage.check`` with
``BINANCE_REQUEST_WEIGHTS``: refused with ``RateLimitedError`` before anything is sent), captures
its own response's headers, and turns any exception into the engine's family with
``errors.translate_error`` (given that response's HTTP status, when one came: a 5xx is never a
rejection). Nothing else in the package calls ccxt's REST methods, so no vendor exception gets
past this module.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from engine.rate_limits import RequestKind
from gateways.ccxt.errors import translate_error
from gateways.ccxt.usage import BINANCE_REQUEST_WEIGHTS, ResponseHeaders, VenueUsage

__all__ = ["VenueCalls"]

T = TypeVar("T")

#: The parameter that names our client order id in a look-up or cancel, per exchange.
_LOOKUP_PARAM = {"binance": "origClientOrderId", "binanceus": "origClientOrderId"}


def _copied(record: Any) -> Any:
    """A venue record copied, if it is a mapping; else as it came (its reader counts it malformed)."""
    return dict(record) if isinstance(record, Mapping) else record


class VenueCalls:
    """ccxt's REST methods on one exchange instance, each translated at the edge."""

    def __init__(self, exchange: Any, usage: VenueUsage) -> None:
        self._exchange = exchange
        self._usage = usage
        self._lookup_param = _LOOKUP_PARAM.get(str(getattr(exchange, "id", "")), "clientOrderId")
        self.requests = 0

    def check(self, method: str, kind: RequestKind, client_order_id: str | None = None) -> None:
        """Raise ``RateLimitedError`` now if the venue's reported usage leaves no room for a call of
        ``method`` (so a caller can tell a request refused before it left from one answered)."""
        self._usage.check(kind, client_order_id, weight=BINANCE_REQUEST_WEIGHTS[method])

    async def _call(
        self,
        method: str,
        kind: RequestKind,
        request: Callable[[], Awaitable[T]],
        client_order_id: str | None = None,
    ) -> T:
        self.check(method, kind, client_order_id)
        self.requests += 1
        with ResponseHeaders.capture() as response:
            try:
                return await request()
            except Exception as error:
                raise translate_error(
                    error,
                    kind,
                    client_order_id=client_order_id,
                    headers=response.headers,
                    status=response.status,
                    now_ms=time.time() * 1000,
                ) from error

    async def load_markets(self) -> dict[str, Any]:
        """The exchange's markets (unified), loaded afresh."""
        markets = await self._call(
            "load_markets", RequestKind.QUOTE, lambda: self._exchange.load_markets(True)
        )
        return dict(markets)

    async def create_order(
        self, arguments: tuple[Any, ...], params: dict[str, Any], client_order_id: str
    ) -> dict[str, Any]:
        """Send a new order; the unified order the venue answered with."""
        result = await self._call(
            "create_order",
            RequestKind.SUBMIT,
            lambda: self._exchange.create_order(*arguments, params=params),
            client_order_id,
        )
        return dict(result)

    async def cancel_order(self, client_order_id: str, symbol: str) -> dict[str, Any]:
        """Cancel by client order id; the unified order the venue answered with."""
        params = {self._lookup_param: client_order_id}
        result = await self._call(
            "cancel_order",
            RequestKind.CANCEL,
            lambda: self._exchange.cancel_order(None, symbol, params),
            client_order_id,
        )
        return dict(result or {})

    async def fetch_order(self, client_order_id: str, symbol: str) -> dict[str, Any]:
        """Look an order up by client order id."""
        params = {self._lookup_param: client_order_id}
        result = await self._call(
            "fetch_order",
            RequestKind.LOOKUP,
            lambda: self._exchange.fetch_order(None, symbol, params),
            client_order_id,
        )
        return dict(result)

    async def fetch_open_orders(self, symbol: str) -> list[Any]:
        """The orders open in ``symbol`` (a record that is no mapping is passed on as it came)."""
        result = await self._call(
            "fetch_open_orders", RequestKind.LOOKUP, lambda: self._exchange.fetch_open_orders(symbol)
        )
        return [_copied(order) for order in result]

    async def fetch_my_trades(self, symbol: str, since_ms: int | None, limit: int) -> list[Any]:
        """Our trades in ``symbol`` from ``since_ms`` on (venue time), oldest first (a record that
        is no mapping is passed on as it came)."""
        result = await self._call(
            "fetch_my_trades",
            RequestKind.LOOKUP,
            lambda: self._exchange.fetch_my_trades(symbol, since_ms, limit),
        )
        return [_copied(trade) for trade in result]

    async def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        """The ticker of ``symbol`` (bid, ask, their sizes, last)."""
        ticker = await self._call(
            "fetch_ticker", RequestKind.QUOTE, lambda: self._exchange.fetch_ticker(symbol)
        )
        return dict(ticker)

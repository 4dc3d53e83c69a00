"""A fake ccxt.pro exchange object: the methods ``CcxtGateway`` calls, on an in-memory venue.

It answers like ccxt's binance does (unified order and trade dicts, floats for numbers), and lets a
test steer the wire: ``fail_next`` makes the next call of a method raise, ``fill`` makes a trade,
``mute_streams`` lets updates happen without reaching the streams, ``drop_streams`` rejects the
pending ``watch_*`` calls as a closed socket does.
"""

from __future__ import annotations

import itertools
import time
from typing import Any, ClassVar

import anyio
import ccxt

from gateways.ccxt import CcxtSettings

MARKETS: dict[str, dict[str, Any]] = {
    "BTC/USDT": {
        "symbol": "BTC/USDT",
        "type": "spot",
        "active": True,
        "precision": {"amount": 0.001, "price": 0.01},
        "limits": {"amount": {"min": 0.001}, "cost": {"min": 5.0}},
    },
    "ETH/USDT": {
        "symbol": "ETH/USDT",
        "type": "spot",
        "active": True,
        "precision": {"amount": 0.01, "price": 0.01},
        "limits": {"amount": {"min": 0.01}, "cost": {"min": 5.0}},
    },
    "BTC/USDT:USDT": {
        "symbol": "BTC/USDT:USDT",
        "type": "swap",
        "active": True,
        "precision": {"amount": 0.001, "price": 0.1},
        "limits": {"amount": {"min": 0.001}, "cost": {"min": 100.0}},
    },
}


class _Stream:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.changed = anyio.Event()
        self.error: Exception | None = None

    def push(self, item: dict[str, Any]) -> None:
        self.items.append(item)
        self.changed.set()

    def drop(self) -> None:
        self.error = ccxt.NetworkError("Connection closed by remote server, closing code 1006")
        self.changed.set()

    async def watch(self) -> list[dict[str, Any]]:
        while not self.items and self.error is None:
            self.changed = anyio.Event()
            await self.changed.wait()
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        items, self.items = self.items, []
        return items


class FakeExchange:
    """Enough of ``ccxt.pro.binance`` for the gateway, with a venue in memory."""

    id = "binance"
    precisionMode = 4
    requiredCredentials: ClassVar[dict[str, bool]] = {"apiKey": True, "secret": True, "uid": False}

    def __init__(self, settings: CcxtSettings | None = None) -> None:
        self.settings = settings
        self.orders: dict[str, dict[str, Any]] = {}  # by client order id
        self.trades: list[dict[str, Any]] = []
        self.order_stream = _Stream()
        self.trade_stream = _Stream()
        self.muted = False
        self.failures: dict[str, list[BaseException]] = {}
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.closed = False
        self.authenticated = 0
        self.response_headers: dict[str, str] = {}
        self.clients: dict[str, object] = {}  # ccxt's WebSocket clients by URL (a new one: reconnected)
        self._order_ids = itertools.count(1)
        self._trade_ids = itertools.count(1)
        self._clock_ms = itertools.count(int(time.time() * 1000), 10)  # venue time: the wall clock

    # -- test controls -------------------------------------------------------------------------

    def fail_next(self, method: str, error: BaseException) -> None:
        """Make the next call of ``method`` raise ``error`` (after the request 'arrived' for
        create_order and cancel_order if ``error`` is a RequestTimeout: the venue acted)."""
        self.failures.setdefault(method, []).append(error)

    def mute_streams(self, muted: bool = True) -> None:
        """While muted, venue updates happen but never reach the streams (a dead socket)."""
        self.muted = muted

    def drop_streams(self) -> None:
        """Reject the pending watch calls as a closed socket does."""
        self.order_stream.drop()
        self.trade_stream.drop()

    def fill(self, client_order_id: str, amount: float, price: float, *, trade_id: str | None = None) -> None:
        """A trade of ``amount`` at ``price`` against the order."""
        order = self.orders[client_order_id]
        trade = {
            "id": trade_id or str(next(self._trade_ids)),
            "order": order["id"],
            "symbol": order["symbol"],
            "side": order["side"],
            "amount": amount,
            "price": price,
            "fee": {"cost": round(amount * price * 0.001, 8), "currency": "USDT"},
            "takerOrMaker": "taker",
            "timestamp": next(self._clock_ms),
            "info": {"c": client_order_id},
        }
        self.trades.append(trade)
        order["filled"] += amount
        if order["filled"] >= order["amount"] - 1e-12:
            order["status"] = "closed"
        self._publish(order, trade)

    def cancel(self, client_order_id: str) -> None:
        """The venue cancels the order (as a cancel request does)."""
        order = self.orders[client_order_id]
        if order["status"] == "open":
            order["status"] = "canceled"
            self._publish(order, None)

    def _publish(self, order: dict[str, Any], trade: dict[str, Any] | None) -> None:
        if self.muted:
            return
        self.order_stream.push(dict(order, info={"x": "TRADE" if trade else "NEW"}))
        if trade is not None:
            self.trade_stream.push(dict(trade))

    def _call(self, method: str, *arguments: Any) -> None:
        self.calls.append((method, arguments))
        queue = self.failures.get(method)
        if queue:
            raise queue.pop(0)

    # -- what ccxt offers ----------------------------------------------------------------------

    def on_rest_response(
        self, code: Any, reason: Any, url: Any, method: Any, headers: Any, body: str, *rest: Any
    ) -> str:
        return body.strip()

    def _respond(self) -> None:
        self.on_rest_response(200, "OK", "http://fake", "GET", dict(self.response_headers), "{}", {}, None)

    async def load_markets(self, reload: bool = False) -> dict[str, Any]:
        self._call("load_markets")
        self._respond()
        return MARKETS

    async def authenticate(self, params: dict[str, Any]) -> None:
        self._call("authenticate", params)
        self.authenticated += 1

    async def create_order(
        self, symbol: str, type: str, side: str, amount: str, price: str | None, params: dict[str, Any]
    ) -> dict[str, Any]:
        client_order_id = params["clientOrderId"]
        queue = self.failures.get("create_order")
        arrives = not queue or isinstance(queue[0], ccxt.RequestTimeout | ccxt.ExchangeNotAvailable)
        if arrives and client_order_id not in self.orders:
            self.orders[client_order_id] = {
                "id": str(next(self._order_ids)),
                "clientOrderId": client_order_id,
                "symbol": symbol,
                "type": type,
                "side": side,
                "amount": float(amount),
                "price": None if price is None else float(price),
                "filled": 0.0,
                "status": "open",
                "timeInForce": params.get("timeInForce", "GTC"),
            }
            self._publish(self.orders[client_order_id], None)
        self.calls.append(("create_order", (symbol, type, side, amount, price, dict(params))))
        if queue:
            raise queue.pop(0)
        self._respond()
        return dict(self.orders[client_order_id])

    async def cancel_order(self, id: str | None, symbol: str, params: dict[str, Any]) -> dict[str, Any]:
        self._call("cancel_order", id, symbol, params)
        client_order_id = params["origClientOrderId"]
        order = self.orders.get(client_order_id)
        if order is None or order["status"] != "open":
            raise ccxt.OrderNotFound('binance {"code":-2011,"msg":"Unknown order sent."}')
        self.cancel(client_order_id)
        return dict(order)

    async def fetch_order(self, id: str | None, symbol: str, params: dict[str, Any]) -> dict[str, Any]:
        self._call("fetch_order", id, symbol, params)
        order = self.orders.get(params["origClientOrderId"])
        if order is None or order["symbol"] != symbol:
            raise ccxt.OrderNotFound('binance {"code":-2013,"msg":"Order does not exist."}')
        return dict(order)

    async def fetch_open_orders(self, symbol: str) -> list[dict[str, Any]]:
        self._call("fetch_open_orders", symbol)
        return [dict(o) for o in self.orders.values() if o["symbol"] == symbol and o["status"] == "open"]

    async def fetch_my_trades(self, symbol: str, since: int | None, limit: int) -> list[dict[str, Any]]:
        self._call("fetch_my_trades", symbol, since, limit)
        found = [
            {key: value for key, value in trade.items() if key != "info"}  # REST trades carry no client id
            for trade in self.trades
            if trade["symbol"] == symbol and (since is None or trade["timestamp"] >= since)
        ]
        return found[:limit]

    async def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        self._call("fetch_ticker", symbol)
        return {
            "symbol": symbol,
            "bid": 100.0,
            "ask": 100.1,
            "bidVolume": 2.5,
            "askVolume": 1.5,
            "last": 100.05,
        }

    async def watch_orders(self) -> list[dict[str, Any]]:
        return await self.order_stream.watch()

    async def watch_my_trades(self) -> list[dict[str, Any]]:
        return await self.trade_stream.watch()

    async def close(self) -> None:
        self.closed = True

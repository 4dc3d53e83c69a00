"""Market streams under ``/ws``: ``<symbol>@bookTicker``, ``<symbol>@ticker`` and ``@miniTicker``.

A connection to ``/ws/<stream>`` (Binance's raw stream) starts subscribed to that stream, one to
``/stream?streams=<a>/<b>`` (a combined stream) to those, each payload wrapped as
``{"stream": name, "data": payload}``; any
connection may send ``{"method": "SUBSCRIBE" | "UNSUBSCRIBE" | "LIST_SUBSCRIPTIONS", "params":
[...], "id": n}`` and gets ``{"result": ..., "id": n}`` (ccxt connects to ``/ws/<n>`` and
subscribes this way). Every ``stream_interval`` seconds the connection sends each subscribed
``bookTicker`` whose quote changed, and each ``ticker`` / ``miniTicker`` (24-hour statistics since
the server started) once a second.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

from gateways.served.encoding import decimal_text
from gateways.served.exchange import PaperExchange
from gateways.served.symbols import Market

__all__ = ["market_stream"]

_KINDS = ("bookTicker", "ticker", "miniTicker")
_TICKER_PERIOD = 1.0
_MINI = ("e", "E", "s", "c", "o", "h", "l", "v", "q")


def _stream(exchange: PaperExchange, name: object) -> tuple[Market, str] | None:
    if not isinstance(name, str) or "@" not in name:
        return None
    market_id, kind = name.split("@", 1)
    market = exchange.symbols.by_market_id(market_id.upper())
    if market is None or kind not in _KINDS:
        return None
    return market, kind


class _Streams:
    """One market-stream connection: its subscriptions and what it last sent."""

    def __init__(self, exchange: PaperExchange, websocket: WebSocket, combined: bool) -> None:
        self.exchange = exchange
        self.websocket = websocket
        self.combined = combined  # /stream: each payload wrapped as {"stream": name, "data": ...}
        self.subscribed: dict[str, tuple[Market, str]] = {}
        self._last_book: dict[str, tuple[object, ...]] = {}
        self._last_ticker: dict[str, float] = {}
        self._lock = anyio.Lock()
        self._update = 0

    async def send(self, message: object) -> None:
        async with self._lock:
            await self.websocket.send_text(json.dumps(message, separators=(",", ":")))

    async def publish(self, name: str, payload: dict[str, object]) -> None:
        await self.send({"stream": name, "data": payload} if self.combined else payload)

    async def handle(self, request: dict[str, Any]) -> None:
        method = request.get("method")
        names = request.get("params") or []
        request_id = request.get("id")
        if method == "LIST_SUBSCRIPTIONS":
            await self.send({"result": list(self.subscribed), "id": request_id})
            return
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE") or not isinstance(names, list):
            await self.send({"error": {"code": 1, "msg": "Invalid request"}, "id": request_id})
            return
        for name in names:
            found = _stream(self.exchange, name)
            if found is None:
                error = {"code": 2, "msg": f"Invalid stream name {name!r}"}
                await self.send({"error": error, "id": request_id})
                return
            if method == "SUBSCRIBE":
                self.subscribed[str(name)] = found
            else:
                self.subscribed.pop(str(name), None)
                self._last_book.pop(str(name), None)
        await self.send({"result": None, "id": request_id})

    async def push(self) -> None:
        """Send what changed on every subscribed stream, every ``stream_interval``."""
        exchange = self.exchange
        while True:
            now = anyio.current_time()
            for name, (market, kind) in list(self.subscribed.items()):
                quote = exchange.quote(market.symbol)
                if kind == "bookTicker":
                    key = (quote.bid, quote.bid_size, quote.ask, quote.ask_size)
                    if self._last_book.get(name) == key:
                        continue
                    self._last_book[name] = key
                    self._update += 1
                    await self.publish(name, {
                        "u": self._update, "s": market.market_id, "b": decimal_text(quote.bid),
                        "B": decimal_text(quote.bid_size), "a": decimal_text(quote.ask),
                        "A": decimal_text(quote.ask_size),
                    })
                elif now - self._last_ticker.get(name, -_TICKER_PERIOD) >= _TICKER_PERIOD:
                    self._last_ticker[name] = now
                    ticker = self._ticker(market)
                    if kind == "miniTicker":
                        ticker = {name: ticker[name] for name in _MINI}
                        ticker["e"] = "24hrMiniTicker"
                    await self.publish(name, ticker)
            await anyio.sleep(exchange.stream_interval)

    def _ticker(self, market: Market) -> dict[str, object]:
        exchange = self.exchange
        quote = exchange.quote(market.symbol)
        day = exchange.day(market.symbol)
        last = quote.last if quote.last is not None else quote.mid
        now_ms = exchange.clock.now_ms()
        return {
            "e": "24hrTicker", "E": now_ms, "s": market.market_id, "p": decimal_text(last - day.open),
            "P": f"{((last - day.open) / day.open * 100).quantize(Decimal('0.001'))}",
            "w": decimal_text(last), "x": decimal_text(day.open), "c": decimal_text(last), "Q": "0.00000000",
            "b": decimal_text(quote.bid), "B": decimal_text(quote.bid_size), "a": decimal_text(quote.ask),
            "A": decimal_text(quote.ask_size), "o": decimal_text(day.open), "h": decimal_text(day.high),
            "l": decimal_text(day.low), "v": "0.00000000", "q": "0.00000000", "O": day.opened_ms,
            "C": now_ms, "F": -1, "L": -1, "n": 0,
        }


async def market_stream(websocket: WebSocket) -> None:
    """The ``/ws``, ``/ws/<stream>`` and ``/stream?streams=<a>/<b>`` endpoint."""
    exchange: PaperExchange = websocket.app.state.exchange
    await websocket.accept()
    combined = websocket.url.path.rstrip("/").endswith("/stream")
    streams = _Streams(exchange, websocket, combined)
    named = websocket.query_params.get("streams", "").split("/") if combined else []
    named.append(websocket.path_params.get("stream", ""))
    for raw in named:
        found = _stream(exchange, raw)
        if found is not None:
            streams.subscribed[raw] = found
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(streams.push)

        async def stop_on_shutdown() -> None:
            await exchange.stopping.wait()
            task_group.cancel_scope.cancel()

        task_group.start_soon(stop_on_shutdown)
        try:
            while True:
                text = await websocket.receive_text()
                try:
                    request = json.loads(text)
                except ValueError:
                    continue
                if isinstance(request, dict):
                    await streams.handle(request)
        except WebSocketDisconnect:
            pass
        finally:
            task_group.cancel_scope.cancel()

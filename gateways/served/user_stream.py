"""The WebSocket API at ``/ws-api/v3``: the user-data stream as ccxt 4.5 uses it for spot.

Requests are JSON ``{"id", "method", "params"}``; answers ``{"id", "status", "result"}`` or
``{"id", "status", "error": {"code", "msg"}}``. Methods:

- ``userDataStream.subscribe.signature``: params ``apiKey``, ``timestamp``, ``signature`` (and
  optionally ``recvWindow``), signed as ``auth.ws_payload`` says; answers ``{"subscriptionId": n}``
  and from then on sends every ``executionReport`` as ``{"subscriptionId": n, "event": {...}}``,
  each fill's followed by an ``outboundAccountPosition`` with the balances it changed;
- ``userDataStream.unsubscribe`` (optionally ``subscriptionId``), ``ping``, ``time``.

The wire fault ``close_user_stream`` closes the connection in place of a report.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import anyio.abc
import structlog
from anyio.streams.memory import MemoryObjectReceiveStream
from starlette.websockets import WebSocket, WebSocketDisconnect

from gateways.served.auth import ws_payload
from gateways.served.balances import balances
from gateways.served.encoding import decimal_text
from gateways.served.errors import BinanceError, missing_parameter
from gateways.served.exchange import PaperExchange

__all__ = ["user_stream"]

_log = structlog.get_logger(__name__)


class _Session:
    """One WebSocket API connection: its sends (one at a time) and its subscriptions."""

    def __init__(
        self, exchange: PaperExchange, websocket: WebSocket, task_group: anyio.abc.TaskGroup
    ) -> None:
        self.exchange = exchange
        self.websocket = websocket
        self.task_group = task_group
        self.subscriptions: dict[int, MemoryObjectReceiveStream[dict[str, object]]] = {}
        self._next_subscription = 0
        self._send_lock = anyio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(json.dumps(message, separators=(",", ":")))

    async def answer(self, request_id: object, result: object) -> None:
        await self.send({"id": request_id, "status": 200, "result": result,
                         "rateLimits": self.exchange.limiter.limits.published()[:1]})

    async def refuse(self, request_id: object, error: BinanceError) -> None:
        await self.send({"id": request_id, "status": error.status, "error": error.body()})

    async def handle(self, request: dict[str, Any]) -> None:
        request_id = request.get("id")
        method = request.get("method")
        params = request.get("params") or {}
        if not isinstance(params, dict):
            await self.refuse(request_id, BinanceError(400, -1100, "Illegal characters found in 'params'."))
            return
        try:
            if method == "userDataStream.subscribe.signature":
                await self.answer(request_id, {"subscriptionId": self._subscribe(params)})
            elif method == "userDataStream.unsubscribe":
                self._unsubscribe(params.get("subscriptionId"))
                await self.answer(request_id, {})
            elif method == "ping":
                await self.answer(request_id, {})
            elif method == "time":
                await self.answer(request_id, {"serverTime": self.exchange.clock.now_ms()})
            else:
                await self.refuse(request_id, BinanceError(400, -1020, "This operation is not supported."))
        except BinanceError as error:
            await self.refuse(request_id, error)

    def _subscribe(self, params: dict[str, Any]) -> int:
        credentials = self.exchange.credentials
        api_key = params.get("apiKey")
        if api_key is None:
            raise missing_parameter("apiKey")
        credentials.check_key(str(api_key))
        text = {name: str(value) for name, value in params.items()}
        credentials.check_signed(text, ws_payload(params), self.exchange.clock.now_ms())
        subscription_id = self._next_subscription
        self._next_subscription += 1
        reports = self.exchange.ledger.subscribe()
        self.subscriptions[subscription_id] = reports
        self.exchange.user_stream_subscribed()
        self.task_group.start_soon(self._forward, subscription_id, reports)
        return subscription_id

    def _unsubscribe(self, subscription_id: object) -> None:
        chosen = list(self.subscriptions) if subscription_id is None else [subscription_id]
        for key in chosen:
            reports = self.subscriptions.pop(key, None)  # type: ignore[call-overload]
            if reports is not None:
                self.exchange.ledger.unsubscribe(reports)

    def _balances(self, report: dict[str, object]) -> dict[str, object]:
        """``outboundAccountPosition`` after a fill: the quote and base balances it changed."""
        exchange = self.exchange
        market = exchange.symbols.by_market_id(str(report["s"]))
        assert market is not None
        changed = (market.quote, market.base)
        return {
            "e": "outboundAccountPosition", "E": report["E"], "u": report["T"],
            "B": [
                {"a": balance.asset, "f": decimal_text(balance.free), "l": decimal_text(balance.locked)}
                for balance in balances(exchange.venue, exchange.ledger, exchange.symbols)
                if balance.asset in changed
            ],
        }

    async def _forward(
        self, subscription_id: int, reports: MemoryObjectReceiveStream[dict[str, object]]
    ) -> None:
        faults = self.exchange.faults
        async with reports:
            try:
                async for report in reports:
                    if faults.fire("close_user_stream"):
                        _log.info("wire fault: user-data stream closed")
                        await self.websocket.close(code=1011, reason="stream closed by the venue")
                        self.task_group.cancel_scope.cancel()
                        return
                    await self.send({"subscriptionId": subscription_id, "event": report})
                    if report["x"] == "TRADE":
                        await self.send({"subscriptionId": subscription_id, "event": self._balances(report)})
            except anyio.ClosedResourceError:
                return


async def user_stream(websocket: WebSocket) -> None:
    """The ``/ws-api/v3`` endpoint."""
    exchange: PaperExchange = websocket.app.state.exchange
    await websocket.accept()
    async with anyio.create_task_group() as task_group:
        session = _Session(exchange, websocket, task_group)

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
                    await session.refuse(None, BinanceError(400, -1100, "Illegal characters in the request."))
                    continue
                if not isinstance(request, dict):
                    await session.refuse(None, BinanceError(400, -1100, "Illegal characters in the request."))
                    continue
                await session.handle(request)
        except WebSocketDisconnect:
            pass
        finally:
            session._unsubscribe(None)
            task_group.cancel_scope.cancel()

"""The ASGI application of the served venue: Binance's paths on one Starlette app.

REST under ``/api/v3`` (market_routes, order_routes, account_routes), the WebSocket API at
``/ws-api/v3`` (user_stream) and market streams at ``/ws``, ``/ws/<stream>`` and ``/stream``
(market_streams).
An unknown path answers 404 with a Binance body.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, WebSocketRoute

from gateways.served.account_routes import account_routes
from gateways.served.dispatch import json_response
from gateways.served.exchange import PaperExchange
from gateways.served.market_routes import market_routes
from gateways.served.market_streams import market_stream
from gateways.served.order_routes import order_routes
from gateways.served.user_stream import user_stream

__all__ = ["build_app"]


async def _http_error(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    messages = {404: "Unknown path.", 405: "Method not allowed."}
    return json_response({"code": -1000, "msg": messages.get(status, "An unknown error occurred.")}, status)


def build_app(exchange: PaperExchange) -> Starlette:
    """The app serving ``exchange``."""
    routes: list[BaseRoute] = [
        *market_routes(),
        *order_routes(),
        *account_routes(),
        WebSocketRoute("/ws-api/v3", user_stream),
        WebSocketRoute("/ws", market_stream),
        WebSocketRoute("/ws/{stream}", market_stream),
        WebSocketRoute("/stream", market_stream),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.exchange = exchange
    return app

"""One REST request, start to end: limits, key and signature, the route, wire faults, headers.

``endpoint(handler, weight=..., signed=..., order=...)`` makes a Starlette endpoint of a route
handler ``async (exchange, params) -> JSON``. In order: the rate limiter counts the request (429 /
418 answers), a signed endpoint checks the API key, ``timestamp``/``recvWindow`` and the signature,
then the handler runs. A ``BinanceError`` from any step becomes Binance's error body and nothing
of the request reaches the venue. After a signed handler ran, the wire faults may drop its
answer, answer 5xx, or answer late. Every answer carries the usage headers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import anyio
import structlog
from starlette.requests import Request
from starlette.responses import Response

from engine.errors import InvalidInputError
from gateways.served.auth import rest_payload
from gateways.served.errors import BinanceError
from gateways.served.exchange import PaperExchange
from gateways.served.params import Params

__all__ = ["Handler", "endpoint", "json_response"]

Handler = Callable[[PaperExchange, Params], Awaitable[object]]
_log = structlog.get_logger(__name__)


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON answer, as Binance sends them."""
    text = json.dumps(body, separators=(",", ":"))
    return Response(text, status_code=status, headers=headers, media_type="application/json")


def endpoint(
    handler: Handler, *, weight: int | Callable[[Params], int], signed: bool = False, order: bool = False
) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint running ``handler`` the Binance way (see the module docstring)."""

    async def run(request: Request) -> Response:
        exchange: PaperExchange = request.app.state.exchange
        body = (await request.body()).decode("utf-8", errors="replace")
        query = request.url.query
        try:
            params = Params.parse(query, body)
            cost = weight(params) if callable(weight) else weight
            exchange.limiter.admit(cost, order, anyio.current_time())
            if signed:
                credentials = exchange.credentials
                credentials.check_key(request.headers.get("X-MBX-APIKEY"))
                credentials.check_signed(params, rest_payload(query, body), exchange.clock.now_ms())
            result = await handler(exchange, params)
        except BinanceError as error:
            return _error_response(exchange, error, order)
        except InvalidInputError as error:  # a value our own types refuse, past Binance's checks
            refused = BinanceError(
                400, -1100, f"Illegal characters found in parameter '{error.field}'; {error.reason}."
            )
            return _error_response(exchange, refused, order)
        except Exception:
            # A bug, not the client's fault: Binance's -1000 rather than a bare 500 page.
            _log.exception("request failed", path=request.url.path)
            unknown = BinanceError(500, -1000, "An unknown error occurred while processing the request.")
            return _error_response(exchange, unknown, order)
        if signed:
            faulty = await _wire_fault(exchange, order)
            if faulty is not None:
                return faulty
        return json_response(result, headers=exchange.limiter.headers(order))

    run.__name__ = handler.__name__
    return run


def _error_response(exchange: PaperExchange, error: BinanceError, order: bool) -> Response:
    headers = exchange.limiter.headers(order)
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return json_response(error.body(), error.status, headers)


async def _wire_fault(exchange: PaperExchange, order: bool) -> Response | None:
    """After the request was executed: drop, fail or delay its answer, as the faults say."""
    faults = exchange.faults
    if not faults.faults.enabled:
        return None
    settings = faults.faults
    if order and faults.fire("drop_answer"):
        _log.info("wire fault: answer held back", seconds=settings.hold_seconds)
        with anyio.move_on_after(settings.hold_seconds):
            await exchange.stopping.wait()
        return Response(status_code=504)
    if faults.fire("server_error"):
        return Response(
            "Service Unavailable", status_code=settings.server_error_status, media_type="text/plain"
        )
    if faults.fire("slow"):
        with anyio.move_on_after(settings.slow_seconds):
            await exchange.stopping.wait()
    return None



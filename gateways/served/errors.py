"""Errors of the served venue: Binance's error answers, and the package's own errors.

``BinanceError`` is an answer, not a crash: a route raises it and the dispatcher turns it into
Binance's body ``{"code": ..., "msg": ...}`` with its HTTP status (and ``Retry-After`` where Binance
sends one). The constructors below are the catalogue of the codes the served venue answers, with
Binance's own wording, so that a client's error table built for Binance reads them the same way.
"""

from __future__ import annotations

import math

from engine.errors import EngineError

__all__ = [
    "BinanceError",
    "ServedVenueError",
    "ServerNotReadyError",
    "bad_api_key",
    "bad_api_key_format",
    "bad_signature",
    "banned",
    "duplicate_order",
    "filter_failure",
    "illegal_characters",
    "invalid_side",
    "invalid_symbol",
    "invalid_time_in_force",
    "invalid_type",
    "missing_parameter",
    "not_required",
    "order_does_not_exist",
    "orders_limit",
    "outside_recv_window",
    "rejected",
    "status_unknown",
    "timestamp_ahead",
    "unknown_order",
    "venue_limited",
    "weight_limit",
]


class ServedVenueError(EngineError):
    """Root of the served venue's own errors (not Binance answers)."""


class ServerNotReadyError(ServedVenueError):
    """Raised when the HTTP server did not start listening in time."""

    def __init__(self, host: str, port: int, seconds: float) -> None:
        super().__init__(f"the served venue on {host}:{port} was not ready after {seconds} s")
        self.host = host
        self.port = port
        self.seconds = seconds


class BinanceError(Exception):
    """Raised inside a route to answer with Binance's error body: ``status``, ``code``, ``msg``."""

    def __init__(self, status: int, code: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def body(self) -> dict[str, object]:
        """Binance's error body."""
        return {"code": self.code, "msg": self.message}


def missing_parameter(name: str) -> BinanceError:
    """-1102: a mandatory parameter is absent or empty."""
    return BinanceError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def illegal_characters(name: str, legal: str) -> BinanceError:
    """-1100: a parameter does not parse."""
    return BinanceError(
        400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."
    )


def not_required(name: str) -> BinanceError:
    """-1106: a parameter was sent that this request must not have."""
    return BinanceError(400, -1106, f"Parameter '{name}' sent when not required.")


def invalid_symbol() -> BinanceError:
    """-1121: the venue does not list the symbol."""
    return BinanceError(400, -1121, "Invalid symbol.")


def invalid_side() -> BinanceError:
    """-1117: side is neither BUY nor SELL."""
    return BinanceError(400, -1117, "Invalid side.")


def invalid_type() -> BinanceError:
    """-1116: an order type the venue does not take."""
    return BinanceError(400, -1116, "Invalid orderType.")


def invalid_time_in_force() -> BinanceError:
    """-1115: a time in force the venue does not take."""
    return BinanceError(400, -1115, "Invalid timeInForce.")


def filter_failure(name: str) -> BinanceError:
    """-1013: the order breaks one of the symbol's filters (PRICE_FILTER, LOT_SIZE, NOTIONAL)."""
    return BinanceError(400, -1013, f"Filter failure: {name}")


def duplicate_order() -> BinanceError:
    """-2010: the client order id is already in use."""
    return BinanceError(400, -2010, "Duplicate order sent.")


def rejected(reason: str) -> BinanceError:
    """-2010: the venue refused the new order."""
    return BinanceError(400, -2010, reason)


def unknown_order() -> BinanceError:
    """-2011: a cancel of an order that is unknown or no longer open."""
    return BinanceError(400, -2011, "Unknown order sent.")


def order_does_not_exist() -> BinanceError:
    """-2013: a look-up of an order the venue never received."""
    return BinanceError(400, -2013, "Order does not exist.")


def status_unknown() -> BinanceError:
    """-1007: the matching engine did not answer in time; the order may or may not exist."""
    return BinanceError(
        503, -1007,
        "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
    )


def bad_api_key_format() -> BinanceError:
    """-2014: no API key, or not one in the expected form."""
    return BinanceError(401, -2014, "API-key format invalid.")


def bad_api_key() -> BinanceError:
    """-2015: an API key the venue does not know."""
    return BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")


def bad_signature() -> BinanceError:
    """-1022: the HMAC-SHA256 signature does not match the parameters."""
    return BinanceError(400, -1022, "Signature for this request is not valid.")


def outside_recv_window() -> BinanceError:
    """-1021: the request is older than its ``recvWindow``."""
    return BinanceError(400, -1021, "Timestamp for this request is outside of the recvWindow.")


def timestamp_ahead(tolerance_ms: int) -> BinanceError:
    """-1021: the request's timestamp is ahead of the server's clock."""
    return BinanceError(
        400, -1021, f"Timestamp for this request was {tolerance_ms}ms ahead of the server's time."
    )


def weight_limit(limit: int, retry_after: int) -> BinanceError:
    """-1003 with HTTP 429: the request-weight window is full."""
    return BinanceError(
        429, -1003,
        f"Too many requests; current limit of IP(127.0.0.1) request weight is {limit} per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
        retry_after=retry_after,
    )


def orders_limit(limit: int, interval: str, retry_after: int) -> BinanceError:
    """-1015 with HTTP 429: the order-count window is full."""
    return BinanceError(
        429, -1015, f"Too many new orders; current limit is {limit} orders per {interval}.",
        retry_after=retry_after,
    )


def venue_limited(retry_after: float) -> BinanceError:
    """-1015 with HTTP 429: the simulated venue's own rate limit refused the request."""
    return BinanceError(
        429, -1015, "Too many requests; the venue's own limit was reached.",
        retry_after=max(1, math.ceil(retry_after)),
    )


def banned(until_ms: int, retry_after: int) -> BinanceError:
    """-1003 with HTTP 418: banned after repeated violations."""
    return BinanceError(
        418, -1003,
        f"Way too many requests; IP(127.0.0.1) banned until {until_ms}. "
        "Please use the websocket for live updates to avoid bans.",
        retry_after=retry_after,
    )

"""ccxt's exceptions translated into the engine's ``GatewayError`` family, at the gateway's edge.

What an error means depends on the request: a timeout on a *submit* or *cancel* leaves the
venue's state unknown (the request may have arrived), while the same timeout on a *look-up* or a
*quote* changed nothing and is simply safe to retry. The table, first matching row wins (facts
checked against ccxt 4.5.90's source and Binance's dialect):

==============================================  ==============================  =====================
ccxt raises (Binance code / cause)              submit, cancel                  look-up, quote
==============================================  ==============================  =====================
``RateLimitExceeded`` (-1003, -1015)            ``RateLimitedError``            ``RateLimitedError``
``DDoSProtection`` (HTTP 429, 418)              ``RateLimitedError``            ``RateLimitedError``
``InvalidNonce`` (-1021 timestamp/recvWindow)   ``GatewayUnavailableError``     ``GatewayUnavailableError``
``RequestTimeout`` (-1007, client timeout)      ``OrderStateUnknownError``      ``GatewayUnavailableError``
``ExchangeNotAvailable`` from a failed connect  ``GatewayUnavailableError``     ``GatewayUnavailableError``
``NetworkError`` otherwise (HTTP 5xx, a drop    ``OrderStateUnknownError``      ``GatewayUnavailableError``
mid-request, maintenance), ``BadResponse``,
``OperationFailed`` (-1000 unknown error)
``DuplicateOrderId``, ``InvalidOrder`` saying   ``DuplicateClientOrderIdError``  ``OrderRejectedError``
"Duplicate order sent." (-2010)
``OrderNotFound`` (-2011, -2013)                ``UnknownOrderError`` (cancel)  ``UnknownOrderError``
``AuthenticationError`` (-1022, -2015)          ``OrderRejectedError``          ``OrderRejectedError``
any other ccxt error (``InvalidOrder`` -2010,   ``OrderRejectedError``          ``OrderRejectedError``
-1013 filters, ``InsufficientFunds``,
``BadSymbol``, ``BadRequest``, ...)
any other exception                             ``OrderStateUnknownError``      ``GatewayUnavailableError``
==============================================  ==============================  =====================

A *failed connect* is an ``ExchangeNotAvailable`` whose cause is aiohttp's
``ClientConnectorError`` (connection refused, no route) or a DNS failure: the request never left,
so it is known not sent. Any other ``ExchangeNotAvailable`` may have left (ccxt raises it for HTTP
5xx, and for a server that closed the connection after reading the request), so a submit or cancel
is *unknown*, looked up by client order id and never resent.

``retry_after`` comes from the response's ``Retry-After`` header (ccxt reads neither it nor the
``X-MBX-*`` headers; the gateway captures them per request, see ``usage.py``), else from a
Binance ban message ("banned until <ms>"), else the defaults: 1 s after a 429 or a -1003/-1015,
60 s after a 418. Messages lose their URL query strings (they carry signatures).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping

import ccxt

from engine.errors import (
    DuplicateClientOrderIdError,
    GatewayError,
    GatewayUnavailableError,
    OrderRejectedError,
    OrderStateUnknownError,
    RateLimitedError,
    UnknownOrderError,
)
from engine.rate_limits import RequestKind

__all__ = ["DEFAULT_BAN_SECONDS", "DEFAULT_RETRY_AFTER", "translate_error"]

#: Seconds to wait after a 429 (or -1003/-1015) that named no ``Retry-After``.
DEFAULT_RETRY_AFTER = 1.0
#: Seconds to wait after a 418 (an IP ban) that named no end.
DEFAULT_BAN_SECONDS = 60.0

_SUBMIT = RequestKind.SUBMIT
_CHANGES_STATE = (RequestKind.SUBMIT, RequestKind.CANCEL)
_QUERY = re.compile(r"\?\S*")
_BANNED_UNTIL = re.compile(r"banned until (\d{12,14})")
_DUPLICATE = "Duplicate order sent"


def _clean(error: BaseException) -> str:
    text = _QUERY.sub("?…", str(error)) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:500]


def _failed_connect(error: BaseException) -> bool:
    import aiohttp

    cause = error.__cause__
    return isinstance(cause, aiohttp.ClientConnectorError | socket.gaierror | ConnectionRefusedError)


def _retry_after(
    error: BaseException, headers: Mapping[str, str] | None, now_ms: float, *, ban: bool
) -> float:
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                break
    match = _BANNED_UNTIL.search(str(error))
    if match:
        return max(0.0, (int(match.group(1)) - now_ms) / 1000)
    return DEFAULT_BAN_SECONDS if ban else DEFAULT_RETRY_AFTER


def translate_error(
    error: BaseException,
    kind: RequestKind,
    *,
    client_order_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    now_ms: float = 0.0,
) -> GatewayError:
    """The engine's error for ``error`` raised by a ccxt call of ``kind`` (see the table above).

    ``headers`` are the failed response's headers when one came (for ``Retry-After``);
    ``now_ms`` is the wall clock in milliseconds (to read a ban's end).
    """
    message = _clean(error)
    changes_state = kind in _CHANGES_STATE
    if isinstance(error, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        ban = " 418 " in str(error) or "banned" in str(error)
        retry_after = _retry_after(error, headers, now_ms, ban=ban)
        return RateLimitedError(message, retry_after=retry_after, client_order_id=client_order_id)
    if isinstance(error, ccxt.InvalidNonce):
        return GatewayUnavailableError(message, client_order_id=client_order_id)
    if isinstance(error, ccxt.ExchangeNotAvailable) and _failed_connect(error):
        return GatewayUnavailableError(message, client_order_id=client_order_id)
    if isinstance(error, ccxt.OperationFailed) or not isinstance(error, ccxt.BaseError):
        # RequestTimeout, the other NetworkErrors, BadResponse, -1000, or something unforeseen
        if changes_state:
            return OrderStateUnknownError(message, client_order_id=client_order_id)
        return GatewayUnavailableError(message, client_order_id=client_order_id)
    duplicate = isinstance(error, ccxt.DuplicateOrderId) or (
        isinstance(error, ccxt.InvalidOrder) and _DUPLICATE in str(error)
    )
    if duplicate and kind is _SUBMIT and client_order_id is not None:
        return DuplicateClientOrderIdError(client_order_id)
    if isinstance(error, ccxt.OrderNotFound) and client_order_id is not None and kind is not _SUBMIT:
        return UnknownOrderError(client_order_id)
    return OrderRejectedError(message, client_order_id=client_order_id)

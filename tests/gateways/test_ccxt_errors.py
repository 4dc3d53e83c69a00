"""One test per row of the translation table in gateways/ccxt/errors.py.

Each ccxt error is made by the installed ccxt itself: binance's ``handle_errors`` and
``handle_http_status_code`` fed the venue's answer (status and Binance error body), or a real
request to a closed port on 127.0.0.1; so a ccxt upgrade that changes a mapping fails here.
"""

from __future__ import annotations

import json
import socket
import time

import anyio
import ccxt
import ccxt.async_support
import pytest

from engine import (
    DuplicateClientOrderIdError,
    GatewayError,
    GatewayUnavailableError,
    OrderRejectedError,
    OrderStateUnknownError,
    RateLimitedError,
    RequestKind,
    UnknownOrderError,
)
from gateways.ccxt import translate_error
from gateways.ccxt.errors import DEFAULT_BAN_SECONDS, DEFAULT_RETRY_AFTER

URL = "http://127.0.0.1:9/api/v3/order?symbol=BTCUSDT&signature=abcdef"
SUBMIT, CANCEL, LOOKUP, QUOTE = RequestKind.SUBMIT, RequestKind.CANCEL, RequestKind.LOOKUP, RequestKind.QUOTE


def ccxt_error_for(status: int, body: str) -> ccxt.BaseError:
    """The exception ccxt's binance raises for this HTTP answer."""
    exchange = ccxt.binance()
    try:
        parsed = json.loads(body) if body.startswith("{") else None
        exchange.handle_errors(status, "reason", URL, "POST", {}, body, parsed, {}, "")
        exchange.handle_http_status_code(status, "reason", URL, "POST", body)
    except ccxt.BaseError as error:
        return error
    raise AssertionError(f"ccxt raised nothing for {status} {body}")


def binance_body(code: int, message: str) -> str:
    return json.dumps({"code": code, "msg": message})


def translated(
    error: BaseException, kind: RequestKind, *, headers: dict[str, str] | None = None, now_ms: float = 0.0
) -> GatewayError:
    return translate_error(error, kind, client_order_id="c1", headers=headers, now_ms=now_ms)


# -- rate limits --------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [-1003, -1015])
def test_binance_rate_limit_codes_are_rate_limited(code: int) -> None:
    error = ccxt_error_for(400, binance_body(code, "Too many requests."))
    assert type(error) is ccxt.RateLimitExceeded
    result = translated(error, SUBMIT)
    assert isinstance(result, RateLimitedError)
    assert result.retry_after == DEFAULT_RETRY_AFTER


def test_http_429_is_ddos_protection_in_ccxt_and_rate_limited_with_the_retry_after_header() -> None:
    error = ccxt_error_for(429, binance_body(-1003, "Too much request weight used."))
    assert type(error) is ccxt.DDoSProtection
    result = translated(error, LOOKUP, headers={"Retry-After": "12"})
    assert isinstance(result, RateLimitedError)
    assert result.retry_after == 12.0


def test_http_418_is_a_ban_until_the_time_the_venue_names() -> None:
    until = int(time.time() * 1000) + 30_000
    error = ccxt_error_for(418, binance_body(-1003, f"Way too many requests; IP banned until {until}."))
    assert type(error) is ccxt.DDoSProtection
    result = translated(error, SUBMIT, now_ms=until - 30_000)
    assert isinstance(result, RateLimitedError)
    assert result.retry_after == 30.0


def test_http_418_without_an_end_waits_the_default_ban() -> None:
    error = ccxt_error_for(418, "")
    result = translated(error, SUBMIT)
    assert isinstance(result, RateLimitedError)
    assert result.retry_after == DEFAULT_BAN_SECONDS


# -- clock and timeouts -------------------------------------------------------------------------


def test_a_timestamp_outside_the_recv_window_is_known_not_executed() -> None:
    error = ccxt_error_for(
        400, binance_body(-1021, "Timestamp for this request is outside of the recvWindow.")
    )
    assert type(error) is ccxt.InvalidNonce
    assert type(translated(error, SUBMIT)) is GatewayUnavailableError


def test_execution_status_unknown_is_unknown_state_on_submit_and_cancel() -> None:
    error = ccxt_error_for(
        400, binance_body(-1007, "Timeout waiting for response from backend server. Send status unknown.")
    )
    assert type(error) is ccxt.RequestTimeout
    assert type(translated(error, SUBMIT)) is OrderStateUnknownError
    assert type(translated(error, CANCEL)) is OrderStateUnknownError


def test_a_timeout_on_a_look_up_or_quote_is_only_unavailable() -> None:
    error = ccxt.RequestTimeout("binance GET " + URL)
    assert type(translated(error, LOOKUP)) is GatewayUnavailableError
    assert type(translated(error, QUOTE)) is GatewayUnavailableError


def test_a_client_timeout_on_submit_is_unknown_state() -> None:
    assert type(translated(ccxt.RequestTimeout("binance POST " + URL), SUBMIT)) is OrderStateUnknownError


# -- the connection -----------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_is_known_not_sent() -> None:
    port = closed_port()

    async def main() -> BaseException:
        exchange = ccxt.async_support.binance(
            {"urls": {"api": {"public": f"http://127.0.0.1:{port}/api/v3"}}}
        )
        try:
            await exchange.fetch_time()
        except ccxt.BaseError as error:
            caught: BaseException = error
            return caught
        finally:
            await exchange.close()
        raise AssertionError("the request to a closed port succeeded")

    error = anyio.run(main)
    assert type(error) is ccxt.ExchangeNotAvailable
    assert type(translated(error, SUBMIT)) is GatewayUnavailableError


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_after_the_request_left_is_unknown_state_on_submit(status: int) -> None:
    error = ccxt_error_for(status, "Internal Server Error")
    assert type(error) is ccxt.ExchangeNotAvailable
    assert type(translated(error, SUBMIT)) is OrderStateUnknownError
    assert type(translated(error, LOOKUP)) is GatewayUnavailableError


def test_a_dropped_connection_mid_request_is_unknown_state_on_submit() -> None:
    import aiohttp

    error = ccxt.ExchangeNotAvailable("binance POST " + URL)
    error.__cause__ = aiohttp.ServerDisconnectedError()
    assert type(translated(error, SUBMIT)) is OrderStateUnknownError


def test_an_unknown_error_at_the_venue_is_unknown_state_on_submit() -> None:
    error = ccxt_error_for(500, binance_body(-1000, "An unknown error occured while processing the request."))
    assert isinstance(error, ccxt.OperationFailed)
    assert type(translated(error, SUBMIT)) is OrderStateUnknownError


def test_anything_unforeseen_is_unknown_state_on_submit_and_unavailable_on_a_look_up() -> None:
    assert type(translated(RuntimeError("boom"), SUBMIT)) is OrderStateUnknownError
    assert type(translated(RuntimeError("boom"), LOOKUP)) is GatewayUnavailableError


# -- refusals -----------------------------------------------------------------------------------


def test_a_duplicate_client_order_id_is_a_plain_invalid_order_in_ccxt_and_a_duplicate_here() -> None:
    error = ccxt_error_for(400, binance_body(-2010, "Duplicate order sent."))
    assert type(error) is ccxt.InvalidOrder
    result = translated(error, SUBMIT)
    assert isinstance(result, DuplicateClientOrderIdError)
    assert result.client_order_id == "c1"


@pytest.mark.parametrize(
    ("code", "message"), [(-2011, "Unknown order sent."), (-2013, "Order does not exist.")]
)
def test_unknown_orders_are_unknown_orders(code: int, message: str) -> None:
    error = ccxt_error_for(400, binance_body(code, message))
    assert type(error) is ccxt.OrderNotFound
    assert isinstance(translated(error, CANCEL), UnknownOrderError)
    assert isinstance(translated(error, LOOKUP), UnknownOrderError)


def test_a_bad_signature_is_a_refusal() -> None:
    error = ccxt_error_for(400, binance_body(-1022, "Signature for this request is not valid."))
    assert type(error) is ccxt.AuthenticationError
    assert type(translated(error, SUBMIT)) is OrderRejectedError


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (-2010, "Account has insufficient balance for requested action."),
        (-1013, "Filter failure: NOTIONAL"),
        (-1121, "Invalid symbol."),
        (-2010, "Order would immediately match and take."),
    ],
)
def test_other_venue_refusals_are_rejections_that_carry_the_reason(code: int, message: str) -> None:
    error = ccxt_error_for(400, binance_body(code, message))
    result = translated(error, SUBMIT)
    assert type(result) is OrderRejectedError
    assert message.split(":")[0] in result.reason


def test_messages_lose_the_query_string_that_carries_the_signature() -> None:
    result = translated(ccxt.ExchangeNotAvailable("binance POST " + URL + " 503"), SUBMIT)
    assert "signature" not in str(result)
    assert "abcdef" not in str(result)

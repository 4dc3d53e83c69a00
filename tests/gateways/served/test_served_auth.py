"""Signed requests: key, signature, timestamp and recvWindow are checked as Binance checks them,
and a refused request gets Binance's error body and changes nothing at the venue."""

from __future__ import annotations

import time

import ccxt.async_support as ccxt_async
import pytest

from gateways.served import ServedEndpoints
from tests.gateways.served.harness import Clients, raw_request, run_served, signed_query

_ORDER = {
    "symbol": "AAPLUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "1",
    "price": "100",
    "newClientOrderId": "auth-1",
}


def test_a_wrong_secret_is_refused_as_a_bad_signature() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest(secret="not-the-secret")
        with pytest.raises(ccxt_async.ExchangeError) as refused:
            await exchange.create_order("AAPL/USDT", "limit", "buy", 1, 100)
        assert '"code":-1022' in str(refused.value)
        assert served.exchange.venue.statistics().orders == 0

    run_served(scenario)


def test_an_unknown_api_key_is_refused() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest(apiKey="someone-else")
        with pytest.raises(ccxt_async.AuthenticationError) as refused:
            await exchange.fetch_balance()
        assert '"code":-2015' in str(refused.value)

    run_served(scenario)


def test_a_request_older_than_its_recv_window_is_refused() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        exchange.options["timeDifference"] = 20_000  # the client's clock runs 20 s behind
        with pytest.raises(ccxt_async.InvalidNonce) as refused:
            await exchange.create_order("AAPL/USDT", "limit", "buy", 1, 100)
        assert '"code":-1021' in str(refused.value)
        assert served.exchange.venue.statistics().orders == 0

    run_served(scenario)


def test_a_request_from_the_future_is_refused() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        query = signed_query(served, _ORDER, timestamp_ms=int(time.time() * 1000) + 5_000)
        status, _, body = await raw_request(
            served, "POST", "/api/v3/order", body=query, api_key=served.api_key
        )
        assert status == 400
        assert body["code"] == -1021

    run_served(scenario)


def test_an_unsigned_order_gets_a_binance_error_body_and_changes_nothing() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        status, _, body = await raw_request(
            served,
            "POST",
            "/api/v3/order",
            body="symbol=AAPLUSDT&side=BUY&type=MARKET&quantity=1",
            api_key=served.api_key,
        )
        assert (status, body) == (
            400,
            {
                "code": -1102,
                "msg": "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
            },
        )
        status, _, body = await raw_request(served, "GET", "/api/v3/account", signed_query(served, {}))
        assert (status, body["code"]) == (401, -2014)  # no API key header
        assert served.exchange.venue.statistics().requests == 0

    run_served(scenario)


def test_a_tampered_query_fails_its_signature() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        query = signed_query(served, _ORDER).replace("quantity=1", "quantity=100")
        status, _, body = await raw_request(
            served, "POST", "/api/v3/order", body=query, api_key=served.api_key
        )
        assert (status, body["code"]) == (400, -1022)
        assert served.exchange.venue.statistics().orders == 0

    run_served(scenario)


def test_a_signed_order_sent_by_hand_is_taken() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        status, headers, body = await raw_request(
            served, "POST", "/api/v3/order", body=signed_query(served, _ORDER), api_key=served.api_key
        )
        assert status == 200
        assert (body["clientOrderId"], body["status"], body["orderId"]) == ("auth-1", "NEW", 1)
        assert headers["x-mbx-order-count-10s"] == "1"
        assert int(headers["x-mbx-used-weight-1m"]) >= 1

    run_served(scenario)

"""Malformed orders get Binance's error body, naming what is wrong, and change nothing."""

from __future__ import annotations

from decimal import Decimal

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateways.served import BinanceLimits, Credentials, PaperExchange, ServedEndpoints, WireFaults
from tests.gateways.served.harness import Clients, quiet_venue, raw_request, run_served, signed_query

_GOOD = {
    "symbol": "AAPLUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "2",
    "price": "100",
}


@pytest.mark.parametrize(
    ("changes", "code", "message"),
    [
        ({"symbol": "NOPEUSDT"}, -1121, "Invalid symbol."),
        ({"symbol": None}, -1102, "Mandatory parameter 'symbol'"),
        ({"side": "HOLD"}, -1117, "Invalid side."),
        ({"type": "STOP_LOSS"}, -1116, "Invalid orderType."),
        ({"timeInForce": "FOK"}, -1115, "Invalid timeInForce."),
        ({"timeInForce": None}, -1102, "Mandatory parameter 'timeInForce'"),
        ({"quantity": None}, -1102, "Mandatory parameter 'quantity'"),
        ({"quantity": "1e3"}, -1100, "Illegal characters found in parameter 'quantity'"),
        ({"quantity": "-1"}, -1100, "Illegal characters found in parameter 'quantity'"),
        ({"quantity": "NaN"}, -1100, "Illegal characters found in parameter 'quantity'"),
        ({"price": "abc"}, -1100, "Illegal characters found in parameter 'price'"),
        ({"price": None}, -1102, "Mandatory parameter 'price'"),
        ({"quantity": "0"}, -1013, "Filter failure: LOT_SIZE"),
        ({"quantity": "1.5"}, -1013, "Filter failure: LOT_SIZE"),
        ({"price": "100.001"}, -1013, "Filter failure: PRICE_FILTER"),
        ({"price": "0"}, -1013, "Filter failure: PRICE_FILTER"),
        ({"type": "MARKET", "timeInForce": None}, -1106, "Parameter 'price' sent when not required."),
        (
            {"newClientOrderId": "has space"},
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'",
        ),
        ({"newClientOrderId": "x" * 37}, -1100, "Illegal characters found in parameter 'newClientOrderId'"),
        ({"recvWindow": "70000"}, -1131, "recvWindow must be less than 60000"),
    ],
)
def test_a_malformed_order_is_refused_with_binance_s_answer_and_changes_nothing(
    changes: dict[str, str | None], code: int, message: str
) -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        params = {name: value for name, value in {**_GOOD, **changes}.items() if value is not None}
        status, _, body = await raw_request(
            served, "POST", "/api/v3/order", body=signed_query(served, params), api_key=served.api_key
        )
        assert status == 400
        assert body["code"] == code
        assert body["msg"].startswith(message)
        venue = served.exchange.venue
        assert venue.statistics().requests == 0
        assert dict(venue.positions) == {}
        assert venue.cash == Decimal(1_000_000)

    run_served(scenario)


def test_below_the_minimum_notional_is_a_notional_filter_failure() -> None:
    from gateways.simulated import SymbolSpec

    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        params = {**_GOOD, "symbol": "TINYUSDT", "price": "1.00"}
        status, _, body = await raw_request(
            served, "POST", "/api/v3/order", body=signed_query(served, params), api_key=served.api_key
        )
        assert (status, body) == (400, {"code": -1013, "msg": "Filter failure: NOTIONAL"})

    from tests.gateways.served.harness import quiet_venue

    run_served(scenario, quiet_venue(symbols=[SymbolSpec(symbol="TINY", price=5, min_notional=10)]))


def test_an_unknown_path_and_a_malformed_look_up_get_binance_bodies() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        status, _, body = await raw_request(served, "GET", "/api/v3/nothing-here")
        assert (status, body["code"]) == (404, -1000)
        status, _, body = await raw_request(
            served,
            "GET",
            "/api/v3/order",
            signed_query(served, {"symbol": "AAPLUSDT"}),
            api_key=served.api_key,
        )
        assert (status, body["code"]) == (400, -1102)
        status, _, body = await raw_request(
            served,
            "GET",
            "/api/v3/order",
            signed_query(served, {"symbol": "AAPLUSDT", "orderId": "x"}),
            api_key=served.api_key,
        )
        assert (status, body["code"]) == (400, -1100)

    run_served(scenario)


_TEXT = st.one_of(
    st.sampled_from(["", "0", "1", "2", "1.5", "100", "100.00", "0.001", "1e3", "-1", "NaN", "Infinity",
                     "9" * 25, "0." + "0" * 30 + "1", "AAPLUSDT", "BUY", "SELL", "LIMIT", "MARKET", "GTC",
                     "IOC", "FOK", "ACK", "RESULT", "FULL"]),
    st.text(max_size=40),
)


_ORDER_FIELDS = (
    "symbol", "side", "type", "timeInForce", "quantity", "price", "newClientOrderId", "newOrderRespType"
)


@settings(max_examples=300, deadline=None)
@given(values=st.fixed_dictionaries({}, optional=dict.fromkeys(_ORDER_FIELDS, _TEXT)))
def test_any_order_parameters_get_a_binance_answer_never_a_crash(values: dict[str, str]) -> None:
    from gateways.served.errors import BinanceError
    from gateways.served.order_routes import order_from_params
    from gateways.served.params import Params

    refusals: list[BinanceError] = []

    async def check() -> None:
        venue = quiet_venue()
        async with venue:
            exchange = PaperExchange(
                venue, Credentials("key", "secret"), limits=BinanceLimits(), faults=WireFaults(), seed=0,
                quote_asset="USDT", stream_interval=0.05,
            )
            try:
                order_from_params(exchange, Params(values))
            except BinanceError as error:
                refusals.append(error)
            finally:
                exchange.stop()

    anyio.run(check)
    for error in refusals:
        assert error.status == 400
        assert error.code in {-1100, -1102, -1106, -1115, -1116, -1117, -1121, -1013}


def test_a_failure_inside_the_server_answers_binance_s_unknown_error() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        def broken(symbol: str) -> None:
            raise RuntimeError("a bug")

        setattr(served.exchange.venue, "quote_nowait", broken)  # noqa: B010 (a method, replaced)
        status, _, body = await raw_request(served, "GET", "/api/v3/ticker/bookTicker", "symbol=AAPLUSDT")
        assert (status, body["code"]) == (500, -1000)
        status, _, _ = await raw_request(served, "GET", "/api/v3/time")
        assert status == 200  # the server carries on

    run_served(scenario)

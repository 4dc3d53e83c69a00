"""CcxtGateway against a fake ccxt exchange: instruments, orders out, events in, bad input refused."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import anyio
import ccxt
import pytest

from engine import (
    DuplicateClientOrderIdError,
    ExecutionEvent,
    InvalidInputError,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderRejectedError,
    OrderStateUnknownError,
    OrderStatus,
    RateLimitedError,
    TradingGateway,
    UnknownOrderError,
    UnknownSymbolError,
)
from gateways.ccxt import CcxtGateway, CcxtSettings
from tests.gateways.ccxt_fake import FakeExchange

SETTINGS = CcxtSettings("binance", "key", "secret")


def open_gateway(fake: FakeExchange) -> CcxtGateway:
    return CcxtGateway(SETTINGS, exchange_factory=lambda settings: fake)


async def next_events(gateway: CcxtGateway, count: int, after: int = 0) -> list[ExecutionEvent]:
    events: list[ExecutionEvent] = []
    with anyio.fail_after(5):
        async for event in gateway.events(after_sequence=after):
            events.append(event)
            if len(events) == count:
                break
    return events


def with_venue(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Run ``test(fake, gateway, ...)`` inside an open gateway (in the test's own task)."""

    @functools.wraps(test)
    async def run(*arguments: Any, **keywords: Any) -> None:
        fake = FakeExchange()
        async with open_gateway(fake) as gateway:
            await test(fake, gateway, *arguments, **keywords)
        assert fake.closed

    parameters = list(inspect.signature(test).parameters.values())[2:]
    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]  # pytest reads it
    return run


def test_the_gateway_implements_the_protocol() -> None:
    assert isinstance(open_gateway(FakeExchange()), TradingGateway)


@with_venue
async def test_instruments_come_from_the_markets_of_the_asked_types(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    assert sorted(gateway.instruments) == ["BTC/USDT", "ETH/USDT"]  # the swap is not spot
    btc = gateway.instrument("BTC/USDT")
    assert (btc.lot_size, btc.tick_size, btc.min_quantity, btc.min_notional) == (
        Decimal("0.001"),
        Decimal("0.01"),
        Decimal("0.001"),
        Decimal("5.0"),
    )


async def test_swap_markets_load_when_asked_for() -> None:
    fake = FakeExchange()
    settings = CcxtSettings("binance", "key", "secret", market_types=("swap",))
    async with CcxtGateway(settings, exchange_factory=lambda _: fake) as gateway:
        assert list(gateway.instruments) == ["BTC/USDT:USDT"]


@with_venue
async def test_a_market_order_leaves_with_our_client_id_and_no_price(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    order = Order(symbol="BTC/USDT", side="buy", quantity="0.5", client_order_id="E-child-1")
    ack = await gateway.submit_order(order)
    assert ack.client_order_id == "E-child-1"
    sent = [arguments for method, arguments in fake.calls if method == "create_order"]
    assert sent == [("BTC/USDT", "market", "buy", "0.5", None, {"clientOrderId": "E-child-1"})]


@with_venue
async def test_a_limit_order_carries_its_price_and_time_in_force(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    order = Order(symbol="ETH/USDT", side="sell", quantity="2", order_type="limit", limit_price="101.25")
    await gateway.submit_order(order)
    (sent,) = [arguments for method, arguments in fake.calls if method == "create_order"]
    assert sent[1:5] == ("limit", "sell", "2", "101.25")
    assert sent[5]["timeInForce"] == "GTC"


@with_venue
async def test_events_arrive_numbered_from_one_and_fills_carry_the_trade_id(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    order = Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="c1")
    await gateway.submit_order(order)
    fake.fill("c1", 0.4, 100.0, trade_id="77")
    fake.fill("c1", 0.6, 100.5, trade_id="78")
    events = await next_events(gateway, 3)
    assert [event.sequence for event in events] == [1, 2, 3]
    accepted, first, second = events
    assert isinstance(accepted, OrderAccepted)
    assert isinstance(first, OrderFilled)
    assert isinstance(second, OrderFilled)
    assert (first.trade_id, first.quantity, first.price) == ("77", Decimal("0.4"), Decimal("100.0"))
    assert (second.trade_id, second.quantity) == ("78", Decimal("0.6"))


@with_venue
async def test_a_subscriber_from_a_sequence_gets_only_what_came_after(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="c1"))
    fake.fill("c1", 1.0, 100.0)
    await next_events(gateway, 2)
    replayed = await next_events(gateway, 1, after=1)
    assert [type(event) for event in replayed] == [OrderFilled]
    assert replayed[0].sequence == 2


@with_venue
async def test_a_cancel_goes_by_client_order_id_and_its_event_carries_the_filled_quantity(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    order = Order(
        symbol="BTC/USDT",
        side="buy",
        quantity="1",
        order_type="limit",
        limit_price="99",
        client_order_id="c9",
    )
    await gateway.submit_order(order)
    fake.fill("c9", 0.25, 99.0)
    await gateway.cancel_order("c9")
    events = await next_events(gateway, 3)
    (cancelled,) = [event for event in events if isinstance(event, OrderCancelled)]
    assert cancelled.filled_quantity == Decimal("0.25")
    assert ("cancel_order", (None, "BTC/USDT", {"origClientOrderId": "c9"})) in fake.calls


@with_venue
async def test_cancelling_an_order_that_already_ended_is_a_no_op(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="c2"))
    fake.fill("c2", 1.0, 100.0)
    await next_events(gateway, 2)
    await gateway.cancel_order("c2")  # no error
    assert not any(method == "cancel_order" for method, _ in fake.calls)


@with_venue
async def test_a_look_up_by_client_order_id_returns_the_venue_state_and_fills(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    await gateway.submit_order(Order(symbol="ETH/USDT", side="buy", quantity="3", client_order_id="c3"))
    fake.mute_streams()
    fake.fill("c3", 1.0, 100.0)
    snapshot = await gateway.get_order("c3")
    assert snapshot.status is OrderStatus.PARTIALLY_FILLED
    assert snapshot.filled_quantity == Decimal("1.0")
    assert [fill.quantity for fill in snapshot.fills] == [Decimal("1.0")]  # read by REST: not on the stream


@with_venue
async def test_a_look_up_of_an_id_the_venue_never_got_raises_unknown_order(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    with pytest.raises(UnknownOrderError):
        await gateway.get_order("never-sent")


@with_venue
async def test_a_quote_comes_from_the_ticker(fake: FakeExchange, gateway: CcxtGateway) -> None:
    quote = await gateway.get_quote("BTC/USDT")
    assert (quote.bid, quote.ask, quote.bid_size, quote.ask_size) == (
        Decimal("100.0"),
        Decimal("100.1"),
        Decimal("2.5"),
        Decimal("1.5"),
    )


# -- bad input is refused before anything is sent ---------------------------------------------


def test_an_unknown_exchange_id_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInputError) as caught:
        CcxtSettings("binanse", "key", "secret")
    assert caught.value.field == "exchange_id"
    assert caught.value.value == "binanse"


def test_keys_are_never_shown() -> None:
    settings = CcxtSettings("okx", "my-api-key", "my-secret", options={"password": "my-pass", "x": 1})
    assert "my-api-key" not in repr(settings)
    assert "my-secret" not in repr(settings)
    assert "my-pass" not in repr(settings)
    assert "'x': 1" in repr(settings)


def test_missing_keys_in_the_environment_are_refused_naming_the_variables() -> None:
    with pytest.raises(InvalidInputError) as caught:
        CcxtSettings.from_environment("binance", environ={})
    assert caught.value.field == "api_key"
    assert "BINANCE_API_KEY" in str(caught.value)


def test_keys_come_from_the_environment() -> None:
    settings = CcxtSettings.from_environment(
        "binance", environ={"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s"}
    )
    assert (settings.api_key, settings.secret) == ("k", "s")


async def test_missing_keys_are_refused_on_entry_before_any_request() -> None:
    fake = FakeExchange()
    gateway = CcxtGateway(CcxtSettings("binance"), exchange_factory=lambda _: fake)
    with pytest.raises(InvalidInputError) as caught:
        async with gateway:
            pass
    assert caught.value.field == "api_key"
    assert fake.calls == []


@with_venue
async def test_an_unlisted_symbol_is_refused_naming_it(fake: FakeExchange, gateway: CcxtGateway) -> None:
    with pytest.raises(UnknownSymbolError):
        gateway.instrument("DOGE/USDT")
    with pytest.raises(OrderRejectedError, match="symbol='DOGE/USDT'"):
        await gateway.submit_order(Order(symbol="DOGE/USDT", side="buy", quantity="1"))
    assert not any(method == "create_order" for method, _ in fake.calls)


@pytest.mark.parametrize(
    ("order", "field"),
    [
        (Order(symbol="BTC/USDT", side="buy", quantity="0.0005"), "quantity"),  # below the minimum
        (Order(symbol="BTC/USDT", side="buy", quantity="0.0015"), "quantity"),  # off the lot grid
        (
            Order(symbol="BTC/USDT", side="buy", quantity="0.01", order_type="limit", limit_price="100"),
            "quantity",
        ),
        (
            Order(symbol="BTC/USDT", side="buy", quantity="1", order_type="limit", limit_price="100.001"),
            "limit_price",
        ),
    ],
)
@with_venue
async def test_an_order_below_the_filters_is_refused_naming_the_field(
    fake: FakeExchange, gateway: CcxtGateway, order: Order, field: str
) -> None:
    with pytest.raises(OrderRejectedError, match=f"{field}="):
        await gateway.submit_order(order)
    assert not any(method == "create_order" for method, _ in fake.calls)


async def test_a_client_id_the_exchange_would_refuse_is_refused_before_sending() -> None:
    fake = FakeExchange()
    fake.id = "okx"
    settings = CcxtSettings("okx", "key", "secret", options={"password": "pass"})
    async with CcxtGateway(settings, exchange_factory=lambda _: fake) as gateway:
        with pytest.raises(OrderRejectedError, match=r"client_order_id='E-1'.*okx accepts"):
            await gateway.submit_order(
                Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="E-1")
            )
    assert not any(method == "create_order" for method, _ in fake.calls)


# -- what the venue's answers mean -------------------------------------------------------------


@with_venue
async def test_a_timeout_on_submit_is_unknown_state_and_the_order_is_found_by_look_up(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    fake.fail_next("create_order", ccxt.RequestTimeout("binance POST http://fake/api/v3/order?signature=abc"))
    order = Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="c4")
    with pytest.raises(OrderStateUnknownError) as caught:
        await gateway.submit_order(order)
    assert "signature" not in str(caught.value)
    snapshot = await gateway.get_order("c4")
    assert snapshot.status is OrderStatus.NEW
    assert sum(1 for method, _ in fake.calls if method == "create_order") == 1


@with_venue
async def test_a_duplicate_client_order_id_is_reported_as_such(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    fake.fail_next("create_order", ccxt.InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}'))
    with pytest.raises(DuplicateClientOrderIdError):
        await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="c5"))


@with_venue
async def test_a_429_pauses_with_the_venues_retry_after(fake: FakeExchange, gateway: CcxtGateway) -> None:

    async def refuse(*arguments: object, params: object = None) -> None:
        fake.on_rest_response(429, "Too Many Requests", "u", "POST", {"Retry-After": "7"}, "{}", {}, None)
        raise ccxt.DDoSProtection('binance 429 Too Many Requests {"code":-1003,"msg":"Too many requests."}')

    fake.create_order = refuse  # type: ignore[method-assign, assignment]  # this call answers 429
    with pytest.raises(RateLimitedError) as caught:
        await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1"))
    assert caught.value.retry_after == 7.0


async def test_the_venues_reported_weight_refuses_a_request_before_it_leaves() -> None:
    fake = FakeExchange()
    fake.response_headers = {"X-MBX-USED-WEIGHT-1M": "5999", "X-MBX-ORDER-COUNT-10S": "50"}
    async with open_gateway(fake) as gateway:
        with pytest.raises(RateLimitedError) as caught:
            await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1"))
        assert 0 <= caught.value.retry_after <= 60
        assert gateway.statistics().usage.refused == 1
    assert not any(method == "create_order" for method, _ in fake.calls)


async def test_using_the_gateway_outside_async_with_is_refused() -> None:
    gateway = open_gateway(FakeExchange())
    with pytest.raises(Exception, match="not open"):
        await gateway.get_quote("BTC/USDT")


@with_venue
async def test_a_fill_in_binances_execution_report_counts_even_without_the_trade_stream(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="r1"))
    order = fake.orders["r1"]
    report = {"x": "TRADE", "t": 901, "l": "0.4", "L": "100.5", "n": "0.04", "m": True, "T": 1}
    fake.order_stream.push(dict(order, filled=0.4, info=report))  # the trade stream never says it
    fake.order_stream.push(dict(order, filled=0.4, info=report))  # and the report comes twice
    events = await next_events(gateway, 2)
    fill = events[1]
    assert isinstance(fill, OrderFilled)
    assert (fill.trade_id, fill.quantity, fill.price, fill.fee, fill.is_maker) == (
        "901",
        Decimal("0.4"),
        Decimal("100.5"),
        Decimal("0.04"),
        True,
    )
    assert gateway.statistics().orders.duplicate_fills == 1


async def test_the_event_stream_ends_when_the_gateway_closes() -> None:
    fake = FakeExchange()
    async with open_gateway(fake) as gateway:
        await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1"))
    with anyio.fail_after(1):
        events = [event async for event in gateway.events()]
    assert [type(event) for event in events] == [OrderAccepted]

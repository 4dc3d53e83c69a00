"""CcxtGateway against a fake ccxt exchange: instruments, orders out, events in, bad input refused."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, ClassVar

import anyio
import anyio.abc
import ccxt
import pytest

from engine import (
    DuplicateClientOrderIdError,
    ExecutionEvent,
    GatewayUnavailableError,
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
from gateways.ccxt import Backoff, CcxtGateway, CcxtSettings
from gateways.ccxt import gateway as gateway_module
from gateways.ccxt.journal import EventJournal
from gateways.ccxt.streams import StreamConsumer
from gateways.ccxt.tracker import OrderTracker
from tests.gateways.ccxt.fake import FakeExchange

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


@pytest.mark.parametrize(
    ("arguments", "field", "value"),
    [
        ({"first": math.nan}, "first", math.nan),
        ({"first": -1.0}, "first", -1.0),
        ({"first": 0}, "first", 0),
        ({"first": "x"}, "first", "x"),
        ({"max_delay": math.inf}, "max_delay", math.inf),
        ({"first": 2.0, "max_delay": 1.0}, "max_delay", 1.0),
    ],
)
def test_a_backoff_that_is_not_a_finite_positive_delay_is_refused_naming_it(
    arguments: dict[str, Any], field: str, value: object
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Backoff(**arguments)
    assert (caught.value.field, repr(caught.value.value)) == (field, repr(value))  # repr: NaN too


@pytest.mark.parametrize("value", [0, -1, True, "3", 2.5, None])
def test_report_drop_after_must_be_a_whole_number_of_passes_from_one(value: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        CcxtGateway(SETTINGS, report_drop_after=value)  # type: ignore[arg-type]  # a caller's bad input
    assert (caught.value.field, caught.value.value) == ("report_drop_after", value)


@pytest.mark.parametrize(
    ("aliases", "field", "value"),
    [
        ({"AAPL": 5}, "aliases.AAPL", 5),
        ({"AAPL": ""}, "aliases.AAPL", ""),
        ({7: "AAPL/USDT"}, "aliases", 7),
        (["AAPL"], "aliases", ["AAPL"]),
    ],
)
def test_aliases_must_name_symbols_with_strings(aliases: Any, field: str, value: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        CcxtGateway(SETTINGS, aliases=aliases)
    assert (caught.value.field, caught.value.value) == (field, value)


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
async def test_an_error_on_a_5xx_answer_to_a_submit_is_unknown_state_never_a_rejection(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    async def answer_503(*arguments: object, params: object = None) -> None:
        fake.on_rest_response(503, "Service Unavailable", "u", "POST", {}, "{}", {}, None)
        raise ccxt.ExchangeError('binance {"code":-1013,"msg":"Filter failure: NOTIONAL"}')

    fake.create_order = answer_503  # type: ignore[method-assign, assignment]  # this call answers 503
    with pytest.raises(OrderStateUnknownError):
        await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1"))


@with_venue
async def test_a_malformed_answer_to_a_submit_that_succeeded_is_still_an_ack(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    take = fake.create_order

    async def garbled(*arguments: Any, params: dict[str, Any]) -> dict[str, Any]:
        symbol, kind, side, amount, price = arguments
        return {**await take(symbol, kind, side, amount, price, params), "filled": "lots"}

    fake.create_order = garbled  # type: ignore[method-assign, assignment]  # the venue took it; the answer is garbled
    ack = await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="g1"))
    assert ack.venue_order_id == fake.orders["g1"]["id"]


@with_venue
async def test_a_malformed_answer_to_a_look_up_is_unavailable_not_bad_input(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="g2"))
    fake.orders["g2"]["amount"] = None
    with pytest.raises(GatewayUnavailableError) as caught:
        await gateway.get_order("g2")
    assert caught.value.client_order_id == "g2"


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


@with_venue
async def test_an_order_the_venue_took_before_answering_429_still_reports_its_fills(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    take = fake.create_order

    async def take_then_429(*arguments: Any, params: dict[str, Any]) -> None:
        symbol, kind, side, amount, price = arguments
        await take(symbol, kind, side, amount, price, params)  # the venue holds the order ...
        fake.on_rest_response(429, "Too Many Requests", "u", "POST", {"Retry-After": "1"}, "{}", {}, None)
        raise ccxt.DDoSProtection("binance 429 Too Many Requests")  # ... and still answers 429

    fake.create_order = take_then_429  # type: ignore[method-assign, assignment]  # this call answers 429
    with pytest.raises(RateLimitedError):
        await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="k1"))
    fake.fill("k1", 1.0, 100.0)
    events = await next_events(gateway, 2)
    assert [type(event) for event in events] == [OrderAccepted, OrderFilled]
    assert events[1].client_order_id == "k1"


@with_venue
async def test_an_order_answered_429_is_forgotten_only_once_a_look_up_finds_it_never_arrived(
    fake: FakeExchange, gateway: CcxtGateway
) -> None:
    fake.fail_next("create_order", ccxt.DDoSProtection("binance 429 Too Many Requests"))
    with pytest.raises(RateLimitedError):
        await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="k2"))
    assert gateway.statistics().orders.open_orders == 1  # a 429 proves nothing
    with pytest.raises(UnknownOrderError):
        await gateway.get_order("k2")
    assert gateway.statistics().orders.open_orders == 0
    assert [args[1] for method, args in fake.calls if method == "fetch_order"] == ["BTC/USDT"]


async def test_the_venues_reported_weight_refuses_a_request_before_it_leaves() -> None:
    fake = FakeExchange()
    fake.response_headers = {"X-MBX-USED-WEIGHT-1M": "5999", "X-MBX-ORDER-COUNT-10S": "50"}
    async with open_gateway(fake) as gateway:
        with pytest.raises(RateLimitedError) as caught:
            await gateway.submit_order(Order(symbol="BTC/USDT", side="buy", quantity="1"))
        assert 0 <= caught.value.retry_after <= 60
        assert gateway.statistics().usage.refused == 1
        assert gateway.statistics().orders.open_orders == 0  # known never sent: not tracked
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


# -- the gateway's lifetime --------------------------------------------------------------------


class BodyError(Exception):
    """An error of the user's own code inside ``async with CcxtGateway(...)``."""


async def test_the_blocks_own_error_comes_out_as_itself_not_in_an_exception_group() -> None:
    fake = FakeExchange()
    with pytest.raises(BodyError) as caught:
        async with open_gateway(fake):
            raise BodyError("the user's code failed")
    assert type(caught.value) is BodyError
    assert fake.closed


class NeverStarts(StreamConsumer):
    """A stream consumer that fails before it has started."""

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        raise BodyError("the stream could not start")


async def test_a_task_that_fails_to_start_leaves_no_task_group_or_exchange_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gateway_module, "StreamConsumer", NeverStarts)
    fake = FakeExchange()
    gateway = open_gateway(fake)
    with pytest.raises(BodyError):
        async with gateway:
            raise AssertionError("entered a gateway whose streams never started")
    assert fake.closed
    assert "closed" in repr(gateway)


async def test_a_cancellation_while_entering_leaves_no_task_group_or_exchange_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with anyio.CancelScope() as scope:

        class CancelledWhileStarting(StreamConsumer):
            async def run(
                self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
            ) -> None:
                scope.cancel()
                await anyio.sleep_forever()

        monkeypatch.setattr(gateway_module, "StreamConsumer", CancelledWhileStarting)
        fake = FakeExchange()
        gateway = open_gateway(fake)
        async with gateway:
            raise AssertionError("entered a gateway whose streams never started")
    assert scope.cancelled_caught
    assert fake.closed
    assert "closed" in repr(gateway)


async def test_keys_refused_on_entry_close_the_exchange() -> None:
    class NeedsUid(FakeExchange):
        requiredCredentials: ClassVar[dict[str, bool]] = {"apiKey": True, "secret": True, "uid": True}

    fake = NeedsUid()
    with pytest.raises(InvalidInputError) as caught:
        async with open_gateway(fake):
            raise AssertionError("entered without the uid the exchange requires")
    assert caught.value.field == "options.uid"
    assert fake.closed


def test_an_order_whose_submit_is_still_out_is_never_forgotten() -> None:
    tracker = OrderTracker(EventJournal(), lambda: 0.0)
    order = Order(symbol="BTC/USDT", side="buy", quantity="1", client_order_id="k3")
    tracker.submit_started(order)
    tracker.forget("k3")  # a look-up found nothing while the request may still be travelling
    assert tracker.order("k3") == order
    tracker.submit_ended("k3")
    tracker.forget("k3")
    assert tracker.order("k3") is None

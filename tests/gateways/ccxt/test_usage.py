"""The venue's published limits as presets, its reported usage, and each exchange's client id rule."""

from __future__ import annotations

import anyio
import ccxt
import pytest

from engine import InvalidInputError, LimitShape, RateLimitedError, RequestKind
from gateways.ccxt import BINANCE_SPOT_LIMITS, VenueUsage, client_id_rule, limits_for
from gateways.ccxt.calls import VenueCalls
from gateways.ccxt.usage import BINANCE_REQUEST_WEIGHTS, ResponseHeaders
from tests.gateways.ccxt.fake import FakeExchange


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_binance_spot_presets_are_its_published_limits() -> None:
    assert limits_for("binance") == BINANCE_SPOT_LIMITS
    orders_10s, orders_day, weight = BINANCE_SPOT_LIMITS
    assert (orders_10s.limit, orders_10s.period, orders_10s.cancel_weight) == (50, 10.0, 0)
    assert (orders_day.limit, orders_day.period) == (160_000, 86_400.0)
    assert (weight.limit, weight.period, weight.lookup_weight) == (6_000, 60.0, 4)
    assert all(limit.shape is LimitShape.ROLLING_WINDOW for limit in BINANCE_SPOT_LIMITS)
    assert limits_for("kraken") == ()


def test_the_venues_order_count_refuses_a_submit_until_its_window_ends() -> None:
    clock = Clock(1_000_003.0)  # 3 s into a 10 s window
    usage = VenueUsage(wall_clock=clock)
    usage.observe({"X-MBX-ORDER-COUNT-10S": "50", "X-MBX-USED-WEIGHT-1M": "120"})
    with pytest.raises(RateLimitedError) as caught:
        usage.check(RequestKind.SUBMIT, "c1")
    assert caught.value.retry_after == pytest.approx(7.0)
    usage.check(RequestKind.CANCEL)  # a cancel is no new order, and the weight has room
    clock.now += 7.0  # the venue's window has turned
    usage.check(RequestKind.SUBMIT)
    assert usage.statistics().refused == 1


def test_the_venues_used_weight_refuses_what_would_pass_it() -> None:
    usage = VenueUsage(wall_clock=Clock(60.0 * 1000 + 30))
    usage.observe({"x-mbx-used-weight-1m": "5997"})  # header names in any case
    usage.check(RequestKind.QUOTE)  # weight 2 fits: 5,999
    with pytest.raises(RateLimitedError):
        usage.check(RequestKind.LOOKUP)  # weight 4 would pass 6,000


def test_each_call_is_weighed_as_the_installed_ccxt_weighs_binance_spots_endpoints() -> None:
    """ccxt's binance gives each endpoint a cost of 0.2 × Binance's weight."""
    api = ccxt.binance().api
    endpoints = {
        "load_markets": api["public"]["get"]["exchangeInfo"],
        "create_order": api["private"]["post"]["order"],
        "cancel_order": api["private"]["delete"]["order"],
        "fetch_order": api["private"]["get"]["order"],
        "fetch_open_orders": api["private"]["get"]["openOrders"],  # always for one symbol
        "fetch_my_trades": api["private"]["get"]["myTrades"],
        "fetch_ticker": api["public"]["get"]["ticker/24hr"],  # for one symbol
    }
    assert {
        name: round(endpoint["cost"] * 5) for name, endpoint in endpoints.items()
    } == BINANCE_REQUEST_WEIGHTS


def test_reconciliation_requests_are_refused_at_their_own_weight_before_they_leave() -> None:
    async def main() -> FakeExchange:
        fake = FakeExchange()
        fake.response_headers = {"X-MBX-USED-WEIGHT-1M": "5995"}
        usage = VenueUsage()
        headers = ResponseHeaders(usage.observe)
        headers.install(fake)
        calls = VenueCalls(fake, usage)
        await calls.load_markets()  # the venue reports 5,995 of 6,000 used
        with pytest.raises(RateLimitedError):
            await calls.fetch_my_trades("BTC/USDT", None, 500)  # weight 20
        with pytest.raises(RateLimitedError):
            await calls.fetch_open_orders("BTC/USDT")  # weight 6
        await calls.fetch_ticker("BTC/USDT")  # weight 2 fits
        assert usage.statistics().refused == 2
        return fake

    fake = anyio.run(main)
    assert [method for method, _ in fake.calls] == ["load_markets", "fetch_ticker"]


def test_other_limits_can_be_given_per_header() -> None:
    usage = VenueUsage({"X-MBX-ORDER-COUNT-10S": 500}, wall_clock=Clock(5.0))
    usage.observe({"X-MBX-ORDER-COUNT-10S": "60"})
    usage.check(RequestKind.SUBMIT)
    with pytest.raises(InvalidInputError, match="header_limits"):
        VenueUsage({"Retry-After": 5})


def test_each_request_sees_its_own_response_headers() -> None:
    seen: list[dict[str, str]] = []

    class Exchange:
        def on_rest_response(self, *arguments: object) -> object:
            return arguments[5]

    exchange = Exchange()
    ResponseHeaders(lambda headers: seen.append(dict(headers))).install(exchange)
    with ResponseHeaders.capture() as first:
        exchange.on_rest_response(200, "OK", "u", "GET", {"Retry-After": "1"}, "body", {}, None)
        with ResponseHeaders.capture() as second:
            exchange.on_rest_response(429, "Too Many", "u", "POST", {"Retry-After": "9"}, "body", {}, None)
    assert (first.status, first.headers) == (200, {"Retry-After": "1"})
    assert (second.status, second.headers) == (429, {"Retry-After": "9"})
    assert len(seen) == 2


@pytest.mark.parametrize(
    ("exchange_id", "good", "bad"),
    [
        ("binance", "x-TKT5/a.b:c_d-e", "has space"),
        ("binance", "a" * 36, "a" * 37),
        ("okx", "E1GHwmOvpKlU6R1", "E-1"),
        ("kraken", "short-id", "a" * 19),
        ("somewhere", "E.1:2_3-4", "a" * 33),  # an exchange not listed: the engine's own rule
    ],
)
def test_client_order_ids_follow_each_exchanges_rule(exchange_id: str, good: str, bad: str) -> None:
    rule = client_id_rule(exchange_id)
    assert rule.check(good, exchange_id) == good
    with pytest.raises(InvalidInputError) as caught:
        rule.check(bad, exchange_id)
    assert caught.value.field == "client_order_id"
    assert caught.value.value == bad

"""The venue's published limits as presets, its reported usage, and each exchange's client id rule."""

from __future__ import annotations

import pytest

from engine import InvalidInputError, LimitShape, RateLimitedError, RequestKind
from gateways.ccxt import BINANCE_SPOT_LIMITS, VenueUsage, client_id_rule, limits_for
from gateways.ccxt.usage import ResponseHeaders


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
    assert first == {"Retry-After": "1"}
    assert second == {"Retry-After": "9"}
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

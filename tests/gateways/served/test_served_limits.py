"""Binance's rate limits, enforced by the server: fixed windows, 429 with ``Retry-After`` and the
usage headers, then 418 for a client that keeps going; every refusal counted.

The tests over sockets count windows from the server's start (``align_to_clock=False``), so that
no wall-clock boundary falls inside their bursts; the limiter's own test checks the alignment."""

from __future__ import annotations

import ccxt.async_support as ccxt_async
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateways.served import BinanceLimits, ServedEndpoints
from tests.gateways.served.harness import Clients, raw_request, run_served, signed_query


def _order(number: int) -> dict[str, object]:
    return {
        "symbol": "AAPLUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "1",
        "price": "100",
        "newClientOrderId": f"lim-{number}",
    }


def test_the_order_limit_answers_429_with_retry_after_and_nothing_reaches_the_venue() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        for number in range(3):
            status, headers, _ = await raw_request(
                served,
                "POST",
                "/api/v3/order",
                body=signed_query(served, _order(number)),
                api_key=served.api_key,
            )
            assert status == 200
            assert headers["x-mbx-order-count-10s"] == str(number + 1)
        status, headers, body = await raw_request(
            served, "POST", "/api/v3/order", body=signed_query(served, _order(3)), api_key=served.api_key
        )
        assert status == 429
        assert body["code"] == -1015
        assert 1 <= int(headers["retry-after"]) <= 10
        assert headers["x-mbx-order-count-10s"] == "3"
        assert served.exchange.venue.statistics().orders == 3
        assert served.statistics().rate_limit_violations == 1

    run_served(scenario, limits=BinanceLimits(orders_per_10s=3, align_to_clock=False))


def test_ccxt_sees_a_429_as_ddos_protection_with_the_headers_in_its_last_response() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()  # exchangeInfo weighs 20
        await exchange.fetch_ticker("AAPL/USDT")  # 2 more
        with pytest.raises(ccxt_async.DDoSProtection):
            await exchange.fetch_balance()  # 20 more: over 30
        headers = {name.lower(): value for name, value in exchange.last_response_headers.items()}
        assert int(headers["retry-after"]) >= 1
        assert int(headers["x-mbx-used-weight-1m"]) == 42
        assert served.statistics().rate_limit_violations == 1

    run_served(scenario, limits=BinanceLimits(request_weight_per_minute=30, align_to_clock=False))


def test_a_client_that_ignores_429_is_banned_with_418() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        statuses = []
        for _ in range(5):
            status, headers, body = await raw_request(served, "GET", "/api/v3/time")
            statuses.append(status)
        assert statuses == [200, 200, 429, 429, 418]
        assert body["code"] == -1003
        assert int(headers["retry-after"]) == 120
        status, _, _ = await raw_request(served, "GET", "/api/v3/time")
        assert status == 418  # banned: even a light request is refused
        stats = served.statistics().limits
        assert (stats.violations, stats.bans) == (4, 1)

    run_served(
        scenario, limits=BinanceLimits(request_weight_per_minute=2, ban_after=2, align_to_clock=False)
    )


def test_limits_refuse_bad_settings_naming_the_field() -> None:
    with pytest.raises(ValueError, match="orders_per_10s"):
        BinanceLimits(orders_per_10s=0)
    with pytest.raises(ValueError, match="ban_seconds"):
        BinanceLimits(ban_seconds=float("nan"))


def test_a_served_venue_with_its_own_limits_answers_429_when_they_refuse() -> None:
    from gateways.simulated import VenueRateLimit
    from tests.gateways.served.harness import quiet_venue

    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        await exchange.create_order("AAPL/USDT", "limit", "buy", 1, 100, params={"clientOrderId": "own-1"})
        with pytest.raises(ccxt_async.DDoSProtection):
            await exchange.create_order(
                "AAPL/USDT", "limit", "buy", 1, 100, params={"clientOrderId": "own-2"}
            )
        headers = {name.lower(): value for name, value in exchange.last_response_headers.items()}
        assert int(headers["retry-after"]) >= 1
        assert served.exchange.venue.statistics().rate_limit_violations == 1
        # the refused order left no trace: its client order id is free
        assert served.exchange.ledger.by_client_id("own-2") is None

    venue = quiet_venue(rate_limits=[VenueRateLimit(limit=1, period=60.0)])
    run_served(scenario, venue)


def test_windows_follow_the_wall_clock_as_binance_s_do() -> None:
    from gateways.served.errors import BinanceError
    from gateways.served.limits import RequestLimiter

    # The loop clock reads 0 when the wall clock reads 1,055 s after the epoch: the minute window
    # ends at 1,080 (loop 25) and the 10-second one at 1,060 (loop 5).
    limiter = RequestLimiter(BinanceLimits(request_weight_per_minute=10, orders_per_10s=1), 0.0, 1_055.0)
    limiter.admit(10, True, 1.0)
    with pytest.raises(BinanceError) as refused:
        limiter.admit(1, False, 20.0)
    assert (refused.value.status, refused.value.retry_after) == (429, 5)
    limiter.admit(1, False, 25.5)  # a new minute on the wall clock
    assert limiter.statistics().used_weight == 1
    limiter.admit(1, True, 25.6)  # and a new 10-second window
    assert limiter.statistics().orders_10s == 1
    with pytest.raises(BinanceError) as too_many:
        limiter.admit(1, True, 26.0)
    assert (too_many.value.code, too_many.value.retry_after) == (-1015, 9)  # the window ends at 1,090


@settings(max_examples=200, deadline=None)
@given(
    requests=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=0.5, allow_nan=False),  # seconds since the last request
            st.integers(min_value=1, max_value=25),  # its weight
            st.booleans(),  # a new order?
        ),
        max_size=300,
    ),
    wall_start=st.floats(min_value=0, max_value=86_400, allow_nan=False),
)
def test_what_the_limiter_admits_never_passes_a_limit_in_any_window(
    requests: list[tuple[float, int, bool]], wall_start: float
) -> None:
    from gateways.served.errors import BinanceError
    from gateways.served.limits import RequestLimiter

    limits = BinanceLimits(
        request_weight_per_minute=200, orders_per_10s=7, orders_per_day=40, ban_after=1_000
    )
    limiter = RequestLimiter(limits, 0.0, wall_start)
    now = 0.0
    weights: dict[int, int] = {}  # counted weight (refused requests count too) per wall-clock minute
    orders_10s: dict[int, int] = {}
    orders_day: dict[int, int] = {}
    refusals: list[BinanceError] = []
    for gap, weight, is_order in requests:
        now += gap
        wall = now + wall_start
        minute = int(wall // 60)
        weights[minute] = weights.get(minute, 0) + weight
        try:
            limiter.admit(weight, is_order, now)
        except BinanceError as error:
            refusals.append(error)
            continue
        assert weights[minute] <= limits.request_weight_per_minute
        if is_order:
            window, day = int(wall // 10), int(wall // 86_400)
            orders_10s[window] = orders_10s.get(window, 0) + 1
            orders_day[day] = orders_day.get(day, 0) + 1
            assert orders_10s[window] <= limits.orders_per_10s
            assert orders_day[day] <= limits.orders_per_day
    assert all(error.status == 429 and (error.retry_after or 0) >= 1 for error in refusals)
    assert limiter.statistics().violations == len(refusals)

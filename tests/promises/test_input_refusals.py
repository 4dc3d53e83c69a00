"""Bad input gets a clear error naming the parameter the user passed, and changes nothing: no
request reaches the venue."""

from __future__ import annotations

from typing import Any

import pytest

from engine import ExecutionEngine, InvalidInputError, OrderSide, RateLimitedOrderQueue, TWAPExecutor
from gateways.simulated import SimulatedVenue

NOT_FIXED = pytest.mark.xfail(strict=True, reason="issue 14, defect 7: not fixed yet")


@NOT_FIXED
@pytest.mark.parametrize("rate", [0, True, 2.5, -1, "10"])
async def test_an_executor_refuses_a_bad_rate_when_it_is_made(rate: Any) -> None:
    venue = SimulatedVenue.demo(seed=1)
    async with venue:
        with pytest.raises(InvalidInputError) as caught:
            TWAPExecutor(venue, max_orders_per_minute=rate)
        assert caught.value.field == "max_orders_per_minute"
    assert venue.request_log == ()


@NOT_FIXED
@pytest.mark.parametrize("quantity", [1e30, "1e30", 10**40])
async def test_an_executor_refuses_a_quantity_too_large_before_any_request(quantity: Any) -> None:
    venue = SimulatedVenue.demo(seed=1)
    async with venue:
        with pytest.raises(InvalidInputError) as caught:
            await TWAPExecutor(venue).execute("AAPL", quantity, OrderSide.BUY)
        assert caught.value.field == "total_quantity"
    assert venue.request_log == ()


@NOT_FIXED
@pytest.mark.parametrize("quantity", [1e30, -5, 0, "nan"])
async def test_an_engine_names_its_own_quantity_parameter(quantity: Any) -> None:
    venue = SimulatedVenue.demo(seed=1)
    async with venue, ExecutionEngine(venue) as engine:
        with pytest.raises(InvalidInputError) as caught:
            await engine.twap("AAPL", quantity, OrderSide.BUY)
        assert caught.value.field == "quantity"
    assert venue.request_log == ()


@NOT_FIXED
@pytest.mark.parametrize("seed", [True, "x", 1.5])
def test_an_engine_and_a_queue_refuse_a_seed_that_is_not_a_whole_number(seed: Any) -> None:
    venue = SimulatedVenue.demo(seed=1)
    with pytest.raises(InvalidInputError) as caught:
        ExecutionEngine(venue, seed=seed)
    assert caught.value.field == "seed"
    with pytest.raises(InvalidInputError) as caught:
        RateLimitedOrderQueue(venue, seed=seed)
    assert caught.value.field == "seed"


@NOT_FIXED
@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("quote_max_age", -1),
        ("quote_max_age", float("nan")),
        ("id_prefix", "far-too-long-prefix"),
        ("id_prefix", 5),
    ],
)
def test_an_engine_names_the_keyword_it_was_given(keyword: str, value: Any) -> None:
    venue = SimulatedVenue.demo(seed=1)
    with pytest.raises(InvalidInputError) as caught:
        ExecutionEngine(venue, **{keyword: value})
    assert caught.value.field == keyword

"""Bad input gets a clear error naming the parameter the user passed, and changes nothing: no
request reaches the venue."""

from __future__ import annotations

from typing import Any

import pytest

from engine import (
    AggressiveCompletionHandler,
    ExecutionEngine,
    ExecutionMonitor,
    InvalidInputError,
    OrderSide,
    RateLimitedOrderQueue,
    TWAPExecutor,
)
from gateways.simulated import SimulatedVenue


@pytest.mark.parametrize("rate", [0, True, 2.5, -1, "10"])
async def test_an_executor_refuses_a_bad_rate_when_it_is_made(rate: Any) -> None:
    venue = SimulatedVenue.demo(seed=1)
    async with venue:
        with pytest.raises(InvalidInputError) as caught:
            TWAPExecutor(venue, max_orders_per_minute=rate)
        assert caught.value.field == "max_orders_per_minute"
    assert venue.request_log == ()


@pytest.mark.parametrize("quantity", [1e30, "1e30", 10**40])
async def test_an_executor_refuses_a_quantity_too_large_before_any_request(quantity: Any) -> None:
    venue = SimulatedVenue.demo(seed=1)
    async with venue:
        with pytest.raises(InvalidInputError) as caught:
            await TWAPExecutor(venue).execute("AAPL", quantity, OrderSide.BUY)
        assert caught.value.field == "total_quantity"
    assert venue.request_log == ()


@pytest.mark.parametrize("quantity", [1e30, -5, 0, "nan"])
async def test_an_engine_names_its_own_quantity_parameter(quantity: Any) -> None:
    venue = SimulatedVenue.demo(seed=1)
    async with venue, ExecutionEngine(venue) as engine:
        with pytest.raises(InvalidInputError) as caught:
            await engine.twap("AAPL", quantity, OrderSide.BUY)
        assert caught.value.field == "quantity"
    assert venue.request_log == ()


@pytest.mark.parametrize("seed", [True, "x", 1.5])
def test_an_engine_and_a_queue_refuse_a_seed_that_is_not_a_whole_number(seed: Any) -> None:
    venue = SimulatedVenue.demo(seed=1)
    with pytest.raises(InvalidInputError) as caught:
        ExecutionEngine(venue, seed=seed)
    assert caught.value.field == "seed"
    with pytest.raises(InvalidInputError) as caught:
        RateLimitedOrderQueue(venue, seed=seed)
    assert caught.value.field == "seed"


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


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("settle_timeout", "x"),
        ("settle_timeout", float("nan")),
        ("max_attempts", True),
        ("max_attempts", 2.5),
        ("max_rounds", "many"),
        ("retry_delay", None),
        ("retry_delay", float("nan")),
    ],
)
def test_a_completion_handler_names_a_bad_setting(keyword: str, value: Any) -> None:
    venue = SimulatedVenue.demo(seed=1)
    queue = RateLimitedOrderQueue(venue)
    with pytest.raises(InvalidInputError) as caught:
        AggressiveCompletionHandler(venue, queue, ExecutionMonitor(venue), **{keyword: value})
    assert caught.value.field == keyword


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("lookup_timeout", "soon"), ("lookup_timeout", float("nan")), ("resubscribe_delay", None)],
)
def test_a_monitor_names_a_bad_setting(keyword: str, value: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        ExecutionMonitor(SimulatedVenue.demo(seed=1), **{keyword: value})
    assert caught.value.field == keyword


def test_reproducible_ids_need_a_seed() -> None:
    venue = SimulatedVenue.demo(seed=1)
    with pytest.raises(InvalidInputError) as caught:
        ExecutionEngine(venue, reproducible_ids=True)
    assert caught.value.field == "reproducible_ids"
    with pytest.raises(InvalidInputError) as caught:
        TWAPExecutor(venue, reproducible_ids=True)
    assert caught.value.field == "reproducible_ids"

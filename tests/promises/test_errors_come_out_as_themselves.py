"""An error raised in the user's ``async with`` block of the engine, the queue, the monitor or the
venue comes out as itself, not wrapped in an ``ExceptionGroup`` (as anyio's own context managers
do)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from engine import ExecutionEngine, ExecutionMonitor, InvalidInputError, RateLimitedOrderQueue
from gateways.simulated import SimulatedVenue

Opener = Callable[[SimulatedVenue], AbstractAsyncContextManager[Any]]

OPENERS: dict[str, Opener] = {
    "engine": lambda venue: ExecutionEngine(venue),
    "queue": lambda venue: RateLimitedOrderQueue(venue, 100),
    "monitor": lambda venue: ExecutionMonitor(venue),
}


@pytest.mark.parametrize("name", sorted(OPENERS))
async def test_an_error_in_the_block_comes_out_as_itself(name: str) -> None:
    venue = SimulatedVenue.demo(seed=1)
    error = InvalidInputError("weights", -1, "made up by the user's own code")
    async with venue:
        with pytest.raises(InvalidInputError) as caught:
            async with OPENERS[name](venue):
                raise error
    assert caught.value is error


async def test_an_error_in_the_venues_block_comes_out_as_itself() -> None:
    error = KeyError("the user's own")
    with pytest.raises(KeyError) as caught:
        async with SimulatedVenue.demo(seed=1):
            raise error
    assert caught.value is error


async def test_an_error_in_nested_blocks_comes_out_as_itself() -> None:
    venue = SimulatedVenue.demo(seed=1)
    error = RuntimeError("the user's own")
    with pytest.raises(RuntimeError) as caught:
        async with venue, ExecutionEngine(venue):
            raise error
    assert caught.value is error

"""Slice alarms: many parents waiting for one slice time share one loop timer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import pytest

from engine._twap.timing import SliceAlarms
from engine.clock import now


async def test_waiters_of_one_time_wake_at_that_exact_time_in_the_order_they_began_to_wait() -> None:
    alarms = SliceAlarms()
    woke: list[tuple[int, float]] = []

    async def wait(n: int, when: float) -> None:
        await alarms.wait_until(when)
        woke.append((n, now()))

    async with anyio.create_task_group() as group:
        for n, when in enumerate([30.0, 10.0, 30.0, 20.0, 10.0, 30.0]):
            group.start_soon(wait, n, when)
    assert woke == [(1, 10.0), (4, 10.0), (3, 20.0), (0, 30.0), (2, 30.0), (5, 30.0)]


async def test_one_loop_timer_serves_every_waiter_of_a_time() -> None:
    alarms = SliceAlarms()
    loop = asyncio.get_running_loop()
    timers_before = len(loop._scheduled)  # type: ignore[attr-defined]  # asyncio's timer heap
    futures = [alarms.wait_until(60.0) for _ in range(1_000)]
    futures.append(alarms.wait_until(120.0))
    assert len(loop._scheduled) == timers_before + 2  # type: ignore[attr-defined]  # idem
    assert "times=2 waiting=1001" in repr(alarms)
    await asyncio.gather(*futures)
    assert now() == 120.0
    assert repr(alarms) == "<SliceAlarms times=0 waiting=0>"


async def test_a_cancelled_waiter_is_skipped_and_the_others_still_wake() -> None:
    alarms = SliceAlarms()
    woke: list[str] = []
    loop_errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, context: loop_errors.append(context))

    async def wait(name: str) -> None:
        await alarms.wait_until(5.0)
        woke.append(name)

    with anyio.fail_after(60):  # a wake-up lost to an error would hang here
        await run_waiters(wait, alarms)
    assert woke == ["a", "b"]
    assert now() == 5.0
    assert loop_errors == [], "the alarm did not try to wake the cancelled waiter"


async def run_waiters(wait: Callable[[str], Coroutine[Any, Any, None]], alarms: SliceAlarms) -> None:
    async with anyio.create_task_group() as group:
        group.start_soon(wait, "a")
        with anyio.CancelScope() as scope:
            scope.cancel()
            with pytest.raises(asyncio.CancelledError):
                await alarms.wait_until(5.0)
        group.start_soon(wait, "b")

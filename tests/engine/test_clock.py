"""Time is virtual in tests and backtests."""

from __future__ import annotations

import asyncio
import multiprocessing
import warnings
from multiprocessing.connection import Connection

import anyio

from engine import is_virtual, now, run_virtual


async def test_async_tests_run_on_virtual_time() -> None:
    assert is_virtual()
    start = now()
    await anyio.sleep(3600)
    assert now() - start == 3600


def test_run_virtual_starts_at_the_given_time_and_jumps_timers() -> None:
    async def day_of_minutes(minutes: int) -> tuple[float, float, bool]:
        first = now()
        for _ in range(minutes):
            await anyio.sleep(60)
        return first, now(), is_virtual()

    first, last, virtual = run_virtual(day_of_minutes, 1440, start=1000.0)
    assert virtual
    assert first == 1000.0
    assert last == 1000.0 + 86400


async def test_readings_of_one_instant_share_one_float() -> None:
    # Thousands of records stamped at one virtual instant hold one float object, not one each.
    await anyio.sleep(1.5)
    first = now()
    assert first == 1.5
    assert now() is first


def test_the_clock_follows_whichever_loop_runs_in_the_thread_now() -> None:
    async def read() -> tuple[float, asyncio.AbstractEventLoop]:
        return now(), asyncio.get_running_loop()

    first_time, first_loop = run_virtual(read, start=5.0)
    second_time, second_loop = run_virtual(read, start=7.0)  # a new loop, after the first stopped
    assert (first_time, second_time) == (5.0, 7.0)
    assert first_loop is not second_loop


def test_a_thread_with_its_own_loop_reads_its_own_clock() -> None:
    seen: list[float] = []

    async def read_in_a_thread() -> float:
        # this loop's clock is at 1.0; the worker thread runs a loop whose clock is at 9.0
        await anyio.to_thread.run_sync(lambda: seen.append(run_virtual(_read_now, start=9.0)))
        return now()

    assert run_virtual(read_in_a_thread, start=1.0) == 1.0
    assert seen == [9.0]


async def _read_now() -> float:
    return now()


def test_a_forked_process_reads_its_own_loop_not_the_parent_s() -> None:
    # A backtest pool forks workers from a process that may be inside its own loop.
    context = multiprocessing.get_context("fork")

    async def fork_a_worker() -> list[object]:
        assert now() == 1000.0  # the parent's loop is the one found last
        receiving, sending = context.Pipe(duplex=False)
        worker = context.Process(target=_worker, args=(sending,))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # (3.12+ warns of forking with threads)
            worker.start()
        worker.join(30)
        return list(receiving.recv())

    assert run_virtual(fork_a_worker, start=1000.0) == ["no running loop", 500.0]


def _worker(sending: Connection) -> None:
    try:
        asyncio.get_running_loop()
        outside = "a loop was found"
    except RuntimeError:
        outside = "no running loop"
    sending.send([outside, run_virtual(_read_now, start=500.0)])

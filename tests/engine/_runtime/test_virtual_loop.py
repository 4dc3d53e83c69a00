"""The virtual-time loop: timers fire at their exact times, I/O and thread jobs take no time."""

from __future__ import annotations

import asyncio
import hashlib
import math
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import aiolimiter
import anyio
import anyio.to_thread
import pytest

from engine._runtime.virtual_loop import _STALL_PASSES, VirtualTimeLoop
from engine.clock import is_virtual, now, run_virtual, virtual_loop_factory
from engine.errors import InvalidInputError


def _loop() -> VirtualTimeLoop:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualTimeLoop)
    return loop


def _real_work() -> str:
    # A job that takes real time (tens of milliseconds) without sleeping: hashing releases the
    # GIL, so the loop thread is free to run (and would jump) while the job is still going.
    digest = hashlib.sha256()
    block = bytes(1 << 20)
    for _ in range(40):
        digest.update(block)
    return digest.hexdigest()


async def test_timers_fire_at_their_exact_times() -> None:
    loop = _loop()
    # Sums that floats cannot hold exactly, a wait below a microsecond, one beyond the day that
    # asyncio caps a select timeout at, and a timer far in the future.
    whens = [0.1 + 0.2, 1e-7, 86_400 * 3 + 0.123456789, 1e9 + 1 / 3, 7.000000000000001]
    fired: list[tuple[float, float]] = []
    done = asyncio.Event()

    def fire(when: float) -> None:
        fired.append((when, loop.time()))
        if len(fired) == len(whens):
            done.set()

    for when in whens:
        loop.call_at(when, fire, when)
    await done.wait()
    assert fired == sorted((when, when) for when in whens)


async def test_a_sleep_ends_exactly_its_length_later() -> None:
    start = now()
    await anyio.sleep(0.1)
    await anyio.sleep(0.2)
    assert now() == start + 0.1 + 0.2
    await anyio.sleep(1e-7)  # below any rounding step: still ends, and exactly
    assert now() == start + 0.1 + 0.2 + 1e-7


async def test_time_stands_still_while_anything_is_ready() -> None:
    loop = _loop()
    times: list[float] = []
    woke: list[float] = []
    loop.call_later(0.001, lambda: woke.append(loop.time()))
    jumps = loop.statistics().jumps
    for _ in range(1_000):
        await asyncio.sleep(0)  # ready again at once: the loop never idles
        times.append(loop.time())
    assert times == [0.0] * 1_000
    assert woke == []
    assert loop.statistics().jumps == jumps
    await anyio.sleep(0.001)
    assert woke == [0.001]


async def test_callbacks_scheduled_from_callbacks_run_at_one_instant() -> None:
    loop = _loop()
    seen: list[float] = []
    done = asyncio.Event()

    def chain(left: int) -> None:
        seen.append(loop.time())
        if left:
            loop.call_soon(chain, left - 1)
        else:
            done.set()

    loop.call_later(5, chain, 100)
    await done.wait()
    assert seen == [5.0] * 101


def test_a_thousand_tasks_sleeping_a_hundred_minutes_end_exactly_6000_seconds_later() -> None:
    async def many(tasks: int, sleeps: int) -> tuple[float, int, int]:
        ends: list[float] = []

        async def one() -> None:
            for _ in range(sleeps):
                await anyio.sleep(60)
            ends.append(now())

        async with anyio.create_task_group() as task_group:
            for _ in range(tasks):
                task_group.start_soon(one)
        assert ends == [ends[0]] * tasks
        statistics = _loop().statistics()
        return now(), statistics.jumps, statistics.real_waits

    end, jumps, real_waits = run_virtual(many, 1_000, 100, start=1_000.0)
    assert end == 1_000.0 + 6_000
    assert jumps == 100  # all tasks wake together: one jump per minute
    assert real_waits == 0  # no thread job: the clock never waits on the real one


async def test_real_io_is_delivered_without_moving_the_clock() -> None:
    loop = _loop()
    left, right = socket.socketpair()
    with left, right:
        left.setblocking(False)
        right.setblocking(False)
        late: list[float] = []

        async def far_timer() -> None:
            await anyio.sleep(100)
            late.append(now())

        async def writer() -> None:
            await anyio.sleep(5)
            right.send(b"ping")

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(far_timer)
            task_group.start_soon(writer)
            data = await loop.sock_recv(left, 16)
            received_at = now()
        assert data == b"ping"
        assert received_at == 5.0  # polled before jumping to the timer at 100
        assert late == [100.0]


async def test_a_thread_calling_back_wakes_a_loop_with_no_timers() -> None:
    loop = _loop()
    future: asyncio.Future[str] = loop.create_future()
    thread = threading.Thread(target=lambda: loop.call_soon_threadsafe(future.set_result, "done"))
    thread.start()
    assert await future == "done"
    thread.join()
    assert now() == 0.0


async def _to_thread(job: Callable[[], object]) -> object:
    return await anyio.to_thread.run_sync(job)


async def _in_executor(job: Callable[[], object]) -> object:
    return await asyncio.get_running_loop().run_in_executor(None, job)


THREAD_RUNNERS = [pytest.param(_to_thread, id="anyio.to_thread"), pytest.param(_in_executor, id="executor")]


@pytest.mark.parametrize("in_thread", THREAD_RUNNERS)
async def test_a_pending_thread_job_holds_the_clock_until_it_returns(
    in_thread: Callable[[Callable[[], object]], object],
) -> None:
    # The rule: a thread job that finishes before the next timer is due (in real seconds) takes
    # no virtual time, though every task waits while it runs.
    woke: list[float] = []

    async def sleeper() -> None:
        await anyio.sleep(3_600)
        woke.append(now())

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(sleeper)
        digest = await in_thread(_real_work)  # type: ignore[misc]  # both runners are awaitable
        returned_at = now()
        assert woke == []
    assert digest == _real_work()
    assert returned_at == 0.0
    assert woke == [3_600.0]
    statistics = _loop().statistics()
    assert statistics.thread_jobs_pending == 0
    assert statistics.real_waits >= 1


@pytest.mark.parametrize("in_thread", THREAD_RUNNERS)
async def test_a_thread_job_waiting_on_the_loop_lets_the_next_timer_fire(
    in_thread: Callable[[Callable[[], object]], object],
) -> None:
    # The other half of the rule: while a job is pending, virtual time runs at the real pace,
    # so a job that waits for a timer (or a timeout around a stuck job) does not hang the loop.
    gate = threading.Event()

    async def opener() -> None:
        await anyio.sleep(0.01)
        gate.set()

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(opener)
        opened = await in_thread(lambda: gate.wait(timeout=10))  # type: ignore[misc]  # idem
    assert opened is True
    assert now() == 0.01


async def test_timers_within_a_nanosecond_of_each_other_run_together() -> None:
    # asyncio runs every timer due within its clock resolution (1 ns) of the current time.
    loop = _loop()
    fired: list[tuple[float, float]] = []
    loop.call_at(0.1 + 0.2, lambda: fired.append((0.1 + 0.2, loop.time())))
    loop.call_at(0.3, lambda: fired.append((0.3, loop.time())))
    await anyio.sleep(1)
    assert fired == [(0.3, 0.3), (0.1 + 0.2, 0.3)]


def test_a_clock_started_at_a_unix_time_still_runs_timers_due_now_and_soon() -> None:
    # At 1.7e9 s a nanosecond is below the spacing of floats: timers must still be found due.
    async def steps() -> list[float]:
        loop = asyncio.get_running_loop()
        seen: list[float] = []
        due_now = asyncio.Event()
        loop.call_at(loop.time(), due_now.set)
        await due_now.wait()
        seen.append(now())
        for delay in (1e-3, 1e-7, 60.0):
            await anyio.sleep(delay)
            seen.append(now())
        return seen

    start = 1_700_000_000.123
    assert run_virtual(steps, start=start) == [
        start,
        start + 1e-3,
        start + 1e-3 + 1e-7,
        start + 1e-3 + 1e-7 + 60.0,
    ]


async def test_a_timer_re_armed_at_the_same_instant_steps_the_clock_to_the_next_float() -> None:
    # now + 1e-20 rounds to now: on a real clock time would pass; here the loop steps it.
    loop = _loop()
    await anyio.sleep(60)
    arms: list[float] = []
    done = asyncio.Event()

    def re_arm() -> None:
        arms.append(loop.time())
        if loop.time() == 60.0:
            loop.call_at(loop.time() + 1e-20, re_arm)
        else:
            done.set()

    re_arm()
    await done.wait()
    # The first call is direct; the loop steps the clock at its _STALL_PASSES-th pass at 60.
    assert arms == [60.0] * _STALL_PASSES + [math.nextafter(60.0, math.inf)]
    assert loop.statistics().stall_steps == 1


def test_aiolimiter_polling_a_hair_over_full_still_drains_on_virtual_time() -> None:
    # 100 per 60 s: float error leaves the bucket a hair over full and aiolimiter re-arms its
    # timer at the same instant; the run must still end, at the rate's time to within a hair.
    async def drain(count: int, workers: int) -> tuple[float, int]:
        limiter = aiolimiter.AsyncLimiter(100, 60)
        left = [count]

        async def worker() -> None:
            while left[0] > 0:
                left[0] -= 1
                async with limiter:
                    pass

        async with anyio.create_task_group() as task_group:
            for _ in range(workers):
                task_group.start_soon(worker)
        return now(), _loop().statistics().stall_steps

    end, steps = run_virtual(drain, 400, 16)
    assert steps > 0  # the case this test is about did happen
    assert end == pytest.approx(180.0, abs=1e-9)  # the first 100 at once, then 300 at 100 per 60 s


def test_run_virtual_gives_each_call_a_fresh_loop_starting_at_start() -> None:
    async def first_reading() -> tuple[float, asyncio.AbstractEventLoop]:
        reading = now()
        await anyio.sleep(10)
        return reading, asyncio.get_running_loop()

    first, first_loop = run_virtual(first_reading, start=250.0)
    second, second_loop = run_virtual(first_reading, start=250.0)
    assert (first, second) == (250.0, 250.0)
    assert first_loop is not second_loop
    assert first_loop.is_closed()
    assert run_virtual(first_reading)[0] == 0.0


def test_is_virtual_only_on_the_virtual_loop() -> None:
    async def check() -> bool:
        return is_virtual()

    assert run_virtual(check) is True
    assert anyio.run(check, backend="asyncio") is False
    assert asyncio.run(check()) is False


def test_the_loop_shows_its_clock() -> None:
    loop = virtual_loop_factory(42.5)()
    try:
        assert loop.time() == 42.5
        assert "time=42.5" in repr(loop)
        assert isinstance(loop, VirtualTimeLoop)
        assert loop.statistics().jumps == 0
    finally:
        loop.close()


@pytest.mark.parametrize("start", [float("nan"), float("inf"), "0", True])
def test_a_start_that_is_not_a_finite_number_is_refused(start: object) -> None:
    with pytest.raises(InvalidInputError) as raised:
        virtual_loop_factory(start)  # type: ignore[arg-type]  # the point of the test
    assert raised.value.field == "start"


def test_the_engine_does_not_import_pytest() -> None:
    # The loop is the engine's own: importing the engine loads no test framework (memory).
    code = "import engine, sys; print('pytest' in sys.modules, 'looptime' in sys.modules)"
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert result.stdout.split() == ["False", "False"]

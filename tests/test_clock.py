"""Time is virtual in tests and backtests."""

from __future__ import annotations

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

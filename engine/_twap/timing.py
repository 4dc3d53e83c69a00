"""When a parent's slices are due: their times, and waiting for them on either clock.

On virtual time parents that share a slice time share one loop timer (``SliceAlarms``); on a real
clock a parent sleeps and then yields through the last stretch, because the selector rounds
timeouts up to whole milliseconds (``sleep_until``).
"""

from __future__ import annotations

import asyncio

import anyio
import anyio.lowlevel

from engine.clock import now

__all__ = ["SliceAlarms", "sleep_until", "slice_times"]


class SliceAlarms:
    """Wake-ups at slice times on virtual time, one loop timer per distinct time.

    Parents planned together share their slice times, so thousands fall due at one instant; each
    timer of its own cost a handle and a heap push and pop among thousands. A waiter awaits a bare
    future in place: ``asyncio.sleep`` without its two coroutine frames (about 0.5 KB a waiting
    parent) and their steps at every wake-up. A cancelled wait cancels its future like any other;
    the alarm then skips it. Waiters of one time wake in the order they began to wait.
    """

    __slots__ = ("_due",)

    def __init__(self) -> None:
        self._due: dict[float, list[asyncio.Future[None]]] = {}

    def __repr__(self) -> str:
        return f"<SliceAlarms times={len(self._due)} waiting={sum(map(len, self._due.values()))}>"

    def wait_until(self, when: float) -> asyncio.Future[None]:
        """A future the loop resolves at loop time ``when``."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        waiters = self._due.get(when)
        if waiters is None:
            self._due[when] = [future]
            loop.call_at(when, self._ring, when)
        else:
            waiters.append(future)
        return future

    def _ring(self, when: float) -> None:
        for future in self._due.pop(when):
            if not future.done():  # cancelled meanwhile
                future.set_result(None)


# The selector rounds timeouts up to whole milliseconds, so on a real clock a timer fires up to
# a millisecond late; the last stretch before a slice is waited by yielding instead.
_SPIN_WINDOW = 0.002


async def sleep_until(deadline: float) -> None:
    """Sleep until ``deadline`` on a real clock, within a fraction of a millisecond."""
    delay = deadline - now()
    if delay > _SPIN_WINDOW:
        await asyncio.sleep(delay - _SPIN_WINDOW)
    while now() < deadline:
        await anyio.lowlevel.checkpoint()


_last_times: tuple[tuple[float, ...], float, tuple[float, ...]] = ((), 0.0, ())


def slice_times(start: float, offsets: tuple[float, ...]) -> tuple[float, ...]:
    """The slice times ``start + offset``, shared with the parent planned just before when its
    plan and start were the same (an ``execute_plan`` starts every trade at once, and plans of one
    shape are shared): thousands of parents then hold one set of times, not a float per slice."""
    global _last_times
    last_offsets, last_start, last = _last_times
    if offsets is last_offsets and start == last_start:
        return last
    times = tuple(start + offset for offset in offsets)
    _last_times = (offsets, start, times)
    return times

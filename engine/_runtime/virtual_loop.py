"""An asyncio event loop on virtual time: its clock jumps to the next timer whenever it would idle.

:class:`VirtualTimeLoop` is asyncio's selector loop with two changes:

- ``time()`` returns a virtual clock (a float attribute, so reading it costs one attribute load,
  and every reading of one instant is the same float object);
- its selector, asked to wait with a timeout (nothing is ready and a timer is due later), first
  polls real I/O without waiting, and if nothing arrived sets the clock to that timer's exact
  ``when`` and returns at once. A timer set for ``t`` therefore fires with ``time() == t``, with
  no rounding; real I/O is delivered and takes no virtual time. With no timer at all it blocks on
  the real selector, because only the outside world (I/O, a thread calling
  ``call_soon_threadsafe``) can then wake the loop.

Stalls. A timer set a hair after now can land exactly on now once rounded (``now + 1e-20``), so
it is due at once; code that polls for time to pass then re-arms it at the same instant forever,
where a real clock would have moved on. After 64 passes at one instant with nothing to run but
such timers, the clock steps to the next float.

Thread jobs. A job handed to a thread (``loop.run_in_executor``, ``anyio.to_thread.run_sync``)
runs on the real clock. While one is pending the clock does not jump: the loop waits on the real
selector for as long, in real seconds, as the next timer is away in virtual seconds. A job that
finishes within that wait takes no virtual time (the usual case, and deterministic); one that
runs longer lets the timer fire when the real wait ends, so virtual time never runs faster than
real time while a thread works, and a timeout around a stuck job still fires. Threads the loop
does not know about (a plain ``threading.Thread``) are not waited for.

What this relies on inside the libraries (checked when a loop is made or on first use, so a change
fails loudly rather than silently running on a wrong clock):

- ``BaseEventLoop._scheduled``: the heap of timer handles. ``_run_once`` drops cancelled handles
  from its head before it selects, so the head is the timer the loop is waiting for, even when
  it caps the timeout at a day;
- anyio's asyncio backend keeps its worker threads per loop in the run variables
  ``_threadpool_workers`` and ``_threadpool_idle_workers`` (``anyio.lowlevel._run_vars``): the
  busy workers are the ones not idle;
- ``BaseEventLoop._clock_resolution``: how close to ``time()`` a timer must be to run. It is a
  nanosecond; the loop widens it to the spacing of floats once the clock is so large (past about
  97 days, e.g. a clock started at a Unix time) that a nanosecond no longer moves a sum.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import math
import selectors
from collections.abc import Callable
from typing import Any, TypeVar, TypeVarTuple

import anyio.lowlevel
import attrs
from anyio._backends import _asyncio as anyio_asyncio

__all__ = ["VirtualLoopStatistics", "VirtualTimeLoop"]

# Passes at one instant with nothing to run but due timers before the clock steps (see _due_now).
_STALL_PASSES = 64

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

# anyio's per-loop run variables and the two holding its worker threads (see the module docstring).
# Read at import, so an anyio without them fails on import rather than jumping past thread jobs.
_anyio_run_vars: Any = anyio.lowlevel._run_vars
_anyio_workers: object = anyio_asyncio._threadpool_workers
_anyio_idle_workers: object = anyio_asyncio._threadpool_idle_workers


@attrs.frozen
class VirtualLoopStatistics:
    """A snapshot of a virtual-time loop: its clock, how often it jumped, what it waited for."""

    time: float
    jumps: int
    thread_jobs_pending: int
    real_waits: int
    stall_steps: int


class _VirtualSelector(selectors.DefaultSelector):
    """The loop's selector: a wait with a timeout becomes a jump of the loop's clock."""

    def __init__(self) -> None:
        super().__init__()
        self._loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        loop = self._loop
        if timeout == 0:
            # The hot path: the loop only polls. With no callback ready (nor a stop) a timer is
            # due at this very instant, which the loop counts so that it cannot stall there.
            if loop is not None and not loop._ready and not loop._stopping:
                loop._due_now()
            return super().select(0)
        if loop is None:
            return super().select(timeout)
        ready = super().select(0)
        if ready:
            return ready
        if timeout is None:
            return super().select(None)
        return loop._idle(timeout, super().select)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An asyncio selector event loop whose ``time()`` is virtual, starting at ``start``.

    The clock stands still while anything is ready to run and jumps straight to the next timer
    when every task waits. See the module docstring for I/O and thread jobs.
    """

    # Set by asyncio's loop, which does not declare them (see the module docstring).
    _scheduled: list[asyncio.TimerHandle]
    _clock_resolution: float
    _ready: collections.deque[asyncio.Handle]
    _stopping: bool
    _selector: selectors.BaseSelector

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._jumps = 0
        self._real_waits = 0
        self._executor_jobs = 0
        self._stalled_at = self._now
        self._stalled_passes = 0
        self._steps = 0
        selector = _VirtualSelector()
        super().__init__(selector)
        if not hasattr(self, "_scheduled"):
            raise RuntimeError("asyncio's loop keeps no _scheduled timer heap: virtual time cannot jump")
        if not hasattr(self, "_clock_resolution"):
            raise RuntimeError("asyncio's loop keeps no _clock_resolution: due timers cannot be found")
        self._follow_float_spacing(self._now)
        selector._loop = self

    def time(self) -> float:
        """The virtual clock in seconds."""
        return self._now

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: Callable[[*Ts], T],
        *args: *Ts,
    ) -> asyncio.Future[T]:
        """As asyncio's, and the clock does not jump while the job is pending (module docstring)."""
        future = super().run_in_executor(executor, func, *args)
        self._executor_jobs += 1
        future.add_done_callback(self._executor_job_done)
        return future

    def _executor_job_done(self, future: asyncio.Future[Any]) -> None:
        self._executor_jobs -= 1

    def _thread_jobs_pending(self) -> int:
        pending = self._executor_jobs
        run_vars = _anyio_run_vars.get(self)
        if run_vars:
            workers = run_vars.get(_anyio_workers)
            if workers:
                pending += len(workers) - len(run_vars[_anyio_idle_workers])
        return pending

    def _idle(
        self,
        timeout: float,
        real_select: Callable[[float | None], list[tuple[selectors.SelectorKey, int]]],
    ) -> list[tuple[selectors.SelectorKey, int]]:
        """Nothing is ready and a timer is due in ``timeout`` seconds: jump to it, or hold for threads."""
        if self._thread_jobs_pending() > 0:
            self._real_waits += 1
            ready = real_select(timeout)
            if ready:
                return ready
        self._now = now = self._scheduled[0].when()
        self._jumps += 1
        self._follow_float_spacing(now)
        return []

    def _due_now(self) -> None:
        """A pass with nothing to run but timers due at this instant; after many, step the clock.

        A timer set a hair after now (``now + 1e-20``, or a sum whose rounding lands on now) is due
        at once, and code that polls for time to pass (aiolimiter when float error leaves its
        bucket a hair over full) then re-arms it at the same instant forever: a real clock would
        have moved on. So after ``_STALL_PASSES`` such passes at one instant the clock moves to the
        next float. Deterministic, and no timer set for a later time is passed over.
        """
        if self._now != self._stalled_at:
            self._stalled_at = self._now
            self._stalled_passes = 0
        self._stalled_passes += 1
        if self._stalled_passes >= _STALL_PASSES:
            self._now = math.nextafter(self._now, math.inf)
            self._steps += 1

    def _follow_float_spacing(self, now: float) -> None:
        # asyncio runs the timers due before time() + _clock_resolution (a nanosecond). Past about
        # 97 days of clock a nanosecond is below the spacing of floats, the sum rounds back to
        # time() and a timer due exactly now would never run: widen the step to that spacing.
        if now + self._clock_resolution == now:
            self._clock_resolution = math.ulp(now)

    def close(self) -> None:
        """Close the loop (as asyncio's) and drop the selector's link back to it."""
        selector = self._selector
        super().close()
        if isinstance(selector, _VirtualSelector):
            selector._loop = None

    def statistics(self) -> VirtualLoopStatistics:
        """A snapshot: the clock, jumps, thread jobs pending, waits held for them, stall steps."""
        return VirtualLoopStatistics(
            time=self._now,
            jumps=self._jumps,
            thread_jobs_pending=self._thread_jobs_pending(),
            real_waits=self._real_waits,
            stall_steps=self._steps,
        )

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} time={self._now!r} jumps={self._jumps} "
            f"running={self.is_running()} closed={self.is_closed()}>"
        )

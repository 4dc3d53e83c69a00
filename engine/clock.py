"""Time: one engine clock, virtual in backtests and tests.

All waiting in ``engine/`` goes through anyio (``anyio.sleep``, ``fail_after``,
``move_on_after``), and every timestamp comes from :func:`now`, which is the running event loop's
clock. So the same code runs live on a real loop, or on virtual time on a loop whose clock jumps
straight to the next timer whenever every task is waiting (the engine's own
:class:`~engine._runtime.virtual_loop.VirtualTimeLoop`): a day of TWAP slices finishes in well under a
second. Timers fire at their exact times; real I/O and thread jobs take no virtual time.

Run any coroutine function of the engine on virtual time with :func:`run_virtual`::

    report = run_virtual(main, seed)      # like anyio.run(main, seed), on virtual time

Under pytest every async test already runs on virtual time (``tests/conftest.py`` hands this loop
to pytest-asyncio); ``run_virtual`` gives each call a fresh loop starting at ``start``, which suits
property-based tests that must be independent of each other.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar, TypeVarTuple, Unpack

import anyio

from engine._runtime.virtual_loop import VirtualTimeLoop
from engine.errors import InvalidInputError

__all__ = ["is_virtual", "now", "run_virtual", "virtual_loop_factory"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

# On virtual time thousands of orders, fills and events are stamped at one instant: they share
# the last reading's float object (24 bytes each otherwise). A real clock rarely reads the same twice.
_last_read = 0.0


def now() -> float:
    """The engine clock in seconds: the running loop's time (virtual in backtests)."""
    global _last_read
    try:
        current = asyncio.get_running_loop().time()
    except RuntimeError:  # not on asyncio: anyio asks the running backend
        return anyio.current_time()
    if current == _last_read:
        return _last_read
    _last_read = current
    return current


def virtual_loop_factory(start: float = 0.0) -> Callable[[], asyncio.AbstractEventLoop]:
    """A loop factory for ``anyio.run(..., backend_options={"loop_factory": ...})``.

    Each call of the factory makes a fresh virtual-time loop whose clock starts at ``start``.
    """
    if isinstance(start, bool) or not isinstance(start, int | float) or not math.isfinite(start):
        raise InvalidInputError("start", start, "must be a finite number of seconds")
    factory: Callable[[], asyncio.AbstractEventLoop] = partial(VirtualTimeLoop, float(start))
    return factory


def run_virtual(
    func: Callable[[Unpack[Ts]], Awaitable[T]], *args: *Ts, start: float = 0.0
) -> T:
    """Run ``func(*args)`` to completion on a fresh virtual-time asyncio loop and return its result.

    Time starts at ``start`` seconds and advances only when every task waits, straight to the next
    timer. Real I/O still works; it simply takes no virtual time.
    """
    options: dict[str, Any] = {"loop_factory": virtual_loop_factory(start)}
    return anyio.run(func, *args, backend="asyncio", backend_options=options)


def is_virtual() -> bool:
    """True when the running loop runs on virtual time."""
    return isinstance(asyncio.get_running_loop(), VirtualTimeLoop)

"""Decisions made while a parent runs: POV slice sizes, the adaptive schedule's crossing, and
when the completion window opens and how large each completion clip is.

Pure functions of what the runner knows (quantities, the observed volume rate, the size shown at
the touch); the runner and the completion handler call them.
"""

from __future__ import annotations

import math
from decimal import Decimal

from engine.instruments import Instrument
from engine.numbers import ZERO

__all__ = [
    "clip_quantity",
    "completion_opens",
    "completion_seconds",
    "cross_quantity",
    "pov_quantity",
]

# The completion window is this much longer than the remainder needs at the pace expected.
_WINDOW_MARGIN = 1.5


def pov_quantity(
    observed: Decimal,
    *,
    participation: float,
    min_rate: float,
    max_rate: float,
    needed_rate: float | None,
    instrument: Instrument,
) -> Decimal:
    """A POV slice: ``observed`` volume (since the last slice) times the participation, raised
    to ``needed_rate`` (what finishing by the deadline takes at the volume seen so far) and kept
    within ``[min_rate, max_rate]``; rounded down to the lot."""
    rate = participation if needed_rate is None else max(participation, needed_rate)
    rate = min(max(rate, min_rate), max_rate)
    return instrument.round_quantity(observed * Decimal(repr(rate)))


def cross_quantity(
    behind: Decimal, nominal_slice: Decimal, *, cross_after: float, cap: float, instrument: Instrument
) -> Decimal:
    """What the adaptive schedule crosses the spread for: nothing unless more than
    ``cross_after`` slices behind, then what it is behind, at most ``cap`` slices."""
    if behind <= nominal_slice * Decimal(repr(cross_after)) or behind <= 0:
        return ZERO
    return instrument.round_quantity(min(behind, nominal_slice * Decimal(repr(cap))))


def completion_seconds(
    unfilled: Decimal, *, volume_rate: float | None, max_rate: float, touch_size: Decimal | None
) -> float | None:
    """How long working ``unfilled`` in clips takes when the completion takes at most
    ``max_rate`` of the market's volume (the depth it takes refills with that volume), with a
    margin; ``None`` when the venue reports no volume or the touch shows nothing."""
    if unfilled <= 0:
        return 0.0
    if volume_rate is None or volume_rate <= 0 or max_rate <= 0:
        return None
    seconds = float(unfilled) / (volume_rate * max_rate)
    if touch_size is not None and touch_size > 0:
        # One clip per refill of the touch at least: no faster than the volume brings it back.
        clips = math.ceil(float(unfilled) / float(touch_size))
        seconds = max(seconds, clips * float(touch_size) / (volume_rate * max_rate))
    return seconds * _WINDOW_MARGIN


def completion_opens(
    now: float, deadline: float, *, needed: float | None, longest: float, next_check: float
) -> bool:
    """True when the completion window (``needed`` seconds, at most ``longest``; all of
    ``longest`` when the need is unknown) opens before ``next_check``: start completing now."""
    window = longest if needed is None else min(needed, longest)
    return window > 0 and next_check >= deadline - window and now < deadline


def clip_quantity(remainder: Decimal, touch_size: Decimal, instrument: Instrument) -> Decimal:
    """One completion clip: the remainder, at most what the touch shows (when it shows any),
    at least the smallest order (or the whole remainder below it); rounded to the lot."""
    clip = remainder if touch_size <= 0 else min(remainder, touch_size)
    clip = instrument.round_quantity(clip)
    smallest = instrument.min_order_quantity(None)
    if clip < smallest:
        clip = min(remainder, smallest)
    return clip

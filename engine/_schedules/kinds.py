"""The schedules a parent may be worked by."""

from __future__ import annotations

import enum
from typing import Any

from engine.fields import enum_member

__all__ = ["Schedule"]


class Schedule(enum.Enum):
    """How a parent's quantity is spread over time; every one runs through the same runner.

    ``TWAP``: equal slices. ``VWAP``: slices in proportion to a volume profile (``volume_profile``,
    or a U-shaped intraday default). ``POV``: each slice a share (``participation``, kept between
    ``min_rate`` and ``max_rate``) of the volume the market traded since the last slice.
    ``IMPLEMENTATION_SHORTFALL``: the Almgren–Chriss trajectory, front-loaded by
    ``risk_aversion``. ``ADAPTIVE``: rests at the touch and crosses a capped amount when more
    than ``cross_after`` slices behind the TWAP schedule.
    """

    TWAP = "twap"
    VWAP = "vwap"
    POV = "pov"
    IMPLEMENTATION_SHORTFALL = "implementation_shortfall"
    ADAPTIVE = "adaptive"

    @classmethod
    def parse(cls, value: Any, field: str = "schedule") -> Schedule:
        """Accept a ``Schedule``, its value in any case, or ``"almgren_chriss"`` / ``"is"``."""
        if isinstance(value, str) and value.strip().lower() in ("almgren_chriss", "is"):
            return cls.IMPLEMENTATION_SHORTFALL
        return enum_member(cls, value, field)

# attrs' mypy plugin reads only named functions as converters, and reports the rules of
# engine.fields as "unsupported" (it then types each __init__ argument as Any, which is right).
# mypy: disable-error-code="misc"
"""How a TWAP parent is worked: schedule, randomisation, catch-up, slice style, limits, completion."""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

import attrs

from engine._schedules.kinds import Schedule
from engine._schedules.profiles import check_profile
from engine.errors import InvalidInputError
from engine.fields import enum_member, finite, member, named, seed, whole
from engine.numbers import optional_non_negative, optional_positive

__all__ = ["CompletionPolicy", "Schedule", "SliceStyle", "TWAPParams"]


class CompletionPolicy(enum.Enum):
    """What to do when the slippage cap keeps the remainder from filling."""

    LEAVE_UNFILLED = "leave_unfilled"
    FINISH = "finish"

    @classmethod
    def parse(cls, value: object, field: str = "completion_policy") -> CompletionPolicy:
        """Accept a ``CompletionPolicy`` or its value ("finish", "leave_unfilled")."""
        return enum_member(cls, value, field)


class SliceStyle(enum.Enum):
    """How each slice is sent.

    ``MARKET`` sends a market order. The limit styles rest a limit order for up to
    ``rest_fraction`` of the interval, then cancel it (waiting for the confirmation) and re-price
    the confirmed rest: ``PASSIVE`` joins the near side (bid for a buy), ``MID`` the mid,
    ``TOUCH`` the far side (ask for a buy, so it usually fills at once).
    """

    MARKET = "market"
    PASSIVE = "passive"
    MID = "mid"
    TOUCH = "touch"

    @classmethod
    def parse(cls, value: Any, field: str = "style") -> SliceStyle:
        """Accept a ``SliceStyle`` or its value in any case."""
        return enum_member(cls, value, field)


@attrs.frozen(kw_only=True)
class TWAPParams:
    """Everything that shapes one TWAP parent; every field is validated when built.

    Timing: ``num_slices`` slices every ``interval_seconds``, starting at ``start_time`` (engine
    clock; ``None`` = now), or spread between ``start_time`` and ``end_time`` when an end is given.
    The end of the schedule is the deadline. ``size_jitter`` (±share of the slice size, below 1)
    and ``time_jitter`` (±share of the interval, up to 0.5) randomise from ``seed`` and the
    parent's number in its engine (parents that share a seed draw different jitter, each
    reproducibly).
    ``catch_up`` rolls a short slice's remainder into later slices, at most ``catch_up_cap`` ×
    the nominal slice (``None``: no cap). ``limit_price`` is a price the parent never trades
    beyond. At the deadline the remainder is sent marketable (``complete_at_deadline``), capped at
    ``max_slippage_bps`` from the arrival mid, under ``completion_policy``.

    ``schedule`` (see ``Schedule``) shapes the slices: ``volume_profile`` for VWAP,
    ``risk_aversion`` (κT of Almgren–Chriss) for implementation shortfall, ``participation``
    within ``min_rate`` and ``max_rate`` of observed volume for POV, ``cross_after`` and
    ``cross_cap`` (in slices) for the adaptive schedule. ``completion_window`` (seconds; ``None``:
    one marketable remainder at the deadline, as before) lets completion start up to that long
    before the deadline, as soon as the remainder needs it at ``max_rate`` of the observed volume,
    and work it in clips no larger than the touch shows, paced by that volume.
    """

    num_slices: int = attrs.field(default=10, converter=whole(minimum=1, maximum=100_000))
    interval_seconds: float | None = attrs.field(default=60.0, converter=finite(above=0, optional=True))
    start_time: float | None = attrs.field(default=None, converter=finite(optional=True))
    end_time: float | None = attrs.field(default=None, converter=finite(optional=True))
    size_jitter: float = attrs.field(default=0.0, converter=finite(minimum=0.0, maximum=0.9))
    time_jitter: float = attrs.field(default=0.0, converter=finite(minimum=0.0, maximum=0.5))
    seed: int | None = attrs.field(default=None, converter=seed())
    catch_up: bool = True
    catch_up_cap: Decimal | None = attrs.field(default=Decimal(2), converter=named(optional_positive))
    style: SliceStyle = attrs.field(default=SliceStyle.MARKET, converter=member(SliceStyle))
    offset_ticks: int = attrs.field(default=0, converter=whole(minimum=0))
    rest_fraction: float = attrs.field(default=0.5, converter=finite(above=0.0, maximum=1.0))
    limit_price: Decimal | None = attrs.field(default=None, converter=named(optional_positive))
    complete_at_deadline: bool = True
    max_slippage_bps: Decimal | None = attrs.field(default=None, converter=named(optional_non_negative))
    completion_policy: CompletionPolicy = attrs.field(
        default=CompletionPolicy.FINISH, converter=member(CompletionPolicy)
    )
    settle_timeout: float = attrs.field(default=10.0, converter=finite(above=0))
    schedule: Schedule = attrs.field(default=Schedule.TWAP, converter=named(Schedule.parse))
    volume_profile: tuple[float, ...] | None = attrs.field(default=None, converter=named(check_profile))
    risk_aversion: float = attrs.field(default=2.0, converter=finite(minimum=0.0, maximum=50.0))
    participation: float = attrs.field(default=0.1, converter=finite(above=0.0, maximum=1.0))
    min_rate: float = attrs.field(default=0.0, converter=finite(minimum=0.0, maximum=1.0))
    max_rate: float = attrs.field(default=0.5, converter=finite(above=0.0, maximum=1.0))
    cross_after: float = attrs.field(default=2.0, converter=finite(minimum=0.0))
    cross_cap: float = attrs.field(default=1.0, converter=finite(above=0.0))
    completion_window: float | None = attrs.field(default=None, converter=finite(above=0, optional=True))

    def __attrs_post_init__(self) -> None:
        if not self.min_rate <= self.participation <= self.max_rate:
            raise InvalidInputError(
                "participation", self.participation,
                f"not within min_rate {self.min_rate} and max_rate {self.max_rate}",
            )
        if self.end_time is None and self.interval_seconds is None:
            raise InvalidInputError("interval_seconds", None, "give interval_seconds or end_time")
        if self.end_time is not None and self.start_time is not None and self.end_time <= self.start_time:
            raise InvalidInputError("end_time", self.end_time, f"not after start_time {self.start_time}")

    def window(self, current_time: float) -> tuple[float, float]:
        """(start, duration) of the schedule given the engine clock now."""
        start = self.start_time if self.start_time is not None else current_time
        if self.end_time is not None:
            if self.end_time <= max(start, current_time):
                raise InvalidInputError("end_time", self.end_time, "is already past")
            return start, self.end_time - start
        assert self.interval_seconds is not None
        return start, self.num_slices * self.interval_seconds

    def evolve(self, **changes: Any) -> TWAPParams:
        """A copy with some fields changed (validated again)."""
        return attrs.evolve(self, **changes)

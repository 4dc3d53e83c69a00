"""How a TWAP parent is worked: schedule, randomisation, catch-up, slice style, limits, completion."""

from __future__ import annotations

import enum
import math
from decimal import Decimal
from typing import Any

import attrs

from engine._runtime.enums import parse_enum
from engine.aggressive_handler import CompletionPolicy
from engine.errors import InvalidInputError
from engine.numbers import optional_positive, to_non_negative, to_positive

__all__ = ["SliceStyle", "TWAPParams"]


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
        return parse_enum(cls, value, field)


def _finite(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise InvalidInputError(field, value, "expected a number")
    result = float(value)
    if not math.isfinite(result):
        raise InvalidInputError(field, value, "must be finite")
    return result


def _num_slices(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 100_000:
        raise InvalidInputError("num_slices", value, "expected a whole number from 1 to 100000")
    return value


def _interval(value: Any) -> float | None:
    if value is None:
        return None
    result = _finite(value, "interval_seconds")
    if result <= 0:
        raise InvalidInputError("interval_seconds", value, "must be greater than zero")
    return result


def _in_range(value: Any, field: str, low: float, high: float) -> float:
    result = _finite(value, field)
    if result > high or result < low:
        raise InvalidInputError(field, value, f"must lie in [{low}, {high}]")
    return result


def _seed(value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInputError("seed", value, "expected an int or None")
    return value


def _catch_up_cap(value: Any) -> Decimal | None:
    return optional_positive(value, "catch_up_cap")


def _limit_price(value: Any) -> Decimal | None:
    return optional_positive(value, "limit_price")


def _slippage(value: Any) -> Decimal | None:
    return None if value is None else to_non_negative(value, "max_slippage_bps")


def _offset_ticks(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError("offset_ticks", value, "expected a whole number ≥ 0")
    return value


def _style(value: Any) -> SliceStyle:
    return SliceStyle.parse(value)


def _policy(value: Any) -> CompletionPolicy:
    return CompletionPolicy.parse(value)


def _start_time(value: Any) -> float | None:
    return None if value is None else _finite(value, "start_time")


def _end_time(value: Any) -> float | None:
    return None if value is None else _finite(value, "end_time")


def _size_jitter(value: Any) -> float:
    return _in_range(value, "size_jitter", 0.0, 0.9)


def _time_jitter(value: Any) -> float:
    return _in_range(value, "time_jitter", 0.0, 0.5)


def _rest_fraction(value: Any) -> float:
    result = _in_range(value, "rest_fraction", 0.0, 1.0)
    if result == 0:
        raise InvalidInputError("rest_fraction", value, "must be greater than zero")
    return result


def _settle_timeout(value: Any) -> float:
    return float(to_positive(value, "settle_timeout"))


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
    """

    num_slices: int = attrs.field(default=10, converter=_num_slices)
    interval_seconds: float | None = attrs.field(default=60.0, converter=_interval)
    start_time: float | None = attrs.field(default=None, converter=_start_time)
    end_time: float | None = attrs.field(default=None, converter=_end_time)
    size_jitter: float = attrs.field(default=0.0, converter=_size_jitter)
    time_jitter: float = attrs.field(default=0.0, converter=_time_jitter)
    seed: int | None = attrs.field(default=None, converter=_seed)
    catch_up: bool = True
    catch_up_cap: Decimal | None = attrs.field(default=Decimal(2), converter=_catch_up_cap)
    style: SliceStyle = attrs.field(default=SliceStyle.MARKET, converter=_style)
    offset_ticks: int = attrs.field(default=0, converter=_offset_ticks)
    rest_fraction: float = attrs.field(default=0.5, converter=_rest_fraction)
    limit_price: Decimal | None = attrs.field(default=None, converter=_limit_price)
    complete_at_deadline: bool = True
    max_slippage_bps: Decimal | None = attrs.field(default=None, converter=_slippage)
    completion_policy: CompletionPolicy = attrs.field(default=CompletionPolicy.FINISH, converter=_policy)
    settle_timeout: float = attrs.field(default=10.0, converter=_settle_timeout)

    def __attrs_post_init__(self) -> None:
        if self.end_time is None and self.interval_seconds is None:
            raise InvalidInputError("interval_seconds", None, "give interval_seconds or end_time")
        if self.end_time is not None and self.start_time is not None and self.end_time <= self.start_time:
            raise InvalidInputError("end_time", self.end_time, f"not after start_time {self.start_time}")

    def schedule(self, current_time: float) -> tuple[float, float]:
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

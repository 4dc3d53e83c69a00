"""How a parent's quantity is spread over its slices: the weights of each schedule, in whole lots.

- TWAP: equal weights.
- VWAP: the share of the day's volume each slice's time span holds. ``volume_profile`` gives the
  volume of equal buckets over the schedule (any number of them, e.g. a replay's bars); a slice
  takes the buckets it covers, in proportion. Without one, a U-shaped intraday default: busier at
  both ends, ``1 + 2 (2x - 1)^2`` at the schedule's fraction ``x`` (three times the middle's
  volume at the open and the close).
- Implementation shortfall (Almgren & Chriss, "Optimal execution of portfolio transactions",
  Journal of Risk, 2000): holdings follow ``sinh(κ(T - t)) / sinh(κT)``, where
  ``κT = risk_aversion`` (the product of the horizon and ``sqrt(λσ²/η)``: the one number the
  trajectory depends on). 0 is TWAP; higher front-loads more.

``spread_lots`` turns weights into whole lots that sum exactly, none below the smallest order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from engine._schedules.kinds import Schedule
from engine.errors import InvalidInputError
from engine.fields import finite_number

__all__ = [
    "almgren_chriss_weights",
    "check_profile",
    "profile_weights",
    "schedule_weights",
    "spread_lots",
    "u_shaped_profile",
]


def u_shaped_profile(count: int) -> list[float]:
    """The default intraday volume profile sampled at the middle of ``count`` equal slices."""
    return [1.0 + 2.0 * (2.0 * ((i + 0.5) / count) - 1.0) ** 2 for i in range(count)]


def profile_weights(profile: Sequence[float], count: int) -> list[float]:
    """The volume each of ``count`` equal slices covers of ``profile`` (equal buckets over the
    same span), by overlap."""
    buckets = len(profile)
    weights = []
    for i in range(count):
        start, end = i * buckets / count, (i + 1) * buckets / count
        total = 0.0
        for bucket in range(math.floor(start), min(math.ceil(end), buckets)):
            overlap = min(end, bucket + 1) - max(start, bucket)
            if overlap > 0:
                total += overlap * float(profile[bucket])
        weights.append(total)
    if sum(weights) <= 0:
        return [1.0] * count  # (a profile of zeros says nothing: equal slices)
    return weights


def almgren_chriss_weights(count: int, risk_aversion: float) -> list[float]:
    """What each of ``count`` equal slices trades of the Almgren–Chriss trajectory with
    ``κT = risk_aversion``: holdings at the start of slice ``i`` minus holdings at its end."""
    if risk_aversion <= 1e-9:
        return [1.0] * count
    kappa_t = min(risk_aversion, 50.0)  # (sinh overflows far beyond any useful urgency)

    def holding(fraction: float) -> float:
        return math.sinh(kappa_t * (1.0 - fraction)) / math.sinh(kappa_t)

    return [holding(i / count) - holding((i + 1) / count) for i in range(count)]


def schedule_weights(
    schedule: Schedule, count: int, *, volume_profile: Sequence[float] | None, risk_aversion: float
) -> list[float] | None:
    """The weights of ``count`` slices under ``schedule``; ``None`` for equal slices (TWAP, and
    the schedules sized as they run: POV and adaptive keep the TWAP plan as their reference)."""
    if schedule is Schedule.VWAP:
        return profile_weights(volume_profile or u_shaped_profile(count), count)
    if schedule is Schedule.IMPLEMENTATION_SHORTFALL:
        return almgren_chriss_weights(count, risk_aversion)
    return None


def spread_lots(total_lots: int, weights: Sequence[float], min_lots: int) -> list[int]:
    """``total_lots`` spread in proportion to ``weights`` (largest remainders first, so the sum is
    exact), then each slice raised to ``min_lots`` from the largest. ``len(weights) * min_lots``
    must not exceed ``total_lots``."""
    count = len(weights)
    assert count * min_lots <= total_lots, "too many slices for the smallest order"
    scale = sum(weights)
    raw = [total_lots * w / scale for w in weights]
    lots = [int(r) for r in raw]
    order = sorted(range(count), key=lambda i: (-(raw[i] - int(raw[i])), i))
    for step in range(total_lots - sum(lots)):
        lots[order[step % count]] += 1
    for i in range(count):
        while lots[i] < min_lots:
            largest = max(range(count), key=lambda k: (lots[k], -k))
            lots[largest] -= 1
            lots[i] += 1
    return lots


def check_profile(value: object, field: str = "volume_profile") -> tuple[float, ...] | None:
    """A volume profile: ``None``, or a non-empty list of finite volumes ≥ 0, not all zero."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise InvalidInputError(field, value, "expected a non-empty list of volumes")
    try:
        volumes = tuple(finite_number(item, field, minimum=0.0) for item in value)
    except InvalidInputError as error:
        raise InvalidInputError(field, value, f"every volume must be a finite number ≥ 0 ({error})") from None
    if not any(volumes):
        raise InvalidInputError(field, value, "all volumes are zero")
    return volumes

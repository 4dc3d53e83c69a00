"""Schedule maths for a TWAP: how much to send at which time.

A parent order of ``total`` is cut into slices of whole lots. The lots that do not divide evenly are
spread across the schedule (not piled on the last slice). No slice is ever below the instrument's
minimum quantity or minimum notional: a small order gets fewer slices, and the plan says so.
Optional randomisation draws slice sizes (±``size_jitter``) and times (±``time_jitter`` of the
interval) from a ``random.Random`` owned by the caller, so the same seed gives the same plan.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from decimal import Decimal

import attrs

from engine._schedules.profiles import spread_lots
from engine.errors import InvalidInputError
from engine.instruments import Instrument

__all__ = ["SlicePlan", "catch_up_quantity", "plan_slices"]


@attrs.frozen
class SlicePlan:
    """The schedule of one parent: offsets from the start (seconds) and quantity per slice."""

    offsets: tuple[float, ...]
    quantities: tuple[Decimal, ...]
    duration: float
    requested_slices: int
    note: str | None = None

    @property
    def num_slices(self) -> int:
        """How many slices the plan holds (fewer than requested for a small order)."""
        return len(self.quantities)

    def scheduled_through(self, elapsed: float) -> Decimal:
        """Quantity the schedule wants sent by ``elapsed`` seconds after the start."""
        return sum(
            (q for offset, q in zip(self.offsets, self.quantities, strict=True) if offset <= elapsed),
            Decimal(0),
        )


def _spread_evenly(total_lots: int, count: int) -> list[int]:
    base, extra = divmod(total_lots, count)
    # Bresenham-style spreading: the extra lots land at evenly spaced slices, not all at one end.
    return [base + ((i + 1) * extra // count - i * extra // count) for i in range(count)]


def _spread_randomly(
    total_lots: int, count: int, min_lots: int, jitter: float, rng: random.Random
) -> list[int]:
    weights = [1.0 + rng.uniform(-jitter, jitter) for _ in range(count)]
    scale = total_lots / sum(weights)
    raw = [w * scale for w in weights]
    lots = [max(min_lots, int(r)) for r in raw]
    # Hand out or take back lots by largest fractional part so the sum is exact.
    order = sorted(range(count), key=lambda i: (-(raw[i] - int(raw[i])), i))
    step = 0
    while sum(lots) < total_lots:
        lots[order[step % count]] += 1
        step += 1
    while sum(lots) > total_lots:
        largest = max(range(count), key=lambda i: (lots[i], -i))
        lots[largest] -= 1
    return lots


# Thousands of parents may hold their plans at once, most of them alike: plans of one shape share
# their offsets (no time jitter) and their quantities (the same lots of the same lot size).
_SHARED_OFFSETS: dict[tuple[int, float], tuple[float, ...]] = {}
_SHARED_QUANTITIES: dict[tuple[tuple[int, ...], Decimal], tuple[Decimal, tuple[Decimal, ...]]] = {}
_SHARED_KEPT = 256


def _offsets(count: int, duration: float, time_jitter: float, rng: random.Random) -> tuple[float, ...]:
    key = (count, duration)
    shareable = time_jitter <= 0 and duration > 0  # a positive duration: no -0.0 or NaN in the key
    if shareable and (known := _SHARED_OFFSETS.get(key)) is not None:
        return known
    interval = duration / count
    offsets = []
    for i in range(count):
        offset = i * interval
        if time_jitter > 0:
            offset += rng.uniform(-time_jitter, time_jitter) * interval
        offsets.append(min(max(offset, 0.0), duration))
    offsets.sort()
    result = tuple(offsets)
    if shareable:
        if len(_SHARED_OFFSETS) >= _SHARED_KEPT:
            _SHARED_OFFSETS.clear()
        _SHARED_OFFSETS[key] = result
    return result


def _quantities(lots: list[int], lot_size: Decimal) -> tuple[Decimal, ...]:
    key = (tuple(lots), lot_size)
    known = _SHARED_QUANTITIES.get(key)
    # An equal lot size of another exponent (1 and 1.0) writes other quantities: not shared.
    if known is not None and known[0].same_quantum(lot_size):
        return known[1]
    # Slices of equal size share one Decimal.
    sizes: dict[int, Decimal] = {}
    result = tuple(sizes.setdefault(n, Decimal(n) * lot_size) for n in lots)
    if len(_SHARED_QUANTITIES) >= _SHARED_KEPT:
        _SHARED_QUANTITIES.clear()
    _SHARED_QUANTITIES[key] = (lot_size, result)
    return result


def plan_slices(
    total: Decimal,
    num_slices: int,
    duration: float,
    instrument: Instrument,
    reference_price: Decimal | None,
    *,
    size_jitter: float = 0.0,
    time_jitter: float = 0.0,
    rng: random.Random | None = None,
    weights: Callable[[int], Sequence[float] | None] | None = None,
    quantity_field: str = "total_quantity",
) -> SlicePlan:
    """Cut ``total`` into at most ``num_slices`` slices spread over ``duration`` seconds.

    ``weights`` gives the relative size of each of a number of slices (a schedule's profile;
    ``None``: equal slices, with ``size_jitter``).

    Raises ``InvalidInputError`` (naming ``quantity_field``) if ``total`` is off the lot grid or
    below one minimum slice.
    """
    if not instrument.lot_size or total % instrument.lot_size != 0:
        raise InvalidInputError(
            quantity_field, total, f"not a multiple of the lot size {instrument.lot_size}"
        )
    smallest = instrument.min_order_quantity(reference_price)
    if total < smallest:
        raise InvalidInputError(
            quantity_field, total, f"below the smallest order {smallest} of {instrument.symbol}"
        )
    total_lots = int(total / instrument.lot_size)
    min_lots = int(smallest / instrument.lot_size)
    count = min(num_slices, total_lots // min_lots)
    note = None
    if count < num_slices:
        note = f"{num_slices} slices requested, {count} planned: each slice must be at least {smallest}"
    generator = rng if rng is not None else random.Random(0)
    shape = weights(count) if weights is not None and count > 1 else None
    if shape is not None:
        lots = spread_lots(total_lots, shape, min_lots)
    elif size_jitter > 0 and count > 1:
        lots = _spread_randomly(total_lots, count, min_lots, size_jitter, generator)
    else:
        lots = _spread_evenly(total_lots, count)
    return SlicePlan(
        offsets=_offsets(count, duration, time_jitter, generator),
        quantities=_quantities(lots, instrument.lot_size),
        duration=duration,
        requested_slices=num_slices,
        note=note,
    )


def catch_up_quantity(
    *,
    scheduled_through: Decimal,
    committed: Decimal,
    remaining: Decimal,
    nominal_slice: Decimal,
    cap_multiple: Decimal | None,
    instrument: Instrument,
) -> Decimal:
    """What a slice should send so the parent is back on schedule.

    ``scheduled_through`` is what the schedule wants sent by now, ``committed`` what is filled or
    still working, ``remaining`` what the parent may still commit. The result is capped at
    ``cap_multiple`` × the nominal slice (``None``: no cap) and rounded down to the lot.
    """
    wanted = scheduled_through - committed
    if cap_multiple is not None:
        wanted = min(wanted, nominal_slice * cap_multiple)
    wanted = min(wanted, remaining)
    if wanted <= 0:
        return Decimal(0)
    quantity = instrument.round_quantity(wanted)
    # On schedule, a slice sends its nominal size: share the plan's Decimal, which every child
    # order of the parent then holds, instead of one copy per child.
    if quantity == nominal_slice and quantity.same_quantum(nominal_slice):
        return nominal_slice
    return quantity

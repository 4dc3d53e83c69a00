"""What a parent's schedule decides as it runs, beyond TWAP's fixed slices: POV slice sizes,
the adaptive schedule's crossing, and whether the completion window has opened.

The runner holds one ``SchedulePace`` per parent and feeds it every quote it samples; the maths
lives in ``engine._schedules``.
"""

from __future__ import annotations

from decimal import Decimal

from engine._schedules.kinds import Schedule
from engine._schedules.rules import completion_opens, completion_seconds, cross_quantity, pov_quantity
from engine._schedules.volume import CompletionPacing, VolumeMeter
from engine._twap.params import TWAPParams
from engine._twap.parent import ParentOrder
from engine._twap.pricing import bounded_price
from engine.market import Quote
from engine.numbers import ZERO
from engine.orders import OrderSide

__all__ = ["SchedulePace"]


class SchedulePace:
    """One parent's observed volume and the run-time decisions of its schedule."""

    __slots__ = ("_meter", "_params", "_parent")

    def __init__(self, params: TWAPParams, parent: ParentOrder) -> None:
        self._params = params
        self._parent = parent
        self._meter = VolumeMeter()

    def __repr__(self) -> str:
        return f"<SchedulePace {self._params.schedule.value} {self._meter!r}>"

    @property
    def needs_quotes(self) -> bool:
        """True when every slice needs a quote first (observed volume, the touch)."""
        params = self._params
        return params.schedule in (Schedule.POV, Schedule.ADAPTIVE) or params.completion_window is not None

    def observe(self, quote: Quote | None, current: float, next_check: float | None) -> bool:
        """Take a sampled quote's running volume; True when the completion window opens before
        ``next_check`` (the next slice; ``None``: the deadline): stop the schedule, complete now."""
        self._meter.observe(quote)
        deadline = self._deadline(current)
        return self.completion_opens(quote, current, deadline, deadline if next_check is None else next_check)

    def _deadline(self, current: float) -> float:
        return self._parent.deadline if self._parent.deadline is not None else current

    def slice_quantity(self, planned: Decimal, current: float) -> Decimal:
        """What this slice sends: ``planned`` (TWAP, VWAP, IS, adaptive) or, for POV, a share of
        the volume since the last slice (``planned`` until the venue has reported volume)."""
        params, parent = self._params, self._parent
        deadline = self._deadline(current)
        if params.schedule is not Schedule.POV:
            return planned
        observed = self._meter.since_mark()
        if observed is None:
            return planned
        self._meter.mark()
        rate = self._meter.rate()
        needed = None
        if rate is not None and rate > 0 and deadline > current:
            needed = float(parent.remaining) / (rate * (deadline - current))
        quantity = pov_quantity(
            observed, participation=params.participation, min_rate=params.min_rate,
            max_rate=params.max_rate, needed_rate=needed, instrument=parent.instrument,
        )
        return min(quantity, parent.instrument.round_quantity(parent.remaining))

    def cross(
        self, scheduled: Decimal, nominal: Decimal, quote: Quote | None
    ) -> tuple[Decimal, Decimal | None]:
        """For the adaptive schedule, what to cross the spread for now and at what limit (``None``:
        a market order): behind is what the schedule wanted by now and is not filled. Nothing for
        the other schedules, or without a quote."""
        params, parent = self._params, self._parent
        if params.schedule is not Schedule.ADAPTIVE or quote is None:
            return ZERO, None
        quantity = cross_quantity(
            scheduled - parent.filled, nominal, cross_after=params.cross_after, cap=params.cross_cap,
            instrument=parent.instrument,
        )
        # A market order (it takes what the book shows), or under a limit price an IOC at it.
        limit = params.limit_price
        price = None if limit is None else bounded_price(limit, limit, parent.side, parent.instrument)
        return min(quantity, parent.instrument.round_quantity(parent.remaining)), price

    def completion_opens(
        self, quote: Quote | None, current: float, deadline: float, next_check: float
    ) -> bool:
        """True when the completion window opens before ``next_check``: stop the schedule and
        complete now."""
        params, parent = self._params, self._parent
        if params.completion_window is None or not params.complete_at_deadline:
            return False
        touch = None
        if quote is not None:
            touch = quote.ask_size if parent.side is OrderSide.BUY else quote.bid_size
        needed = completion_seconds(
            parent.quantity - parent.filled, volume_rate=self._meter.rate(), max_rate=params.max_rate,
            touch_size=touch,
        )
        return completion_opens(
            current, deadline, needed=needed, longest=params.completion_window, next_check=next_check
        )

    def pacing(self, deadline: float) -> CompletionPacing | None:
        """How the completion paces its clips, or ``None`` for one marketable remainder."""
        if self._params.completion_window is None:
            return None
        return CompletionPacing(end=deadline, max_rate=self._params.max_rate, meter=self._meter)

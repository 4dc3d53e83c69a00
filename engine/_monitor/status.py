"""What the monitor reports: a parent's progress, and its own counters."""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine._twap.parent import ParentOrder, ParentState

__all__ = ["CompletionStatus", "MonitorStatistics"]


@attrs.frozen
class CompletionStatus:
    """A snapshot of one parent's progress.

    ``share_done`` is filled ÷ quantity, ``share_scheduled`` the share the schedule wanted sent by
    now; ``behind`` is the quantity the parent lags the schedule (negative when ahead).
    """

    parent_id: str
    symbol: str
    state: ParentState
    quantity: Decimal
    filled: Decimal
    remaining: Decimal
    share_done: Decimal
    share_scheduled: Decimal
    behind: Decimal
    deadline: float | None
    open_children: int
    timestamp: float

    @classmethod
    def of(cls, parent: ParentOrder, scheduled: Decimal, timestamp: float) -> CompletionStatus:
        """``parent``'s progress at ``timestamp``, when the schedule wanted ``scheduled`` sent
        (all of it once the deadline has passed)."""
        if parent.deadline is not None and timestamp >= parent.deadline:
            scheduled = parent.quantity
        return cls(
            parent_id=parent.parent_id,
            symbol=parent.symbol,
            state=parent.state,
            quantity=parent.quantity,
            filled=parent.filled,
            remaining=parent.unfilled,
            share_done=parent.filled / parent.quantity,
            share_scheduled=scheduled / parent.quantity,
            behind=scheduled - parent.filled,
            deadline=parent.deadline,
            open_children=len(parent.open_children),
            timestamp=timestamp,
        )

    @property
    def is_behind(self) -> bool:
        """True when filled lags what the schedule wanted by now."""
        return self.behind > 0

    @property
    def is_ahead(self) -> bool:
        """True when filled is ahead of the schedule."""
        return self.behind < 0

    @property
    def is_final(self) -> bool:
        """True once the parent will do nothing more."""
        return self.state.is_final


@attrs.frozen
class MonitorStatistics:
    """Counters of an ``ExecutionMonitor``."""

    parents: int
    open_parents: int
    routed_children: int
    events: int
    duplicate_events: int
    duplicate_fills: int
    unknown_events: int
    stream_drops: int
    reconciliations: int
    complete_through: int

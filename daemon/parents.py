"""``ParentRecord``: the service's state of one parent, across the engine runs that work it.

A parent is worked by one engine parent (a segment) per daemon run: after a restart the remaining
quantity is worked by a new segment. Its fills are counted here, by the service, once each (the
gateway passes each trade id on once), so ``filled`` spans every segment.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import attrs

from daemon.views import FINAL_STATES, ParentView, TwapRequest
from engine import CompletionStatus, EngineError, ExecutionReport, InvalidInputError, TWAPHandle

__all__ = ["ParentRecord"]

ZERO = Decimal(0)


@attrs.define
class ParentRecord:
    """One parent: its request, fills so far, current segment and, once final, its report."""

    parent_id: str
    request: TwapRequest
    created_at: float
    deadline_at: float
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    state: str = "pending"
    handle: TWAPHandle | None = None
    report: dict[str, Any] | None = None
    note: str | None = None
    cancel_requested: bool = False
    filled_before: Decimal = ZERO  # filled when the current segment started

    def attach(self, handle: TWAPHandle) -> None:
        """The engine parent now working this parent's remaining quantity."""
        self.handle = handle
        self.filled_before = self.filled
        self.state = "working"
        if self.cancel_requested:
            handle.cancel()

    def request_cancel(self) -> None:
        """Cancel: the segment stops its slices and cancels its children; final parents stay."""
        if self.is_final():
            return
        self.cancel_requested = True
        if self.handle is not None:
            self.handle.cancel()

    def add_fill(self, quantity: Decimal, price: Decimal) -> None:
        """One new fill (the caller has made sure it was not counted before)."""
        self.filled += quantity
        self.notional += quantity * price

    def finish(self, report: ExecutionReport | None, error: BaseException | None) -> None:
        """The segment is final: keep its report (or the error) and the final state."""
        self.handle = None
        if report is not None:
            # The engine's count of its segment is the venue's, also where a venue ended an order
            # without itemising its trades (no fill event reached the service for them).
            self.filled = max(self.filled, self.filled_before + report.filled_quantity)
            self.report = report.to_dict()
            self.state = report.final_state.value
            if self.filled >= self.request.quantity:
                self.state = "completed"
        else:
            self.state = "failed"
            self.note = str(error) if error is not None else "stopped before it reported"

    def is_final(self) -> bool:
        """True once nothing more happens to this parent."""
        return self.state in FINAL_STATES

    def _status(self) -> CompletionStatus | None:
        if self.handle is None or self.handle.done():
            return None
        try:
            return self.handle.status()
        except (InvalidInputError, EngineError):
            return None  # still being planned

    def state_name(self, status: CompletionStatus | None = None) -> str:
        """The state as ``ParentView.state`` shows it."""
        if self.handle is not None and not self.handle.done():
            status = status or self._status()
            return "pending" if status is None else status.state.value
        return self.state

    def view(self) -> ParentView:
        """A snapshot of this parent."""
        quantity = self.request.quantity
        status = self._status()
        open_children = 0 if status is None else status.open_children
        span = max(self.deadline_at - self.created_at, 1e-9)
        scheduled = min(max((time.time() - self.created_at) / span, 0.0), 1.0)
        return ParentView(
            parent_id=self.parent_id,
            symbol=self.request.symbol,
            side=self.request.side.value,
            quantity=quantity,
            filled=self.filled,
            remaining=quantity - self.filled,
            state=self.state_name(status),
            num_slices=self.request.num_slices,
            interval_seconds=self.request.interval_seconds,
            share_done=(self.filled / quantity).quantize(Decimal("0.0001")),
            share_scheduled=Decimal(str(round(scheduled, 4))),
            open_children=open_children,
            created_at=self.created_at,
            deadline_at=self.deadline_at,
            average_price=(self.notional / self.filled) if self.filled else None,
            report=self.report,
            note=self.note,
        )

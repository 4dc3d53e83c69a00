"""``ParentBook``: the service's parents, their segments and idempotency keys, journaled first.

Every change that must survive a crash is written to the journal before it takes effect in memory
(a parent before it is acknowledged; a segment before its first child can leave; a final state
with its report). Without a journal the book is memory only.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from daemon.errors import IdempotencyKeyReusedError
from daemon.journal import Journal, ParentRow
from daemon.parents import ParentRecord
from daemon.views import PlannedTradeView, RebalanceView, TwapRequest
from engine import ExecutionReport, InvalidInputError, TWAPHandle

__all__ = ["ParentBook", "rebalance_from_dict"]

_FINAL_JOURNALED = frozenset({"completed", "cancelled", "failed", "expired"})


def rebalance_from_dict(data: dict[str, Any]) -> RebalanceView:
    """A ``RebalanceView`` back from its ``to_dict()``."""
    decimals = ("quantity", "reference_price", "estimated_price", "notional", "estimated_fee")
    trades = []
    for trade in data["trades"]:
        values: dict[str, Any] = {k: Decimal(v) if k in decimals else v for k, v in trade.items()}
        trades.append(PlannedTradeView(**values))
    return RebalanceView(
        rebalance_id=data["rebalance_id"],
        dry_run=data["dry_run"],
        trades=tuple(trades),
        parent_ids=tuple(data["parent_ids"]),
        portfolio_value=Decimal(data["portfolio_value"]),
        cash_before=Decimal(data["cash_before"]),
        cash_after=Decimal(data["cash_after"]),
    )


class ParentBook:
    """Parents by id, the engine parent (segment) each works through, and idempotency keys."""

    def __init__(self, journal: Journal | None) -> None:
        self._journal = journal
        self.records: dict[str, ParentRecord] = {}
        self.segments: dict[str, ParentRecord] = {}  # engine parent id -> the parent it works for
        self._keys: dict[str, tuple[str, dict[str, Any], str | RebalanceView]] = {}

    def __repr__(self) -> str:
        return f"<ParentBook parents={len(self.records)} journal={self._journal is not None}>"

    def load(self) -> list[ParentRow]:
        """Read every parent and idempotency key back from the journal; returns the rows."""
        if self._journal is None:
            return []
        rows = self._journal.parents()
        for row in rows:
            self.records[row.parent_id] = ParentRecord(
                parent_id=row.parent_id,
                request=row.request,
                created_at=row.created_at,
                deadline_at=row.deadline_at,
                filled=row.filled,
                notional=row.notional,
                state=row.state if row.state in _FINAL_JOURNALED else "recovering",
                report=None if row.report is None else dict(row.report),
                note=row.note,
            )
        for key, kind, body, result_id, result in self._journal.idempotency_keys():
            stored: str | RebalanceView = result_id if result is None else rebalance_from_dict(result)
            self._keys[key] = (kind, body, stored)
        return rows

    # --- idempotency -----------------------------------------------------------------------------

    def first_result(self, key: str | None, kind: str, body: dict[str, Any]) -> str | RebalanceView | None:
        """What ``key`` made before (a parent id or a rebalance), if the same request used it."""
        if key is None:
            return None
        if not isinstance(key, str) or not key or len(key) > 200:
            raise InvalidInputError("idempotency_key", key, "expected 1 to 200 characters")
        found = self._keys.get(key)
        if found is None:
            return None
        first_kind, first_body, result = found
        first_id = result if isinstance(result, str) else result.rebalance_id
        if first_kind != kind or first_body != body:
            raise IdempotencyKeyReusedError(key, first_id)
        return result

    def remember_rebalance(self, key: str, body: dict[str, Any], view: RebalanceView) -> None:
        """A rebalance made under ``key`` (journaled)."""
        if self._journal is not None:
            self._journal.record_rebalance(key, body, view.to_dict())
        self._keys[key] = ("rebalance", body, view)

    # --- parents ---------------------------------------------------------------------------------

    def add(
        self, parent_id: str, request: TwapRequest, *, key: str | None, body: dict[str, Any]
    ) -> ParentRecord:
        """A new parent, journaled (with its key) before anything else happens to it."""
        created = time.time()
        record = ParentRecord(
            parent_id=parent_id, request=request, created_at=created, deadline_at=created + request.duration
        )
        if self._journal is not None:
            self._journal.record_parent(
                parent_id,
                request,
                created_at=created,
                deadline_at=record.deadline_at,
                idempotency=None if key is None else (key, body),
            )
        self.records[parent_id] = record
        if key is not None:
            self._keys[key] = ("twap", body, parent_id)
        return record

    def discard(self, record: ParentRecord, key: str | None) -> None:
        """Forget a parent refused before anything was sent."""
        if self._journal is not None:
            self._journal.delete_parent(record.parent_id)
        self.records.pop(record.parent_id, None)
        if key is not None:
            self._keys.pop(key, None)

    def attach(self, record: ParentRecord, handle: TWAPHandle, quantity: Decimal) -> None:
        """``handle`` now works ``quantity`` of the parent; journaled before its first child leaves."""
        if self._journal is not None:
            self._journal.record_segment(handle.parent_id, record.parent_id, quantity)
        self.segments[handle.parent_id] = record
        record.attach(handle)

    def finish(
        self, record: ParentRecord, report: ExecutionReport | None, error: BaseException | None
    ) -> None:
        """The segment ended: the parent's final state and report, journaled."""
        if report is not None:
            self.segments.pop(report.parent_id, None)
        record.finish(report, error)
        if self._journal is not None:
            self._journal.record_parent_state(
                record.parent_id, record.state, report=record.report, note=record.note
            )

    def settle(self, record: ParentRecord, state: str, note: str | None = None) -> None:
        """Set a parent's state without a segment (recovery: done, cancelled, held)."""
        record.handle = None
        record.state = state
        record.note = note
        if self._journal is not None and state != "held":
            # A held parent stays open in the journal, for a daemon on its own venue.
            self._journal.record_parent_state(record.parent_id, state, note=note)

    def cancelling(self, record: ParentRecord) -> None:
        """A cancel was asked: journaled so that a restart does not resume the parent."""
        if self._journal is not None and not record.is_final():
            self._journal.record_parent_state(record.parent_id, "cancelling")

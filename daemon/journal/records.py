"""The rows the journal reads back, as frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from daemon.views import TwapRequest

__all__ = ["FINAL_CHILD_STATES", "NEVER_SENT", "ChildRow", "FillRow", "JournalSummary", "ParentRow", "RunRow"]

# A child in one of these has ended at the venue (``not_sent``: it never reached it).
FINAL_CHILD_STATES = frozenset({"filled", "cancelled", "rejected", "expired", "not_sent"})

# The reason recovery gives a child the venue does not know: its request cannot still be on its
# way (the process that sent it is gone). The same answer during a run may precede the request's
# arrival, so a child found unknown then is looked up again by the next start.
NEVER_SENT = "never reached the venue (looked up on recovery)"


@attrs.frozen(kw_only=True)
class RunRow:
    """One start of a daemon on this journal."""

    run: int
    started_at: float
    prefix: str
    venue: str
    account: str


@attrs.frozen(kw_only=True)
class ParentRow:
    """One parent as journaled, with the sum of its children's journaled fills."""

    parent_id: str
    request: TwapRequest
    created_at: float
    deadline_at: float
    state: str
    report: Mapping[str, Any] | None = attrs.field(hash=False)
    note: str | None
    venue: str
    account: str
    filled: Decimal
    notional: Decimal


@attrs.frozen(kw_only=True)
class ChildRow:
    """One child order as journaled.

    ``status`` is ``sending`` (journaled, maybe not acknowledged), ``acked``, ``cancel_requested``
    or a final one (``FINAL_CHILD_STATES``); ``filled`` sums its journaled fills and
    ``final_filled`` is what the venue said had filled when it ended.
    """

    client_order_id: str
    segment_id: str | None
    parent_id: str | None
    symbol: str
    side: str
    quantity: Decimal
    status: str
    filled: Decimal
    final_filled: Decimal | None
    reason: str | None = None

    @property
    def is_settled(self) -> bool:
        """True when the journal knows the child's end and holds every fill of it."""
        if self.status not in FINAL_CHILD_STATES:
            return False
        if self.status == "not_sent":
            return self.reason == NEVER_SENT
        if self.final_filled is not None:
            return self.filled >= self.final_filled
        return self.status != "filled" or self.filled >= self.quantity


@attrs.frozen(kw_only=True)
class FillRow:
    """One fill, unique by the venue's trade id."""

    trade_id: str
    client_order_id: str
    quantity: Decimal
    price: Decimal
    fee: Decimal


@attrs.frozen(kw_only=True)
class JournalSummary:
    """What a journal holds, in counts."""

    path: str
    schema_version: int
    venue: str | None
    account: str | None
    runs: tuple[RunRow, ...]
    parents_by_state: Mapping[str, int] = attrs.field(hash=False)
    children_by_status: Mapping[str, int] = attrs.field(hash=False)
    fills: int

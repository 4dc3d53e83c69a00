"""Recovery on start: settle every child the journal does not know to be final, then decide per parent.

For each parent the journal holds open:

- journaled on another venue or account than the one running: left alone and reported (``held``);
  a journal never reconciles against a venue it did not trade on;
- otherwise each of its unsettled children is looked up by client order id at the venue (never
  resent): unknown there means it never left (final, nothing filled); still working means it is
  cancelled and waited for until final; its fills are folded into the journal once each (the
  journal keys them by trade id). Then the parent's remaining quantity is worked as its
  ``on_restart`` policy says: resumed over what is left of its schedule (at once if the deadline
  has passed), completed at once, or cancelled.

The look-ups and cancels go through the engine's queue, so recovery keeps the venue's limits too.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from decimal import Decimal

import anyio
import attrs
import structlog

from daemon.journal import NEVER_SENT, ChildRow, Journal, ParentRow
from daemon.views import RecoveryPolicy
from engine import GatewayError, OrderSnapshot, RateLimitedOrderQueue, UnknownOrderError

__all__ = ["ParentPlan", "RecoveryReport", "plan_parent", "plan_recovery"]

_log = structlog.get_logger("daemon.recovery")

# Journal states of a parent that is not final.
OPEN_STATES = frozenset({"pending", "working", "completing", "cancelling"})


@attrs.frozen(kw_only=True)
class ParentPlan:
    """What the service does with one open parent: ``action`` is ``resume`` (with ``num_slices`` ×
    ``interval_seconds`` left), ``complete`` (send the rest at once), ``cancel``, ``done`` (nothing
    remains) or ``held`` (left for the operator, ``note`` says why)."""

    row: ParentRow
    action: str
    remaining: Decimal
    num_slices: int = 1
    interval_seconds: float = 1.0
    note: str | None = None


@attrs.frozen(kw_only=True)
class RecoveryReport:
    """What recovery found and did."""

    parents: tuple[ParentPlan, ...]
    children_looked_up: int
    children_unknown: int
    children_cancelled: int
    children_unsettled: int
    children_by_status: tuple[tuple[str, int], ...] = ()

    def counts(self) -> dict[str, int]:
        """Parents per action."""
        result: dict[str, int] = {}
        for plan in self.parents:
            result[plan.action] = result.get(plan.action, 0) + 1
        return result


@attrs.define
class _Tally:
    looked_up: int = 0
    unknown: int = 0
    cancelled: int = 0
    unsettled: int = 0


async def _settle(
    child: ChildRow,
    queue: RateLimitedOrderQueue,
    journal: Journal,
    tally: _Tally,
    *,
    patience: float,
    poll: float,
) -> bool:
    """Look the child up until it is final, cancelling it if it still works; True once settled."""
    with anyio.move_on_after(patience):
        cancel_sent = False
        while True:
            tally.looked_up += 1
            try:
                snapshot: OrderSnapshot = await queue.lookup(child.client_order_id)
            except UnknownOrderError:
                # Its sender is gone, so its request is not on its way any more: it never left.
                tally.unknown += 1
                journal.record_not_sent(child.client_order_id, NEVER_SENT)
                return True
            except GatewayError as error:
                _log.warning("look-up failed; retrying", child_id=child.client_order_id, error=str(error))
                await anyio.sleep(poll)
                continue
            if snapshot.status.is_final:
                return True
            if not cancel_sent:
                result = await queue.cancel(child.client_order_id)
                cancel_sent = result.ok
                tally.cancelled += int(cancel_sent)
            await anyio.sleep(poll)
    return False


async def plan_recovery(
    journal: Journal,
    queue: RateLimitedOrderQueue,
    *,
    venue: str,
    account: str,
    settle_timeout: float = 30.0,
    poll_interval: float = 0.2,
    concurrency: int = 16,
) -> RecoveryReport:
    """Settle the children of the journal's open parents and plan each parent; see the module."""
    open_rows = [row for row in journal.parents() if row.state in OPEN_STATES]
    ours = {row.parent_id for row in open_rows if (row.venue, row.account) == (venue, account)}
    children = [child for child in journal.children(unsettled_only=True) if child.parent_id in ours]
    tally = _Tally()
    unsettled: set[str] = set()
    limiter = anyio.CapacityLimiter(concurrency)

    async def settle(child: ChildRow) -> None:
        async with limiter:
            if not await _settle(child, queue, journal, tally, patience=settle_timeout, poll=poll_interval):
                assert child.parent_id is not None
                unsettled.add(child.parent_id)
                tally.unsettled += 1

    async with anyio.create_task_group() as task_group:
        for child in children:
            task_group.start_soon(settle, child)
    # Read again: the settled children's fills are in the journal now.
    rows = [row for row in journal.parents() if row.parent_id in {r.parent_id for r in open_rows}]
    plans = tuple(plan_parent(row, venue, account, row.parent_id in unsettled) for row in rows)
    report = RecoveryReport(
        parents=plans,
        children_looked_up=tally.looked_up,
        children_unknown=tally.unknown,
        children_cancelled=tally.cancelled,
        children_unsettled=tally.unsettled,
        children_by_status=tuple(sorted(Counter(child.status for child in children).items())),
    )
    _log.info(
        "recovery planned",
        parents=report.counts(),
        looked_up=tally.looked_up,
        unknown=tally.unknown,
        cancelled=tally.cancelled,
        unsettled_children=dict(report.children_by_status),
    )
    for plan in plans:
        if plan.action == "held":
            _log.warning("parent left for the operator", parent_id=plan.row.parent_id, note=plan.note)
    return report


def plan_parent(row: ParentRow, venue: str, account: str, unsettled: bool) -> ParentPlan:
    """What to do with one open parent once its children are settled (``unsettled``: one is not)."""
    request = row.request
    remaining = request.quantity - row.filled
    if (row.venue, row.account) != (venue, account):
        note = (
            f"journaled on venue {row.venue!r} account {row.account!r}, but this daemon runs on "
            f"{venue!r} account {account!r}: not reconciled; left for the operator"
        )
        return ParentPlan(row=row, action="held", remaining=remaining, note=note)
    if unsettled:
        note = "a child could not be settled at the venue in time; left for the operator"
        return ParentPlan(row=row, action="held", remaining=remaining, note=note)
    if remaining <= 0:
        return ParentPlan(row=row, action="done", remaining=Decimal(0))
    if row.state == "cancelling" or request.on_restart is RecoveryPolicy.CANCEL:
        return ParentPlan(row=row, action="cancel", remaining=remaining)
    time_left = row.deadline_at - time.time()
    if request.on_restart is RecoveryPolicy.COMPLETE or time_left < 1.0:
        return ParentPlan(row=row, action="complete", remaining=remaining)
    # Never stretched past the schedule's own length (a clock set back makes the deadline far).
    time_left = min(time_left, request.duration)
    slices = max(1, math.ceil(request.num_slices * time_left / request.duration - 1e-9))
    return ParentPlan(
        row=row, action="resume", remaining=remaining, num_slices=slices, interval_seconds=time_left / slices
    )

"""The execution monitor: the only consumer of a gateway's events, and the keeper of parent state.

One subscription feeds every parent. Each event is routed by client order id to its child and
parent; the accounting in ``engine._twap.parent`` keeps the no-overfill and conservation rules.
Events are deduped twice: by venue sequence number (a replay after a dropped stream repeats
events) and by trade id (a venue may deliver a fill twice). After a drop the monitor resubscribes
from the highest sequence below which it has seen everything, so nothing is missed.

Children whose send ended in doubt are resolved by looking the client order id up at the venue
(``reconcile``), never by guessing. At a parent's deadline ``supervise_deadline`` hands an
incomplete parent to the deadline handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import attrs
import structlog

from engine._monitor.sequence import EventSequence
from engine._monitor.status import CompletionStatus, MonitorStatistics
from engine._queue.handle import OrderResult, OrderResultStatus
from engine._runtime.groups import holds_only
from engine._runtime.logs import writes_debug
from engine._twap.child import ChildOrder, ChildState
from engine._twap.parent import ParentOrder, ParentState
from engine._twap.slicing import SlicePlan
from engine.clock import now
from engine.errors import (
    EventStreamDroppedError,
    GatewayError,
    GatewayUnavailableError,
    InvalidInputError,
    UnknownOrderError,
)
from engine.events import (
    ExecutionEvent,
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSnapshot,
    OrderStatus,
)
from engine.fields import finite_number
from engine.gateway import TradingGateway
from engine.numbers import ZERO

__all__ = ["CompletionStatus", "ExecutionMonitor", "MonitorStatistics"]

_log = structlog.get_logger(__name__)


_FINAL_STATUS = {
    OrderStatus.FILLED: ChildState.FILLED,
    OrderStatus.CANCELLED: ChildState.CANCELLED,
    OrderStatus.REJECTED: ChildState.REJECTED,
    OrderStatus.EXPIRED: ChildState.EXPIRED,
}


@attrs.define
class _Tracked:
    parent: ParentOrder
    plan: SlicePlan | None
    started_at: float
    # One bare future per waiter (the engine runs on asyncio), not an anyio.Event: thousands of
    # parents may wait at once at their deadline, and an event costs about 0.9 KB each.
    changed: list[asyncio.Future[None]] | None = None


class ExecutionMonitor:
    """Consumes the gateway's events, keeps every parent's state and wakes whoever waits on it.

    Run it with ``async with monitor:`` (its own task) or ``await task_group.start(monitor.run)``.
    Parents are registered with ``track`` and children with ``add_child`` *before* they are sent,
    so no event can arrive for an order the monitor does not know. ``lookup`` is how ``reconcile``
    asks the venue for an order (by default ``gateway.get_order``; an engine passes its order
    queue's ``lookup``, so look-ups count against the venue's limits).
    """

    def __init__(
        self,
        gateway: TradingGateway,
        *,
        lookup_timeout: float = 5.0,
        resubscribe_delay: float = 0.05,
        lookup: Callable[[str], Awaitable[OrderSnapshot]] | None = None,
    ) -> None:
        lookup_timeout = finite_number(lookup_timeout, "lookup_timeout", above=0.0)
        resubscribe_delay = finite_number(resubscribe_delay, "resubscribe_delay", minimum=0.0)
        self._gateway = gateway
        self._lookup = gateway.get_order if lookup is None else lookup
        self._lookup_timeout = lookup_timeout
        self._resubscribe_delay = resubscribe_delay
        self._parents: dict[str, _Tracked] = {}
        # Child id → its tracked parent (the child itself is the parent's, by the same id): one
        # shared reference per child rather than a pair each.
        self._routes: dict[str, _Tracked] = {}
        self._child_waiters: dict[str, anyio.Event] = {}
        self._sequence = EventSequence()
        self._events = self._duplicate_fills = 0
        self._unknown_events = self._drops = self._reconciliations = 0
        self._task_group: anyio.abc.TaskGroup | None = None
        # Bound once: a call on the module's lazy proxy would assemble a new logger every time.
        self._log = _log.bind()
        self._debug = writes_debug(self._log)

    def __repr__(self) -> str:
        open_parents = sum(1 for t in self._parents.values() if not t.parent.state.is_final)
        return (
            f"<ExecutionMonitor parents={len(self._parents)} open={open_parents} "
            f"events={self._events} complete_through={self._sequence.complete_through}>"
        )

    def statistics(self) -> MonitorStatistics:
        """A frozen snapshot of the counters."""
        return MonitorStatistics(
            parents=len(self._parents),
            open_parents=sum(1 for t in self._parents.values() if not t.parent.state.is_final),
            routed_children=len(self._routes),
            events=self._events,
            duplicate_events=self._sequence.repeated,
            duplicate_fills=self._duplicate_fills,
            unknown_events=self._unknown_events,
            stream_drops=self._drops,
            reconciliations=self._reconciliations,
            complete_through=self._sequence.complete_through,
        )

    async def __aenter__(self) -> ExecutionMonitor:
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        await self._task_group.start(self.run)
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        assert self._task_group is not None
        self._task_group.cancel_scope.cancel()
        try:
            return await self._task_group.__aexit__(*exc_info)
        except BaseExceptionGroup as group:
            if holds_only(group, exc_info[1]):
                return None  # the block's own error comes out as itself
            raise
        finally:
            self._task_group = None

    # -- the event stream ------------------------------------------------------------------

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Consume events until cancelled (or the gateway ends its stream); resubscribe on drops."""
        task_status.started()
        while True:
            try:
                async for event in self._gateway.events(after_sequence=self._sequence.complete_through):
                    self.handle_event(event)
            except (EventStreamDroppedError, GatewayUnavailableError) as error:
                self._drops += 1
                self._log.warning(
                    "event stream dropped; resubscribing",
                    after_sequence=self._sequence.complete_through,
                    error=str(error),
                )
                await anyio.sleep(self._resubscribe_delay)
                continue
            return

    def handle_event(self, event: ExecutionEvent) -> None:
        """Apply one event (deduped by sequence, fills also by trade id) to its child and parent."""
        if not self._sequence.is_new(event.sequence):
            return
        self._events += 1
        tracked = self._routes.get(event.client_order_id)
        if tracked is None:
            self._unknown_events += 1
            return
        parent = tracked.parent
        child = parent.child(event.client_order_id)
        was_final = child.state.is_final
        if isinstance(event, OrderFilled):
            if child.has_trade(event.trade_id):
                self._duplicate_fills += 1
                return
            parent.apply_fill(child, event)
        elif isinstance(event, OrderAccepted):
            if child.state is not ChildState.PENDING and child.state is not ChildState.UNKNOWN:
                return  # the queue's answer came first (it usually does): nothing changes
            child.accept()
        elif isinstance(event, OrderCancelled):
            parent.finish_child(
                child, ChildState.CANCELLED, event.filled_quantity, event.timestamp, event.reason
            )
        elif isinstance(event, OrderExpired):
            parent.finish_child(
                child, ChildState.EXPIRED, event.filled_quantity, event.timestamp, event.reason
            )
        elif isinstance(event, OrderRejected):
            parent.finish_child(child, ChildState.REJECTED, ZERO, event.timestamp, event.reason)
        self._after_change(tracked, child, was_final)

    # -- registration and results of sends ---------------------------------------------------

    def track(
        self, parent: ParentOrder, plan: SlicePlan | None = None, started_at: float | None = None
    ) -> None:
        """Start keeping the state of ``parent`` (with its schedule, for behind/ahead)."""
        if parent.parent_id in self._parents:
            raise InvalidInputError("parent_id", parent.parent_id, "already tracked")
        self._parents[parent.parent_id] = _Tracked(
            parent, plan, started_at if started_at is not None else now()
        )

    def forget(self, parent_id: str) -> None:
        """Drop a final parent and its routes (frees memory in long runs)."""
        tracked = self._parents.pop(parent_id, None)
        if tracked is not None:
            for child in tracked.parent.children:
                self._routes.pop(child.client_order_id, None)
                # A wait given up on a child that never ended leaves its event behind.
                self._child_waiters.pop(child.client_order_id, None)

    def parent(self, parent_id: str) -> ParentOrder:
        """The tracked parent with this id."""
        return self._tracked(parent_id).parent

    def _tracked(self, parent_id: str) -> _Tracked:
        try:
            return self._parents[parent_id]
        except KeyError:
            raise InvalidInputError("parent_id", parent_id, "not tracked by this monitor") from None

    def add_child(self, parent_id: str, child: ChildOrder) -> None:
        """Register a child before it is sent; refuses one that could overfill its parent."""
        tracked = self._parents[parent_id]
        tracked.parent.add_child(child)
        self._routes[child.client_order_id] = tracked
        self._notify(tracked)

    def fold_children(self, parent: ParentOrder, client_order_ids: tuple[str, ...]) -> bool:
        """Fold final, fully priced children into their parent's totals
        (``ParentOrder.fold_children``) and stop routing their events: a late one can change
        nothing, and counts as unknown. Return False, changing nothing, if one is not foldable."""
        if not parent.fold_children(client_order_ids):
            return False
        routes = self._routes
        for cid in client_order_ids:
            routes.pop(cid, None)
        return True

    def _route(self, client_order_id: str) -> tuple[_Tracked, ChildOrder]:
        try:
            tracked = self._routes[client_order_id]
        except KeyError:
            raise InvalidInputError(
                "client_order_id",
                client_order_id,
                "not a child order this monitor follows (never added, its parent forgotten, or "
                "final and folded into its parent's totals)",
            ) from None
        return tracked, tracked.parent.child(client_order_id)

    def transition(self, parent_id: str, state: ParentState, reason: str | None = None) -> None:
        """Move a parent along its transition table (raises ``IllegalTransitionError`` if not allowed)."""
        tracked = self._parents[parent_id]
        tracked.parent.transition(state, now(), reason)
        self._log.info("parent state", parent_id=parent_id, state=state.value, reason=reason)
        self._notify(tracked)

    def record_result(self, client_order_id: str, result: OrderResult) -> None:
        """Record what the queue made of a child's send."""
        if result.status is OrderResultStatus.ACCEPTED:
            self.record_accepted(client_order_id, result.sent_at)
        elif result.status is OrderResultStatus.CANCELLED:
            self.record_not_sent(client_order_id, ChildState.CANCELLED, "cancelled before sending")
        elif result.status is OrderResultStatus.REJECTED:
            self.record_not_sent(client_order_id, ChildState.REJECTED, str(result.error or "rejected"))
        elif result.sent_at is None:
            # FAILED before it ever left (deadline or attempts used up unsent): the venue never saw it.
            self.record_not_sent(client_order_id, ChildState.REJECTED, str(result.error or "not sent"))
        else:
            # FAILED: the queue could not settle it; treat it as unknown until a look-up says otherwise.
            self.record_unknown(client_order_id, str(result.error or "failed"))

    def record_accepted(self, client_order_id: str, sent_at: float | None) -> None:
        """The venue acknowledged the child."""
        tracked, child = self._route(client_order_id)
        child.sent_at = sent_at
        child.accept()
        if self._debug:
            self._log.debug("child accepted", parent_id=tracked.parent.parent_id, child_id=client_order_id)
        self._notify(tracked)

    def record_not_sent(self, client_order_id: str, state: ChildState, reason: str) -> None:
        """The child never reached the venue (rejected, or cancelled before sending): nothing filled."""
        tracked, child = self._route(client_order_id)
        was_final = child.state.is_final
        tracked.parent.finish_child(child, state, ZERO, now(), reason)
        self._after_change(tracked, child, was_final)

    def record_unknown(self, client_order_id: str, reason: str) -> None:
        """The send's outcome is open: the child stays committed until ``reconcile`` settles it."""
        tracked, child = self._route(client_order_id)
        child.mark_unknown(reason)
        self._log.warning(
            "child state unknown; will look it up",
            parent_id=tracked.parent.parent_id,
            child_id=client_order_id,
            reason=reason,
        )
        self._notify(tracked)

    async def reconcile(self, client_order_id: str) -> ChildState:
        """Look the child up at the venue and apply what it says; return the child's state."""
        tracked, child = self._route(client_order_id)
        self._reconciliations += 1
        try:
            with anyio.fail_after(self._lookup_timeout):
                snapshot = await self._lookup(client_order_id)
        except UnknownOrderError:
            # The venue never received it: nothing can fill, the quantity is free again.
            was_final = child.state.is_final
            tracked.parent.finish_child(child, ChildState.REJECTED, ZERO, now(), "never reached the venue")
            self._after_change(tracked, child, was_final)
            return child.state
        except (GatewayError, TimeoutError) as error:
            self._log.warning("look-up failed", client_order_id=client_order_id, error=str(error))
            return child.state
        self.apply_snapshot(snapshot)
        return child.state

    def apply_snapshot(self, snapshot: OrderSnapshot) -> None:
        """Apply a venue snapshot: its fills (deduped) and, if final, its final state."""
        tracked = self._routes.get(snapshot.client_order_id)
        if tracked is None:
            return
        parent = tracked.parent
        child = parent.child(snapshot.client_order_id)
        was_final = child.state.is_final
        for fill in snapshot.fills:
            parent.apply_fill(child, fill)
        final = _FINAL_STATUS.get(snapshot.status)
        if final is not None:
            parent.finish_child(child, final, snapshot.filled_quantity, snapshot.updated_at)
        else:
            child.accept()
        self._after_change(tracked, child, was_final)

    # -- waiting -----------------------------------------------------------------------------

    def status(self, parent_id: str) -> CompletionStatus:
        """A snapshot of the parent's progress now."""
        tracked = self._tracked(parent_id)
        parent = tracked.parent
        elapsed = now() - tracked.started_at
        scheduled = tracked.plan.scheduled_through(elapsed) if tracked.plan is not None else parent.quantity
        return CompletionStatus.of(parent, scheduled, now())

    async def wait_child_final(self, client_order_id: str) -> ChildState:
        """Wait until the child is final; return its state."""
        _, child = self._route(client_order_id)
        while not child.state.is_final:
            event = self._child_waiters.get(client_order_id)
            if event is None:
                event = self._child_waiters[client_order_id] = anyio.Event()
            await event.wait()
        return child.state

    async def wait_changed(self, parent_id: str) -> None:
        """Wait until anything about the parent changes."""
        tracked = self._parents[parent_id]
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if tracked.changed is None:
            tracked.changed = [future]
        else:
            tracked.changed.append(future)
        try:
            await future
        except BaseException:
            waiters = tracked.changed
            if waiters is not None and future in waiters:  # gave up before a change came
                waiters.remove(future)
            raise

    async def wait_complete(self, parent_id: str) -> CompletionStatus:
        """Wait until the parent is fully filled or final; return its status."""
        parent = self._parents[parent_id].parent
        while not parent.state.is_final and parent.filled < parent.quantity:
            await self.wait_changed(parent_id)
        return self.status(parent_id)

    async def subscribe(self, parent_id: str) -> AsyncIterator[CompletionStatus]:
        """Yield the parent's status now and after every change, until it is final."""
        while True:
            status = self.status(parent_id)
            yield status
            if status.is_final:
                return
            await self.wait_changed(parent_id)

    async def supervise_deadline(self, parent_id: str, handler: Callable[[str], Awaitable[object]]) -> bool:
        """Wait for the parent to fill or its deadline; at an incomplete deadline run ``handler``.

        Returns True if the handler ran.
        """
        parent = self._parents[parent_id].parent
        done = parent.state.is_final or parent.filled >= parent.quantity
        if parent.deadline is not None and not done:
            with anyio.move_on_after(max(0.0, parent.deadline - now())):
                await self.wait_complete(parent_id)
        if parent.state.is_final or parent.filled >= parent.quantity:
            return False
        self._log.info("deadline reached incomplete", parent_id=parent_id, filled=str(parent.filled))
        await handler(parent_id)
        return True

    # -- the one place that wakes waiters ----------------------------------------------------

    def _after_change(self, tracked: _Tracked, child: ChildOrder, was_final: bool) -> None:
        parent = tracked.parent
        if child.state.is_final and not was_final:
            waiter = self._child_waiters.pop(child.client_order_id, None)
            if waiter is not None:
                waiter.set()
            if self._debug:
                self._log.debug(
                    "child final",
                    parent_id=parent.parent_id,
                    child_id=child.client_order_id,
                    state=child.state.value,
                    filled=child.filled,
                    reason=child.reason,
                )
        if parent.filled >= parent.quantity and parent.state in (ParentState.WORKING, ParentState.COMPLETING):
            parent.transition(ParentState.COMPLETED, now())
            self._log.info("parent state", parent_id=parent.parent_id, state="completed")
        self._notify(tracked)

    def _notify(self, tracked: _Tracked) -> None:
        waiters = tracked.changed
        if waiters is not None:
            tracked.changed = None
            for future in waiters:
                if not future.done():
                    future.set_result(None)

"""The scheduler of one TWAP parent: one task that sends its slices, then finishes it.

The run has three phases, all in one task:

1. **Schedule**, bounded by the deadline: at each slice time send what the schedule (with
   catch-up) asks, sized from what is committed, so returned quantity is sent again and nothing is
   ever sent twice. A failed or rejected child is recorded and the schedule goes on.
2. **Deadline**: the monitor waits for the parent to fill or its deadline, and hands an
   incomplete parent to the ``AggressiveCompletionHandler`` (earlier, when a completion window
   opens: the schedule then ends at that slice, see ``SchedulePace``).
3. **Report**: settle open children, reach a final state, build the ``ExecutionReport``.

``cancel()`` stops new slices at once and cancels the resting children.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import anyio
import anyio.lowlevel
import structlog

from engine._twap.child import ChildOrder, ChildState
from engine._twap.mids import MidSamples
from engine._twap.pace import SchedulePace
from engine._twap.params import SliceStyle, TWAPParams
from engine._twap.parent import ParentOrder, ParentState
from engine._twap.parts import RunnerParts
from engine._twap.pricing import slice_price, within_limit
from engine._twap.report import ExecutionReport, OrderSlice, SliceRecord, build_report, order_slice
from engine._twap.slicing import SlicePlan, catch_up_quantity
from engine._twap.timing import sleep_until, slice_times
from engine.aggressive_handler import AggressiveCompletionHandler, describe_unsettled
from engine.clock import is_virtual, now
from engine.market import Quote
from engine.numbers import ZERO
from engine.orders import Order, OrderSide, TimeInForce

__all__ = ["ParentRunner"]

_log = structlog.get_logger(__name__)


def _is_final(child: ChildOrder) -> bool:
    # A call, so the type checker does not narrow the child's state across awaits.
    return child.state.is_final


class ParentRunner:
    """Runs one parent order from first slice to report; see the module docstring."""

    # Slots: an engine may hold tens of thousands of runners at once.
    __slots__ = (
        "_arrival",
        "_cancel_requested",
        "_completion_handler",
        "_deadline_timer",
        "_early",
        "_folded",
        "_interval",
        "_mids",
        "_new_id",
        "_notes",
        "_pace",
        "_params",
        "_parent",
        "_parts",
        "_plan",
        "_quote_first",
        "_records",
        "_scope",
        "_sending",
        "_start",
        "_stop_pending",
        "_times",
        "_virtual",
        "report",
    )

    def __init__(
        self,
        parts: RunnerParts,
        parent: ParentOrder,
        plan: SlicePlan,
        params: TWAPParams,
        *,
        start: float,
        arrival: Quote | None,
    ) -> None:
        self._parts = parts
        self._parent = parent
        self._plan = plan
        self._params = params
        self._start = start
        self._arrival = arrival
        # The interval TWAP of the mid needs only a running sum, not every sample.
        self._mids = MidSamples(arrival)
        self._times = slice_times(start, plan.offsets)
        assert len(self._times) == len(plan.quantities)  # (a plan gives a quantity per slice time)
        # A slice's record, made as the schedule reaches it (before waiting for its time), until
        # its report line replaces it (see ``_fold_finished``). Not made up front: thousands of
        # parents may each plan hundreds of slices, and every record is one more object for the
        # collector to walk.
        self._records: list[SliceRecord | OrderSlice] = []
        self._notes: list[str] = [plan.note] if plan.note else []
        self._folded = 0  # the slices before this one have their report lines made
        self._interval = plan.duration / max(plan.num_slices, 1)
        self._pace = SchedulePace(params, parent)
        self._early = False  # the completion window opened before the deadline
        self._quote_first = (
            self._pace.needs_quotes
            or params.style is not SliceStyle.MARKET
            or params.limit_price is not None
            or parent.instrument.min_notional > 0
        )
        self._cancel_requested = False
        self._scope: anyio.CancelScope | None = None
        # A child's send is never cut short (the books must see its outcome): a stop of the
        # schedule (the deadline, cancel()) that comes while one is out takes effect after it.
        self._sending = False
        self._stop_pending = False
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._virtual = is_virtual()
        self._completion_handler: AggressiveCompletionHandler | None = None
        self._new_id = parts.new_child_id
        self.report: ExecutionReport | None = None

    def _handler(self) -> AggressiveCompletionHandler:
        # Made when first needed: most parents only need it to settle at the end.
        if self._completion_handler is None:
            self._completion_handler = AggressiveCompletionHandler(
                self._parts.gateway,
                self._parts.queue,
                self._parts.monitor,
                max_slippage_bps=self._params.max_slippage_bps,
                max_rounds=100 if self._params.completion_window is None else 2_000,
                policy=self._params.completion_policy,
                settle_timeout=self._params.settle_timeout,
                new_client_order_id=self._parts.new_child_id,
            )
        return self._completion_handler

    @property
    def _log(self) -> structlog.typing.FilteringBoundLogger:
        # Bound when a line is written, not held: tens of thousands of runners may wait at once.
        return self._parts.log.bind(parent_id=self._parent.parent_id, symbol=self._parent.symbol)

    def __repr__(self) -> str:
        return f"<ParentRunner {self._parent!r} cancel_requested={self._cancel_requested}>"

    @property
    def params(self) -> TWAPParams:
        """The parameters this runner works its parent with."""
        return self._params

    @property
    def parent(self) -> ParentOrder:
        """The parent order this runner works."""
        return self._parent

    def cancel(self) -> None:
        """Stop sending slices and cancel the resting children; the run then reports."""
        self._cancel_requested = True
        if self._scope is not None:
            self._stop()

    def _stopped(self) -> bool:
        # A stop was called (it takes effect at the next wait, which may not come before a send).
        scope = self._scope
        return scope is not None and scope.cancel_called

    def _stop(self) -> None:
        # Cancel the current scope, or once the child being sent has its outcome.
        if self._sending:
            self._stop_pending = True
        elif self._scope is not None:
            self._scope.cancel()

    async def run(self) -> ExecutionReport:
        """Work the parent to a final state and return its report."""
        monitor, parent = self._parts.monitor, self._parent
        pid = parent.parent_id
        completed_aggressively = False
        if not self._cancel_requested:
            monitor.transition(pid, ParentState.WORKING)
        deadline = parent.deadline if parent.deadline is not None else self._start
        try:
            # One scope ends the schedule, at the deadline or on cancel(): thousands of parents
            # wait here at once, and each scope costs memory. Its deadline is a timer of the
            # runner's own rather than the scope's, so that it can wait for a send (see _stop).
            with anyio.CancelScope() as self._scope:
                if self._cancel_requested or deadline <= now():
                    self._scope.cancel()
                else:
                    self._deadline_timer = asyncio.get_running_loop().call_at(deadline, self._stop)
                try:
                    await self._run_schedule()
                    # The last slice's mid may be on its way: take it here, where a waiting
                    # parent holds little (thousands may wait at once), not while it settles.
                    await self._mids.wait_pending()
                finally:
                    if self._deadline_timer is not None:
                        self._deadline_timer.cancel()
                        self._deadline_timer = None
            if self._params.complete_at_deadline and not self._cancel_requested:
                with anyio.CancelScope() as self._scope:
                    if self._early and not parent.state.is_final and parent.filled < parent.quantity:
                        await self._complete(pid)
                        completed_aggressively = True
                    else:
                        completed_aggressively = await monitor.supervise_deadline(pid, self._complete)
        except anyio.get_cancelled_exc_class():
            # Cancelled from outside (a timeout around the execution, a shutdown), not by its own
            # scope: leave nothing resting at the venue (settling runs shielded and bounded).
            await self._handler().settle_children(parent)
            if not parent.state.is_final:
                monitor.transition(pid, ParentState.CANCELLED, "cancelled from outside")
            raise
        except Exception as error:
            self._log.exception("parent failed")
            await self._handler().settle_children(parent)
            if not parent.state.is_final:
                monitor.transition(pid, ParentState.FAILED, f"{type(error).__name__}: {error}")
            raise
        finally:
            self._scope = None
        await self._finish(completed_aggressively)
        return self._build_report()

    async def _complete(self, parent_id: str) -> None:
        self._parts.monitor.transition(parent_id, ParentState.COMPLETING)
        arrival = self._arrival.mid if self._arrival is not None else None
        pacing = self._pace.pacing(self._parent.deadline or now())
        outcome = await self._handler().complete(parent_id, arrival, self._params.limit_price, pacing=pacing)
        if outcome.note:
            self._notes.append(outcome.note)

    async def _finish(self, completed_aggressively: bool) -> None:
        monitor, parent = self._parts.monitor, self._parent
        if await self._handler().settle_children(parent):
            self._notes.append(describe_unsettled(parent))
        if not parent.state.is_final:
            if self._cancel_requested:
                monitor.transition(parent.parent_id, ParentState.CANCELLED, "cancelled by the user")
            elif parent.filled >= parent.quantity:  # pragma: no cover - the monitor completes it
                monitor.transition(parent.parent_id, ParentState.COMPLETED)
            else:
                reason = "deadline passed after completion" if completed_aggressively else "deadline passed"
                if completed_aggressively and now() < (parent.deadline or 0.0):  # (a completion window)
                    reason = "completion stopped before the deadline"
                monitor.transition(parent.parent_id, ParentState.EXPIRED, reason)
                if not completed_aggressively:  # (else the completion's note says why it stopped)
                    self._notes.append(f"{parent.unfilled} left unfilled at the deadline: completion is off")
        # A mid sampled after the last slice may still be on its way: the report counts it.
        with anyio.CancelScope(shield=True), anyio.move_on_after(self._params.settle_timeout):
            await self._mids.wait_pending()  # cut off at the deadline or by cancel()

    def _build_report(self) -> ExecutionReport:
        records, times, quantities = self._records, self._times, self._plan.quantities
        # The slices the schedule never reached (it ended early): their lines say so.
        records.extend(
            SliceRecord(index=index, scheduled_at=times[index], quantity=quantities[index])
            for index in range(len(records), len(times))
        )
        self.report = build_report(
            self._parent,
            records,
            started_at=self._start,
            ended_at=now(),
            arrival_price=self._arrival.mid if self._arrival is not None else None,
            end_price=self._mids.last,
            mids=(),
            interval_twap=self._mids.twap,
            requested_slices=self._plan.requested_slices,
            notes=self._notes,
        )
        return self.report

    # -- the schedule ------------------------------------------------------------------------

    async def _quote(self) -> Quote | None:
        return await self._mids.sample(self._parts.quotes, self._parent.symbol, self._log)

    async def _run_schedule(self) -> None:
        parent = self._parent
        scheduled = ZERO
        records, times, quantities = self._records, self._times, self._plan.quantities
        last = len(times) - 1
        smallest_unpriced = parent.instrument.min_order_quantity(None)  # (lot and minimum)
        for index in range(last + 1):
            record = SliceRecord(index=index, scheduled_at=times[index], quantity=quantities[index])
            records.append(record)
            delay = record.scheduled_at - now()
            if delay > 0 and self._virtual:
                await self._parts.alarms.wait_until(record.scheduled_at)
            elif delay > 0:
                await sleep_until(record.scheduled_at)
            if self._folded < index:
                # The last slice's events have come in by now (not yet right after its send).
                self._fold_finished(index)
            if parent.state is not ParentState.WORKING or self._stopped():
                return  # (a stop may come in the very pass that woke this slice)
            record.due = True
            scheduled += record.quantity
            # A plain market slice needs no price to be sent: send first, sample the mid after.
            quote = await self._quote() if self._quote_first else None
            if self._pace.observe(quote, now(), times[index + 1] if index < last else None):
                self._early, record.note = True, "the completion window opened"
                return
            quantity = self._slice_quantity(record, scheduled, is_last=record.index == last)
            quantity = self._pace.slice_quantity(quantity, now())
            reference = None if quote is None else (quote.ask if parent.side is OrderSide.BUY else quote.bid)
            smallest = (
                smallest_unpriced
                if reference is None
                else parent.instrument.min_order_quantity(reference)
            )
            if quantity < smallest:
                if quantity > 0 and parent.remaining >= smallest:
                    quantity = smallest
                else:
                    record.note = (
                        "nothing to send" if quantity <= 0 else f"{quantity} below the smallest order"
                    )
                    continue
            if self._params.style is SliceStyle.MARKET:
                if quote is not None and not within_limit(reference, self._params.limit_price, parent.side):
                    record.note = f"market beyond the limit price {self._params.limit_price}"
                    continue
                # Under a limit price, a marketable limit order (IOC) at it, on the tick grid.
                limit = self._params.limit_price
                limit = None if limit is None else parent.instrument.round_price(limit, parent.side)
                await self._send(record, quantity, limit, immediate=limit is not None)
                if not self._quote_first and not self._mids.sample_nowait(self._parts.quotes, parent.symbol):
                    await self._quote()
            else:
                crossed, price = self._pace.cross(scheduled, record.quantity, quote)
                if crossed > 0:  # (adaptive, behind: cross, capped)
                    await self._send(record, crossed, price, immediate=price is not None)
                    quantity = self._slice_quantity(record, scheduled, is_last=record.index == last)
                slice_end = times[index + 1] if index < last else None
                await self._work_limit_slice(record, quantity, quote, slice_end)

    def _fold_finished(self, before: int) -> None:
        """Make the report lines of the slices before ``before`` whose children are all final and
        priced, and fold those children into the parent's totals (in slice order, up to the first
        slice still open). A parent then holds only its open slices' children, not every child
        it sent: thousands of parents run at once."""
        parent, monitor = self._parent, self._parts.monitor
        records, index = self._records, self._folded
        while index < before:
            record = records[index]
            if isinstance(record, SliceRecord):
                line = order_slice(record, parent)
                if not monitor.fold_children(parent, record.child_ids):
                    break
                records[index] = line
            index += 1
        self._folded = index

    def _slice_quantity(self, record: SliceRecord, scheduled: Decimal, *, is_last: bool) -> Decimal:
        parent = self._parent
        if not self._params.catch_up:
            return parent.instrument.round_quantity(min(record.quantity, parent.remaining))
        return catch_up_quantity(
            scheduled_through=scheduled,
            committed=parent.committed,
            remaining=parent.remaining,
            nominal_slice=record.quantity,
            cap_multiple=None if is_last else self._params.catch_up_cap,
            instrument=parent.instrument,
        )

    async def _send(
        self, record: SliceRecord, quantity: Decimal, price: Decimal | None, *, immediate: bool = False
    ) -> ChildOrder:
        parent, monitor = self._parent, self._parts.monitor
        if self._stopped():
            # Stopped since the last wait (the stop held during a send, or one that came in the
            # pass that woke this slice): nothing more is sent; the stop takes effect here.
            await anyio.lowlevel.checkpoint()
        # Every value here is checked already: the parent's symbol and side, a quantity of at
        # least the smallest order, a price rounded to the tick, an id from the generator.
        tif, new_id = TimeInForce.IOC if immediate else TimeInForce.GTC, self._new_id()
        order = Order._checked(parent.symbol, parent.side, quantity, price, new_id, parent.parent_id, tif)
        cid = order.client_order_id
        child = ChildOrder(order=order, slice_index=record.index, created_at=now())
        monitor.add_child(parent.parent_id, child)
        record.add_child_id(cid)
        if self._parts.debug:  # (raw values: a line must not pay for formatting them)
            self._parts.log.debug(
                "send child",
                parent_id=parent.parent_id,
                child_id=cid,
                slice=record.index,
                quantity=quantity,
                price=price,
            )
        # The queue settles every request; waiting for it must not be cut short by the schedule's
        # own stop, or the child's outcome would be lost to the books: a stop meanwhile waits
        # (see _stop). This costs a flag, where a shielded scope per child cost about 5 us.
        self._sending = True
        try:
            result = await self._parts.queue.send(order, deadline=parent.deadline)
        finally:
            self._sending = False
        monitor.record_result(cid, result)
        if record.sent_at is None and result.sent_at is not None:
            record.sent_at = result.sent_at
        if self._stop_pending:
            self._stop_pending = False
            self._stop()  # takes effect at the next wait
        if child.state is ChildState.UNKNOWN:
            await monitor.reconcile(cid)
        if child.state is ChildState.REJECTED:
            self._log.warning("child rejected", child_id=cid, reason=child.reason)
        return child

    async def _work_limit_slice(
        self, record: SliceRecord, target: Decimal, quote: Quote | None, slice_end: float | None
    ) -> None:
        parent, monitor = self._parent, self._parts.monitor
        rest = self._params.rest_fraction * self._interval
        end = slice_end if slice_end is not None else (parent.deadline or now() + self._interval)
        while quote is not None and now() < end and parent.state is ParentState.WORKING:
            done = sum((parent.child(cid).filled for cid in record.child_ids), ZERO)
            wanted = parent.instrument.round_quantity(min(target - done, parent.remaining))
            price = slice_price(quote, parent.side, self._params, parent.instrument)
            if wanted < parent.instrument.min_order_quantity(price):
                return
            child = await self._send(record, wanted, price)
            cid = child.client_order_id
            if child.state.is_final:
                return  # rejected or filled at once; the next slice catches up what is missing
            with anyio.move_on_after(max(0.0, min(now() + rest, end) - now())):
                await monitor.wait_child_final(cid)
            if not child.state.is_final:
                # Re-price: the replacement is sized only once the cancel is confirmed.
                self._parts.queue.cancel(cid)
                if self._parts.debug:
                    self._parts.log.debug("re-price: cancel child", parent_id=parent.parent_id, child_id=cid)
                with anyio.move_on_after(self._params.settle_timeout):
                    await monitor.wait_child_final(cid)
                if not child.state.is_final:
                    await monitor.reconcile(cid)
                if not _is_final(child):
                    return  # still in doubt: its quantity stays reserved; the deadline settles it
            quote = await self._quote()

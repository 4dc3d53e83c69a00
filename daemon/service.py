"""``TradingService``: the daemon's trading core, driven by the control API.

::

    async with SimulatedVenue.demo() as venue, TradingService(venue) as service:
        parent = await service.submit_twap(TwapRequest(symbol="AAPL", side="buy", quantity=100,
                                                       num_slices=5, interval_seconds=1))
        async with service.subscribe() as events:
            async for event in events: ...

The service owns an ``ExecutionEngine`` on the gateway it is given (wrapped so that every child is
journaled before it leaves) and a task group with one watcher per parent; it writes to the journal
it is given. It opens neither the venue, nor the journal, nor anything global: the caller does.
Entering recovers what the journal holds open (``daemon.recovery``) before taking requests.
Leaving the ``async with`` stops taking requests and leaves the engine, which cancels the resting
children; unfinished parents stay open in the journal, so the next start resumes them as after a
crash.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from decimal import Decimal
from types import TracebackType
from typing import Any

import anyio
import anyio.abc
import attrs
import structlog

from daemon.book import ParentBook
from daemon.errors import ServiceClosedError, UnknownParentError
from daemon.journal import Journal
from daemon.journaling_gateway import JournalingGateway
from daemon.measures import LatencyRecorder, SendWindows
from daemon.parents import ParentRecord
from daemon.progress import ProgressBroadcaster, Subscription
from daemon.rebalance import plan_rebalance
from daemon.recovery import ParentPlan, RecoveryReport, plan_recovery
from daemon.views import (
    FillView,
    ParentView,
    ProgressEvent,
    RebalanceRequest,
    RebalanceView,
    ServiceStatistics,
    TwapRequest,
)
from engine import (
    ClientOrderIdGenerator,
    EngineError,
    ExecutionEngine,
    ExecutionEvent,
    ExecutionReport,
    InvalidInputError,
    OrderFilled,
    RateLimit,
    TradingGateway,
    TWAPHandle,
    now,
)

__all__ = ["TradingService"]

_log = structlog.get_logger("daemon.service")


class TradingService:
    """Runs TWAP parents and rebalances on one venue; see the module docstring.

    ``journal`` (an open ``Journal``) makes it durable: its run's prefix starts every id this run
    makes, so ids never repeat across restarts, and its venue and account must match ``venue`` and
    ``account`` for recovery to touch a parent. ``max_orders_per_minute``, ``limits`` and
    ``queue_options`` configure the engine's queue; ``progress_interval`` is how often working
    parents report progress on the stream; ``settle_timeout`` bounds how long recovery waits for
    one child to end at the venue.
    """

    def __init__(
        self,
        gateway: TradingGateway,
        *,
        journal: Journal | None = None,
        venue: str = "venue",
        account: str = "default",
        max_orders_per_minute: int | None = None,
        limits: Sequence[RateLimit] = (),
        queue_options: Mapping[str, Any] | None = None,
        progress_interval: float = 2.0,
        settle_timeout: float = 30.0,
    ) -> None:
        all_limits = list(limits)
        if max_orders_per_minute is not None:
            all_limits.insert(0, RateLimit(max_orders_per_minute, 60.0))
        run_prefix = journal.run.prefix if journal is not None and journal.run is not None else ""
        self._journal = journal
        self._venue = venue
        self._account = account
        self._settle_timeout = settle_timeout
        self._lateness = LatencyRecorder()
        self._journal_latency = journal.latency if journal is not None else LatencyRecorder()
        self._windows = SendWindows(all_limits)
        self._gateway = JournalingGateway(gateway, journal, observer=self._observe, windows=self._windows)
        self._engine = ExecutionEngine(
            self._gateway, limits=all_limits, id_prefix=f"{run_prefix}C", queue_options=queue_options
        )
        self._parent_ids = ClientOrderIdGenerator(f"{run_prefix}P")
        self._rebalance_ids = ClientOrderIdGenerator(f"{run_prefix}R")
        self._progress_interval = progress_interval
        self._book = ParentBook(journal)
        self._broadcaster = ProgressBroadcaster()
        self._task_group: anyio.abc.TaskGroup | None = None
        self._progress_scope = anyio.CancelScope()
        self._stack: AsyncExitStack | None = None
        self._accepting = False
        self._closing = False
        self.recovery: RecoveryReport | None = None

    def __repr__(self) -> str:
        return f"<TradingService parents={len(self._book.records)} accepting={self._accepting}>"

    # --- lifetime --------------------------------------------------------------------------------

    async def __aenter__(self) -> TradingService:
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            await stack.enter_async_context(self._engine)
            self._task_group = await stack.enter_async_context(anyio.create_task_group())
            self._task_group.start_soon(self._report_progress)
            if self._journal is not None:
                await self._recover(self._journal)
        except BaseException:
            self._closing = True
            self._progress_scope.cancel()
            await stack.__aexit__(None, None, None)
            raise
        self._stack = stack
        self._accepting = True
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        assert self._stack is not None
        self.stop_accepting()
        self._closing = True
        # Every running parent stops its slices and cancels its resting children; the watchers
        # end once they are final, then the engine closes. The parents stay open in the journal.
        for record in self._book.records.values():
            if record.handle is not None:
                record.handle.cancel()
        self._progress_scope.cancel()
        stack, self._stack = self._stack, None
        try:
            await stack.__aexit__(exc_type, exc, tb)
        finally:
            self._task_group = None
            self._broadcaster.close()
        return None

    def stop_accepting(self) -> None:
        """Refuse new parents from now on (shutdown's first step); running ones go on."""
        self._accepting = False

    @property
    def accepting(self) -> bool:
        """True while new parents are taken."""
        return self._accepting

    # --- requests --------------------------------------------------------------------------------

    async def submit_twap(self, request: TwapRequest, *, idempotency_key: str | None = None) -> ParentView:
        """Start one TWAP parent; it is journaled before this returns.

        A repeated ``idempotency_key`` with the same request returns the first parent (as it is
        now); with another request it raises ``IdempotencyKeyReusedError``. An unknown symbol or
        a quantity the venue's rules refuse raises ``InvalidInputError``, and nothing is kept.
        """
        if not isinstance(request, TwapRequest):
            raise InvalidInputError("request", request, "expected a TwapRequest")
        body = request.to_dict()
        first = self._book.first_result(idempotency_key, "twap", body)
        if isinstance(first, str):
            return self.get_parent_nowait(first)
        self._check_accepting()
        self._gateway.instrument(request.symbol)  # an unknown symbol is refused before anything
        record = self._book.add(self._parent_ids.next_id(), request, key=idempotency_key, body=body)
        try:
            await self._start_segment(record, request.quantity, request.num_slices, request.interval_seconds)
        except BaseException:
            self._book.discard(record, idempotency_key)
            raise
        view = record.view()
        self._publish("parent_created", record, view)
        return view

    async def submit_rebalance(
        self, request: RebalanceRequest, *, idempotency_key: str | None = None
    ) -> RebalanceView:
        """Plan the trades to ``request.target_weights``; unless ``dry_run``, start one parent each.

        A repeated ``idempotency_key`` with the same request returns the first result.
        """
        if not isinstance(request, RebalanceRequest):
            raise InvalidInputError("request", request, "expected a RebalanceRequest")
        body = request.to_dict()
        first = self._book.first_result(idempotency_key, "rebalance", body)
        if isinstance(first, RebalanceView):
            return first
        if not request.dry_run:
            self._check_accepting()
        view = await plan_rebalance(self._gateway, request, self._rebalance_ids.next_id())
        if request.dry_run:
            return view
        parent_ids = []
        for number, trade in enumerate(view.trades):
            twap = TwapRequest(
                symbol=trade.symbol,
                side=trade.side,
                quantity=trade.quantity,
                num_slices=request.num_slices,
                interval_seconds=request.interval_seconds,
                options=request.options,
                on_restart=request.on_restart,
            )
            # Each parent has a key of its own, so a retried rebalance makes none twice.
            key = None if idempotency_key is None else f"{idempotency_key}#{number}"
            parent_ids.append((await self.submit_twap(twap, idempotency_key=key)).parent_id)
        result = attrs.evolve(view, dry_run=False, parent_ids=tuple(parent_ids))
        if idempotency_key is not None:
            self._book.remember_rebalance(idempotency_key, body, result)
        return result

    async def list_parents(self) -> list[ParentView]:
        """Every parent this service knows (from the journal too), oldest first."""
        return [record.view() for record in self._book.records.values()]

    async def get_parent(self, parent_id: str) -> ParentView:
        """One parent; raises ``UnknownParentError`` for an id the service does not know."""
        return self.get_parent_nowait(parent_id)

    def get_parent_nowait(self, parent_id: str) -> ParentView:
        """``get_parent`` without awaiting."""
        return self._record(parent_id).view()

    async def cancel_parent(self, parent_id: str) -> ParentView:
        """Stop the parent's new slices and cancel its resting children; a final parent is left as
        it is. Returns the parent's view (it turns ``cancelled`` once its children are final)."""
        record = self._record(parent_id)
        if record.state == "held":
            return record.view()
        self._book.cancelling(record)
        record.request_cancel()
        return record.view()

    def subscribe(self) -> Subscription:
        """The live progress stream: ``async with service.subscribe() as events: async for ...``."""
        return self._broadcaster.subscribe()

    async def statistics(self) -> ServiceStatistics:
        """The counters the metrics need, as one snapshot."""
        return self.statistics_nowait()

    def statistics_nowait(self) -> ServiceStatistics:
        """``statistics`` without awaiting."""
        queue = self._engine.queue.statistics()
        by_state: dict[str, int] = {}
        for record in self._book.records.values():
            state = record.state_name()
            by_state[state] = by_state.get(state, 0) + 1
        return ServiceStatistics(
            orders_sent=queue.sent,
            orders_accepted=queue.accepted,
            orders_rejected=queue.rejected,
            orders_failed=queue.failed,
            cancels_sent=self._gateway.cancels,
            fills=self._gateway.fills,
            rate_limited=queue.rate_limited,
            queue_depth=queue.queued,
            in_flight=queue.in_flight,
            limits=self._windows.use(now()),
            parents_by_state=by_state,
            slice_lateness=self._lateness.summary(),
            journal_write_latency=self._journal_latency.summary(),
            journal_enabled=self._journal is not None,
        )

    # --- internals -------------------------------------------------------------------------------

    def _check_accepting(self) -> None:
        if not self._accepting or self._task_group is None:
            raise ServiceClosedError("the service is not taking new parents (not started, or shutting down)")

    def _record(self, parent_id: str) -> ParentRecord:
        record = self._book.records.get(parent_id) if isinstance(parent_id, str) else None
        if record is None:
            raise UnknownParentError(parent_id)
        return record

    async def _recover(self, journal: Journal) -> None:
        self._book.load()
        report = await plan_recovery(
            journal,
            self._engine.queue,
            venue=self._venue,
            account=self._account,
            settle_timeout=self._settle_timeout,
        )
        self.recovery = report
        for plan in report.parents:
            await self._resume(self._book.records[plan.row.parent_id], plan)

    async def _resume(self, record: ParentRecord, plan: ParentPlan) -> None:
        log = _log.bind(parent_id=record.parent_id, action=plan.action, remaining=str(plan.remaining))
        log.info("recovered parent")
        # The fills recovery folded in are in the plan's row, read after the children settled.
        record.filled, record.notional = plan.row.filled, plan.row.notional
        if plan.action == "held":
            self._book.settle(record, "held", plan.note)
        elif plan.action == "done":
            self._book.settle(record, "completed", "completed before the restart")
        elif plan.action == "cancel":
            self._book.settle(record, "cancelled", "cancelled on restart")
        else:
            slices, interval = (
                (plan.num_slices, plan.interval_seconds) if plan.action == "resume" else (1, 1.0)
            )
            complete = plan.action == "complete"
            try:
                await self._start_segment(record, plan.remaining, slices, interval, complete=complete)
            except InvalidInputError as error:
                note = f"could not resume the remaining {plan.remaining}: {error}"
                self._book.settle(record, "failed", note)
        self._publish("parent_progress", record)

    async def _start_segment(
        self,
        record: ParentRecord,
        quantity: Decimal,
        num_slices: int,
        interval_seconds: float,
        *,
        complete: bool = False,
    ) -> TWAPHandle:
        request = record.request
        options = dict(request.options)
        if complete:
            options["style"] = "market"
        handle = await self._engine.start_twap(
            request.symbol,
            quantity,
            request.side,
            num_slices=num_slices,
            interval_seconds=interval_seconds,
            **options,
        )
        # No await between the engine's answer and this: its first child leaves only after.
        self._book.attach(record, handle, quantity)
        assert self._task_group is not None
        self._task_group.start_soon(self._watch, record, handle, name=f"watch {record.parent_id}")
        return handle

    async def _watch(self, record: ParentRecord, handle: TWAPHandle) -> None:
        report: ExecutionReport | None = None
        error: BaseException | None = None
        try:
            report = await handle.wait()
        except EngineError as failure:
            error = failure
        if self._closing and record.filled < record.request.quantity:
            return  # stopped by the shutdown: the parent stays open for the next start
        if report is not None:
            for line in report.slices:
                if line.sent_at is not None:
                    self._lateness.observe(line.sent_at - line.scheduled_at)
            self._gateway.forget_children(
                [cid for line in report.slices for cid in line.child_ids] + list(report.completion_child_ids)
            )
        self._book.finish(record, report, error)
        _log.info("parent final", parent_id=record.parent_id, state=record.state_name())
        self._publish("parent_final", record)

    def _observe(self, event: ExecutionEvent) -> None:
        if not isinstance(event, OrderFilled):
            return
        record = self._gateway.parent_of(event.client_order_id, self._book.segments)
        if record is None:
            return
        record.add_fill(event.quantity, event.price)
        if not self._broadcaster.has_subscribers:
            return
        fill = FillView(
            client_order_id=event.client_order_id,
            trade_id=event.trade_id,
            symbol=event.symbol,
            side=event.side.value,
            quantity=event.quantity,
            price=event.price,
        )
        view = record.view()
        self._broadcaster.publish(
            ProgressEvent(
                kind="fill", parent_id=record.parent_id, timestamp=time.time(), parent=view, fill=fill
            )
        )
        self._publish("parent_progress", record, view)

    def _publish(self, kind: str, record: ParentRecord, view: ParentView | None = None) -> None:
        if not self._broadcaster.has_subscribers:
            return
        if view is None:
            view = record.view()
        self._broadcaster.publish(
            ProgressEvent(kind=kind, parent_id=record.parent_id, timestamp=time.time(), parent=view)
        )

    async def _report_progress(self) -> None:
        with self._progress_scope:
            while True:
                await anyio.sleep(self._progress_interval)
                if not self._broadcaster.has_subscribers:
                    continue
                for record in list(self._book.records.values()):
                    if not record.is_final():
                        self._publish("parent_progress", record)

"""``TradingService``: the daemon's trading core, driven by the control API.

::

    async with SimulatedVenue.demo() as venue, TradingService(venue) as service:
        parent = await service.submit_twap(TwapRequest(symbol="AAPL", side="buy", quantity=100,
                                                       num_slices=5, interval_seconds=1))
        async with service.subscribe() as events:
            async for event in events: ...

The service owns an ``ExecutionEngine`` on the gateway it is given (wrapped so that every child is
journaled before it leaves), the journal when one is given, and a task group with one watcher per
parent. It opens neither the venue nor anything global: the caller opens the gateway. Leaving the
``async with`` stops taking requests and leaves the engine, which cancels the resting children;
the parents stay open in the journal, so the next start resumes them as after a crash.
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
import structlog

from daemon.errors import IdempotencyKeyReusedError, ServiceClosedError, UnknownParentError
from daemon.journaling_gateway import JournalingGateway
from daemon.measures import LatencyRecorder, SendWindows
from daemon.parents import ParentRecord
from daemon.progress import ProgressBroadcaster, Subscription
from daemon.rebalance import plan_rebalance
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

    ``max_orders_per_minute``, ``limits`` and ``queue_options`` configure the engine's queue;
    ``run_prefix`` (at most 6 id characters) starts every parent and child id of this run, so ids
    never repeat across restarts; ``progress_interval`` is how often working parents report
    progress on the stream.
    """

    def __init__(
        self,
        gateway: TradingGateway,
        *,
        max_orders_per_minute: int | None = None,
        limits: Sequence[RateLimit] = (),
        queue_options: Mapping[str, Any] | None = None,
        run_prefix: str = "",
        progress_interval: float = 2.0,
    ) -> None:
        all_limits = list(limits)
        if max_orders_per_minute is not None:
            all_limits.insert(0, RateLimit(max_orders_per_minute, 60.0))
        self._journal_latency = LatencyRecorder()
        self._lateness = LatencyRecorder()
        self._windows = SendWindows(all_limits)
        self._gateway = JournalingGateway(gateway, None, observer=self._observe, windows=self._windows)
        self._engine = ExecutionEngine(
            self._gateway,
            limits=all_limits,
            id_prefix=f"{run_prefix}C",
            queue_options=queue_options,
        )
        self._parent_ids = ClientOrderIdGenerator(f"{run_prefix}P")
        self._rebalance_ids = ClientOrderIdGenerator(f"{run_prefix}R")
        self._progress_interval = progress_interval
        self._parents: dict[str, ParentRecord] = {}
        self._segments: dict[str, ParentRecord] = {}  # engine parent id -> the parent it works for
        self._idempotency: dict[str, tuple[str, dict[str, Any], Any]] = {}
        self._broadcaster = ProgressBroadcaster()
        self._task_group: anyio.abc.TaskGroup | None = None
        self._progress_scope = anyio.CancelScope()
        self._stack: AsyncExitStack | None = None
        self._accepting = False
        self._closing = False

    def __repr__(self) -> str:
        return f"<TradingService parents={len(self._parents)} accepting={self._accepting}>"

    # --- lifetime --------------------------------------------------------------------------------

    async def __aenter__(self) -> TradingService:
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            await stack.enter_async_context(self._engine)
            self._task_group = await stack.enter_async_context(anyio.create_task_group())
            self._task_group.start_soon(self._report_progress)
        except BaseException:
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
        for record in self._parents.values():
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
        """Start one TWAP parent; it is recorded before this returns.

        A repeated ``idempotency_key`` with the same request returns the first parent (as it is
        now); with another request it raises ``IdempotencyKeyReusedError``. An unknown symbol or
        a quantity the venue's rules refuse raises ``InvalidInputError``, and nothing is kept.
        """
        if not isinstance(request, TwapRequest):
            raise InvalidInputError("request", request, "expected a TwapRequest")
        body = request.to_dict()
        first = self._first_result(idempotency_key, "twap", body)
        if first is not None:
            return self.get_parent_nowait(first)
        self._check_accepting()
        self._gateway.instrument(request.symbol)  # an unknown symbol is refused before anything
        record = self._new_parent(request)
        if idempotency_key is not None:
            self._idempotency[idempotency_key] = ("twap", body, record.parent_id)
        try:
            await self._start_segment(record, request.quantity, request.num_slices, request.interval_seconds)
        except BaseException:
            self._parents.pop(record.parent_id, None)
            if idempotency_key is not None:
                self._idempotency.pop(idempotency_key, None)
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
        first = self._first_result(idempotency_key, "rebalance", body)
        if first is not None:
            assert isinstance(first, RebalanceView)
            return first
        if not request.dry_run:
            self._check_accepting()
        rebalance_id = self._rebalance_ids.next_id()
        view = await plan_rebalance(self._gateway, request, rebalance_id)
        if request.dry_run:
            return view
        if idempotency_key is not None:
            self._idempotency[idempotency_key] = ("rebalance", body, view)
        parent_ids = []
        for trade in view.trades:
            twap = TwapRequest(
                symbol=trade.symbol,
                side=trade.side,
                quantity=trade.quantity,
                num_slices=request.num_slices,
                interval_seconds=request.interval_seconds,
                options=request.options,
                on_restart=request.on_restart,
            )
            parent_ids.append((await self.submit_twap(twap)).parent_id)
        result = RebalanceView(
            rebalance_id=view.rebalance_id,
            dry_run=False,
            trades=view.trades,
            parent_ids=tuple(parent_ids),
            portfolio_value=view.portfolio_value,
            cash_before=view.cash_before,
            cash_after=view.cash_after,
        )
        if idempotency_key is not None:
            self._idempotency[idempotency_key] = ("rebalance", body, result)
        return result

    async def list_parents(self) -> list[ParentView]:
        """Every parent this service knows, oldest first."""
        return [record.view() for record in self._parents.values()]

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
        for record in self._parents.values():
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
            journal_enabled=False,
        )

    # --- internals -------------------------------------------------------------------------------

    def _check_accepting(self) -> None:
        if not self._accepting or self._task_group is None:
            raise ServiceClosedError("the service is not taking new parents (not started, or shutting down)")

    def _first_result(self, key: str | None, kind: str, body: dict[str, Any]) -> Any:
        if key is None:
            return None
        if not isinstance(key, str) or not key or len(key) > 200:
            raise InvalidInputError("idempotency_key", key, "expected 1 to 200 characters")
        found = self._idempotency.get(key)
        if found is None:
            return None
        first_kind, first_body, result = found
        first_id = result if isinstance(result, str) else result.rebalance_id
        if first_kind != kind or first_body != body:
            raise IdempotencyKeyReusedError(key, first_id)
        return result

    def _record(self, parent_id: str) -> ParentRecord:
        record = self._parents.get(parent_id) if isinstance(parent_id, str) else None
        if record is None:
            raise UnknownParentError(parent_id)
        return record

    def _new_parent(self, request: TwapRequest) -> ParentRecord:
        created = time.time()
        record = ParentRecord(
            parent_id=self._parent_ids.next_id(),
            request=request,
            created_at=created,
            deadline_at=created + request.duration,
        )
        self._parents[record.parent_id] = record
        return record

    async def _start_segment(
        self, record: ParentRecord, quantity: Decimal, num_slices: int, interval_seconds: float
    ) -> TWAPHandle:
        request = record.request
        handle = await self._engine.start_twap(
            request.symbol,
            quantity,
            request.side,
            num_slices=num_slices,
            interval_seconds=interval_seconds,
            **request.options,
        )
        # No await between the engine's answer and this: its first child leaves only after.
        self._segments[handle.parent_id] = record
        record.attach(handle)
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
        if self._closing:
            return  # stopped by the shutdown: the parent stays open for the next start
        if report is not None:
            for line in report.slices:
                if line.sent_at is not None:
                    self._lateness.observe(line.sent_at - line.scheduled_at)
        record.finish(report, error)
        if report is not None:
            self._gateway.forget_children(
                [cid for line in report.slices for cid in line.child_ids] + list(report.completion_child_ids)
            )
        _log.info("parent final", parent_id=record.parent_id, state=record.state_name())
        self._publish("parent_final", record, record.view())

    def _observe(self, event: ExecutionEvent) -> None:
        if not isinstance(event, OrderFilled):
            return
        record = self._gateway.parent_of(event.client_order_id, self._segments)
        if record is None:
            return
        record.add_fill(event.quantity, event.price)
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

    def _publish(self, kind: str, record: ParentRecord, view: ParentView) -> None:
        self._broadcaster.publish(
            ProgressEvent(kind=kind, parent_id=record.parent_id, timestamp=time.time(), parent=view)
        )

    async def _report_progress(self) -> None:
        with self._progress_scope:
            while True:
                await anyio.sleep(self._progress_interval)
                for record in list(self._parents.values()):
                    if not record.is_final():
                        self._publish("parent_progress", record, record.view())

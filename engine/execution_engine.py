"""The composition root: one queue, one monitor, one scheduler task per parent, one task group.

::

    async with ExecutionEngine(gateway, max_orders_per_minute=100) as engine:
        report = await engine.twap("AAPL", 1000, OrderSide.BUY, num_slices=10, interval_seconds=60)
        handle = engine.submit_twap("MSFT", 500, "sell")     # runs in the background
        print(handle.status())
        plan_report = await engine.execute_plan(plan)

Leaving the ``async with`` cancels every parent still running (their resting children are
cancelled and settled, shielded and bounded), then stops the monitor and the queue, which still
sends the cancels waiting for room; the orders it could not cancel are named in
``OrdersLeftOpenError``. An error raised in the block comes out as itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from typing import Any

import anyio
import attrs
import structlog

from engine._runtime.groups import holds_only, sole_error
from engine._runtime.parent_tasks import ParentTasks
from engine._runtime.services import shielded_services
from engine._twap.params import TWAPParams
from engine._twap.parts import RunnerParts
from engine._twap.plans import PlanExecutionReport, split_plan, summarize_plan
from engine._twap.quote_cache import QuoteCache
from engine._twap.report import ExecutionReport
from engine._twap.runner import ParentRunner
from engine._twap.twap_handle import TWAPHandle
from engine.errors import EngineError, InvalidInputError, OrdersLeftOpenError
from engine.execution_monitor import ExecutionMonitor
from engine.gateway import TradingGateway
from engine.ids import ClientOrderIdGenerator
from engine.orders import OrderSide
from engine.rate_limited_queue import RateLimitedOrderQueue
from engine.rate_limits import RateLimit
from engine.rebalancing_plan import RebalancingPlan
from engine.twap_executor import check_parent, plan_parent, start_parent

__all__ = ["QUEUE_OPTIONS", "EngineStatistics", "ExecutionEngine", "PlanExecutionReport", "TWAPHandle"]

_log = structlog.get_logger(__name__)


@attrs.frozen
class EngineStatistics:
    """Counters of an ``ExecutionEngine``."""

    running_parents: int
    finished_parents: int
    failed_parents: int


# The queue's keywords an engine passes on; the rates and the seed have their own arguments.
QUEUE_OPTIONS = frozenset(
    name
    for name, parameter in inspect.signature(RateLimitedOrderQueue).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("limits", "seed")
)


def _queue_options(options: Any) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise InvalidInputError("queue_options", options, "expected a mapping of queue keywords")
    unknown = sorted(str(name) for name in options if name not in QUEUE_OPTIONS)
    if unknown:
        raise InvalidInputError(
            f"queue_options.{unknown[0]}",
            options[unknown[0]],
            f"not a queue setting; expected one of {', '.join(sorted(QUEUE_OPTIONS))}",
        )
    return dict(options)


class ExecutionEngine:
    """Owns the queue, the monitor and a task group with one scheduler task per parent.

    ``max_orders_per_minute`` and ``limits`` configure the ``RateLimitedOrderQueue``, and
    ``queue_options`` any of its other keywords (``safety_margin``, ``max_queued``, ``when_full``,
    ``max_in_flight``, retries and back-off, ``shutdown_timeout``, ``cancel_grace``);
    ``seed`` makes the queue's retry jitter reproducible, and with ``reproducible_ids=True`` the
    client order ids too (a backtest; live, ids are random so a restarted bot never reuses one);
    parents of one symbol share a quote while it is younger than ``quote_max_age`` seconds; every
    other keyword is a default ``TWAPParams`` field for parents started by this engine.
    """

    def __init__(
        self,
        gateway: TradingGateway,
        *,
        max_orders_per_minute: int | None = None,
        limits: Sequence[RateLimit] = (),
        seed: int | None = None,
        reproducible_ids: bool = False,
        id_prefix: str = "E",
        quote_max_age: float = 1.0,
        queue_options: Mapping[str, Any] | None = None,
        **defaults: Any,
    ) -> None:
        self._gateway = gateway
        self._defaults = TWAPParams(**defaults)
        options = _queue_options(queue_options)
        try:
            self._queue = RateLimitedOrderQueue(
                gateway, max_orders_per_minute, limits=tuple(limits), seed=seed, **options
            )
        except InvalidInputError as error:
            if error.field not in options:
                raise
            raise InvalidInputError(f"queue_options.{error.field}", error.value, error.reason) from None
        # look-ups and quotes go through the queue too, so every request counts against the limits
        self._monitor = ExecutionMonitor(gateway, lookup=self._queue.lookup)
        if not isinstance(reproducible_ids, bool):
            raise InvalidInputError("reproducible_ids", reproducible_ids, "expected True or False")
        if reproducible_ids and seed is None:
            raise InvalidInputError("reproducible_ids", reproducible_ids, "reproducible ids need a seed")
        try:
            # Ids come from the seed only when asked for (a backtest), and then differ from those
            # of any other engine or executor made with the seed for this venue.
            self._ids = ClientOrderIdGenerator(
                id_prefix, seed=seed if reproducible_ids else None, scope=gateway
            )
        except InvalidInputError as error:
            raise InvalidInputError("id_prefix", error.value, error.reason) from None
        try:
            quotes = QuoteCache(gateway, max_age=quote_max_age, quote=self._queue.quote)
        except InvalidInputError as error:
            raise InvalidInputError("quote_max_age", error.value, error.reason) from None
        self._parts = RunnerParts(
            gateway=gateway,
            queue=self._queue,
            monitor=self._monitor,
            new_child_id=self._ids.next_id,
            quotes=quotes,
        )
        self._running: dict[str, TWAPHandle] = {}
        self._parents_started = 0
        self._finished_count = self._failed_count = 0
        self._stack: AsyncExitStack | None = None
        # One lean task per parent (anyio's own task costs twice the memory), supervised by a task
        # of the task group, so none outlives the engine.
        self._parent_tasks = ParentTasks()

    def __repr__(self) -> str:
        return (
            f"<ExecutionEngine running={len(self._running)} finished={self._finished_count} "
            f"open={self._stack is not None}>"
        )

    @property
    def monitor(self) -> ExecutionMonitor:
        """The engine's execution monitor."""
        return self._monitor

    @property
    def queue(self) -> RateLimitedOrderQueue:
        """The engine's order queue."""
        return self._queue

    def statistics(self) -> EngineStatistics:
        """A frozen snapshot of the counters."""
        return EngineStatistics(
            running_parents=len(self._running),
            finished_parents=self._finished_count,
            failed_parents=self._failed_count,
        )

    async def __aenter__(self) -> ExecutionEngine:
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            # The queue, the monitor and the parents keep running through a cancellation from
            # outside until __aexit__ has had the parents cancel their resting children.
            await stack.enter_async_context(
                shielded_services(self._queue, self._monitor, self._parent_tasks.supervise)
            )
        except BaseException as error:
            await stack.__aexit__(None, None, None)
            # A part that cannot start fails in a task group: say what failed, not the groups.
            sole = error
            while isinstance(sole, BaseExceptionGroup) and len(sole.exceptions) == 1:
                sole = sole.exceptions[0]
            if sole is not error:
                raise sole from None
            raise
        self._stack = stack
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        assert self._stack is not None
        # Parents still running are cancelled: their resting children are cancelled and settled.
        for handle in list(self._running.values()):
            handle.cancel()
        # Each settles within its settle_timeout and twice the queue's cancel_grace (a cancel may
        # wait for room under the limits); the margin covers a send or look-up still out.
        settle = max(
            (h._runner.params.settle_timeout for h in self._running.values() if h._runner is not None),
            default=self._defaults.settle_timeout,
        )
        grace = 2 * self._queue.cancel_grace  # (the longest a parent settles: see settle_children)
        with anyio.CancelScope(shield=True), anyio.move_on_after(settle + grace + 60.0):
            for handle in list(self._running.values()):
                await handle._wait_done()
        stack, self._stack = self._stack, None
        try:
            return await stack.__aexit__(*exc_info)
        except BaseExceptionGroup as group:
            if holds_only(group, exc_info[1]):
                return None  # the block's own error comes out as itself
            sole = sole_error(group, OrdersLeftOpenError)
            if sole is None:
                raise
        # The queue could not cancel every live order: that report, not the groups it passed.
        raise sole

    def _prepare(
        self,
        parent_id: str,
        symbol: str,
        quantity: Any,
        side: Any,
        params: dict[str, Any],
        *,
        quantity_field: str = "quantity",
    ) -> Callable[[], Awaitable[ParentRunner]]:
        """The steps that plan one parent (arrival quote, slices) and register its runner."""
        merged = self._defaults.evolve(**params) if params else self._defaults
        number = self._parents_started  # counted in call order, so a seeded run repeats itself
        self._parents_started += 1

        async def prepare() -> ParentRunner:
            planned = await plan_parent(
                self._gateway,
                self._parts.quotes,
                parent_id=parent_id,
                symbol=symbol,
                total_quantity=quantity,
                side=side,
                params=merged,
                number=number,
                quantity_field=quantity_field,
            )
            return start_parent(self._parts, planned, merged)

        return prepare

    def _start(self, parent_id: str, runner: ParentRunner) -> TWAPHandle:
        handle = TWAPHandle(self, parent_id, runner)
        self._running[parent_id] = handle
        self._parent_tasks_or_raise().start_soon(handle._run, name=f"twap {parent_id}")
        return handle

    def _parent_tasks_or_raise(self) -> ParentTasks:
        if self._stack is None:
            raise EngineError("the engine is not running; use it inside 'async with'")
        return self._parent_tasks

    async def start_twap(
        self, symbol: str, quantity: Any, side: OrderSide | str, **params: Any
    ) -> TWAPHandle:
        """Validate and plan one TWAP parent, start it in the background and return its handle.

        Bad input raises here, before anything is sent.
        """
        self._parent_tasks_or_raise()
        parent_id = self._ids.next_id()
        return self._start(parent_id, await self._prepare(parent_id, symbol, quantity, side, params)())

    def submit_twap(self, symbol: str, quantity: Any, side: OrderSide | str, **params: Any) -> TWAPHandle:
        """Start one TWAP parent with a plain call; its task plans it (errors surface in ``wait``).

        The side, symbol and parameters are checked at once.
        """
        tasks = self._parent_tasks_or_raise()
        OrderSide.parse(side)
        self._gateway.instrument(symbol)
        parent_id = self._ids.next_id()
        prepare = self._prepare(parent_id, symbol, quantity, side, params)
        handle = TWAPHandle(self, parent_id)
        self._running[parent_id] = handle
        tasks.start_soon(handle._run, prepare, name=f"twap {parent_id}")
        return handle

    async def twap(self, symbol: str, quantity: Any, side: OrderSide | str, **params: Any) -> ExecutionReport:
        """Execute one TWAP parent and return its report."""
        handle = await self.start_twap(symbol, quantity, side, **params)
        return await handle.wait()

    async def execute_plan(
        self, plan: RebalancingPlan, *, sells_first: bool | None = None, **params: Any
    ) -> PlanExecutionReport:
        """Run every trade of ``plan`` as a concurrent TWAP parent; return their reports.

        Sells run first (buys start once they are final) when ``sells_first`` is True, or, when it
        is ``None``, when the buys' notional and fees exceed the plan's cash before trading.
        """
        sells, buys, sells_first = split_plan(plan, sells_first)
        # Every trade is checked before the first parent starts: when this raises, nothing ran.
        merged = self._defaults.evolve(**params) if params else self._defaults
        for index, trade in enumerate(plan.trades):
            check_parent(
                self._gateway, trade.symbol, trade.quantity, trade.side, merged,
                quantity_field=f"plan.trades[{index}].quantity",
            )
        fields = {id(trade): f"plan.trades[{index}].quantity" for index, trade in enumerate(plan.trades)}
        if sells_first:
            reports = await self._run_all(sells, params, fields) + await self._run_all(buys, params, fields)
        else:
            reports = await self._run_all([*sells, *buys], params, fields)
        return summarize_plan(reports, sells_first)

    async def _run_all(
        self, trades: Sequence[Any], params: dict[str, Any], fields: dict[int, str]
    ) -> list[ExecutionReport]:
        """Plan every trade (an arrival quote each; a refusal raises before any of them runs),
        then start them all and wait for their reports."""
        self._parent_tasks_or_raise()
        runners: list[tuple[str, ParentRunner]] = []
        try:
            for trade in trades:
                parent_id = self._ids.next_id()
                prepare = self._prepare(
                    parent_id, trade.symbol, trade.quantity, trade.side, params,
                    quantity_field=fields.get(id(trade), "quantity"),
                )
                runners.append((parent_id, await prepare()))
        except BaseException:
            for parent_id, _ in runners:  # planned and tracked, never started: let them go
                self._monitor.forget(parent_id)
            raise
        handles: list[TWAPHandle] = []
        try:
            for parent_id, runner in runners:
                handles.append(self._start(parent_id, runner))  # each kept as it starts
            return [await handle.wait() for handle in handles]
        except BaseException:
            # The call gives no handles back when it raises (or is cancelled): no parent it
            # started may go on trading unseen. Each cancels and settles its children.
            for handle in handles:
                handle.cancel()
            with anyio.CancelScope(shield=True):
                for handle in handles:
                    await handle._wait_done()
            raise

    def _finished(self, handle: TWAPHandle) -> None:
        self._running.pop(handle.parent_id, None)
        self._finished_count += 1
        if handle._error is not None:
            self._failed_count += 1

"""TWAP: spread a parent order over time in slices, finish it at the deadline, report the cost.

Standalone, as in the original usage::

    executor = TWAPExecutor(trading_gateway=gateway, num_slices=10, interval_seconds=60)
    report = await executor.execute(symbol="AAPL", total_quantity=1000, side=OrderSide.BUY)
    print(f"Filled: {report.filled_quantity} @ avg ${report.avg_price:.2f}")

runs its own order queue and execution monitor for the duration of the call. Inside an
``ExecutionEngine`` every parent shares the engine's queue and monitor instead.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import attrs
import structlog

from engine._runtime.services import shielded_services
from engine._schedules.kinds import Schedule
from engine._schedules.profiles import schedule_weights
from engine._twap.params import SliceStyle, TWAPParams
from engine._twap.parent import ParentOrder
from engine._twap.parts import RunnerParts
from engine._twap.quote_cache import QuoteCache
from engine._twap.report import ExecutionReport, OrderSlice, SliceStatus
from engine._twap.runner import ParentRunner
from engine._twap.slicing import SlicePlan, plan_slices
from engine.clock import now
from engine.errors import GatewayError, InvalidInputError
from engine.execution_monitor import ExecutionMonitor
from engine.fields import whole_number
from engine.gateway import TradingGateway
from engine.ids import ClientOrderIdGenerator
from engine.instruments import Instrument
from engine.market import Quote
from engine.numbers import to_positive
from engine.orders import OrderSide
from engine.rate_limited_queue import RateLimitedOrderQueue

__all__ = [
    "ExecutionReport",
    "ExecutorStatistics",
    "OrderSlice",
    "PlannedParent",
    "Schedule",
    "SliceStatus",
    "SliceStyle",
    "TWAPExecutor",
    "TWAPParams",
    "check_parent",
    "plan_parent",
    "start_parent",
]

_log = structlog.get_logger(__name__)

# The most lots one parent may hold (far beyond any venue's own maximum order size).
MAX_LOTS = 10**18


@attrs.frozen
class PlannedParent:
    """A validated, planned parent not yet registered anywhere."""

    parent: ParentOrder
    plan: SlicePlan
    arrival: Quote | None
    start: float


def check_parent(
    gateway: TradingGateway,
    symbol: Any,
    total_quantity: Any,
    side: Any,
    params: TWAPParams,
    *,
    quantity_field: str = "total_quantity",
) -> tuple[OrderSide, Decimal, Instrument]:
    """Check one TWAP request without sending anything; return its side, quantity and instrument.

    Raises ``InvalidInputError`` (``UnknownSymbolError`` for a symbol the venue does not list).
    """
    order_side = OrderSide.parse(side)
    quantity = to_positive(total_quantity, quantity_field)
    instrument = gateway.instrument(symbol)  # raises UnknownSymbolError
    instrument.check_quantity(quantity, quantity_field)
    if quantity > instrument.lot_size * MAX_LOTS:
        # Past this, sums and products of quantities and prices no longer fit the decimal
        # context's 28 digits: the schedule could not be worked out exactly.
        raise InvalidInputError(
            quantity_field, total_quantity, f"more than 10^18 lots of {symbol}: too large to trade exactly"
        )
    if params.limit_price is not None and params.limit_price < instrument.tick_size:
        # No price on the tick grid is both positive and within such a limit.
        raise InvalidInputError(
            "limit_price", params.limit_price, f"below one tick ({instrument.tick_size}) of {symbol}"
        )
    return order_side, quantity, instrument


async def plan_parent(
    gateway: TradingGateway,
    quotes: QuoteCache,
    *,
    parent_id: str,
    symbol: str,
    total_quantity: Any,
    side: Any,
    params: TWAPParams,
    number: int = 0,
    quantity_field: str = "total_quantity",
) -> PlannedParent:
    """Validate one TWAP request, take the arrival quote and plan its slices.

    ``number`` counts the parents started by the same engine or executor: with the seed it keys
    the parent's jitter, so parents sharing a seed do not jitter in lockstep.

    Raises ``InvalidInputError`` (naming the field, ``quantity_field`` for the quantity: the name
    the caller's own parameter has) before anything is registered or sent.
    """
    order_side, quantity, instrument = check_parent(
        gateway, symbol, total_quantity, side, params, quantity_field=quantity_field
    )
    current = now()
    start, duration = params.window(current)
    try:
        arrival: Quote | None = await quotes.get_quote(symbol)
    except GatewayError as error:
        _log.warning("no arrival quote", symbol=symbol, error=str(error))
        arrival = None
    reference = None
    if arrival is not None:
        reference = arrival.ask if order_side is OrderSide.BUY else arrival.bid
    if params.start_time is None:
        # The schedule starts once the arrival price is known; an end time stays where it was.
        start = now()
        if params.end_time is not None:
            duration = max(params.end_time - start, 0.0)
    plan = plan_slices(
        quantity,
        params.num_slices,
        duration,
        instrument,
        reference,
        size_jitter=params.size_jitter,
        time_jitter=params.time_jitter,
        # Keyed by the parent's number too: parents sharing a seed must not jitter in lockstep.
        # (Not by its id, which is random unless the engine's ids are seeded.)
        rng=random.Random(None if params.seed is None else f"{params.seed}:{number}"),
        weights=lambda count: schedule_weights(
            params.schedule, count, volume_profile=params.volume_profile, risk_aversion=params.risk_aversion
        ),
        quantity_field=quantity_field,
    )
    parent = ParentOrder(
        parent_id=parent_id,
        symbol=symbol,
        side=order_side,
        quantity=quantity,
        instrument=instrument,
        created_at=current,
        deadline=start + duration,
    )
    return PlannedParent(parent=parent, plan=plan, arrival=arrival, start=start)


def start_parent(parts: RunnerParts, planned: PlannedParent, params: TWAPParams) -> ParentRunner:
    """Register a planned parent with the monitor and return the runner that will work it.

    The adaptive schedule rests at the touch: a market style becomes passive for it."""
    if params.schedule is Schedule.ADAPTIVE and params.style is SliceStyle.MARKET:
        params = params.evolve(style=SliceStyle.PASSIVE)
    parts.monitor.track(planned.parent, planned.plan, started_at=planned.start)
    return ParentRunner(
        parts, planned.parent, planned.plan, params, start=planned.start, arrival=planned.arrival
    )


@attrs.frozen
class ExecutorStatistics:
    """Counters of a ``TWAPExecutor``."""

    executed: int


class TWAPExecutor:
    """Executes parent orders as TWAPs against ``trading_gateway``.

    ``num_slices`` and ``interval_seconds`` set the default schedule; every other knob of
    ``TWAPParams`` can be given here (the executor's defaults) or per ``execute`` call.
    ``max_orders_per_minute`` configures the queue the executor runs when used standalone. Pass
    ``queue`` and ``monitor`` to share running ones (the engine does). Client order ids are random
    unless ``reproducible_ids=True`` draws them from ``seed`` (a backtest), or ``id_generator``
    gives them.
    """

    def __init__(
        self,
        trading_gateway: TradingGateway,
        num_slices: int = 10,
        interval_seconds: float | None = 60.0,
        *,
        max_orders_per_minute: int | None = None,
        queue: RateLimitedOrderQueue | None = None,
        monitor: ExecutionMonitor | None = None,
        id_generator: ClientOrderIdGenerator | None = None,
        reproducible_ids: bool = False,
        **params: Any,
    ) -> None:
        if (queue is None) != (monitor is None):
            raise InvalidInputError("queue", queue, "give both queue and monitor, or neither")
        if max_orders_per_minute is not None:  # checked now, not at the first execute
            whole_number(max_orders_per_minute, "max_orders_per_minute", minimum=1)
        if not isinstance(reproducible_ids, bool):
            raise InvalidInputError("reproducible_ids", reproducible_ids, "expected True or False")
        self._params = TWAPParams(num_slices=num_slices, interval_seconds=interval_seconds, **params)
        if reproducible_ids and self._params.seed is None:
            raise InvalidInputError("reproducible_ids", reproducible_ids, "reproducible ids need a seed")
        self._gateway = trading_gateway
        self._max_orders_per_minute = max_orders_per_minute
        self._queue = queue
        self._monitor = monitor
        # Ids come from the seed only when asked for (a backtest), and then differ from those of
        # any other executor or engine made with the seed for this venue.
        self._ids = (
            id_generator
            if id_generator is not None
            else ClientOrderIdGenerator(
                "T", seed=self._params.seed if reproducible_ids else None, scope=trading_gateway
            )
        )
        # with a shared queue, quotes count against its limits; a queue of our own (made per
        # execution) counts only submits and cancels, so its quotes go straight to the gateway
        self._quotes = QuoteCache(trading_gateway, quote=None if queue is None else queue.quote)
        self._executed = 0

    def __repr__(self) -> str:
        return (
            f"<TWAPExecutor slices={self._params.num_slices} interval={self._params.interval_seconds} "
            f"style={self._params.style.value} executed={self._executed}>"
        )

    def statistics(self) -> ExecutorStatistics:
        """A frozen snapshot of the counters."""
        return ExecutorStatistics(executed=self._executed)

    @property
    def params(self) -> TWAPParams:
        """The executor's default parameters."""
        return self._params

    async def execute(
        self, symbol: str, total_quantity: Any, side: OrderSide | str, **overrides: Any
    ) -> ExecutionReport:
        """Execute one parent order as a TWAP and return its report (waits until it is final).

        Bad input raises ``InvalidInputError`` naming the field, before anything is sent.
        """
        params = self._params.evolve(**overrides) if overrides else self._params
        planned = await plan_parent(
            self._gateway,
            self._quotes,
            parent_id=self._ids.next_id(),
            symbol=symbol,
            total_quantity=total_quantity,
            side=side,
            params=params,
            number=self._executed,
        )
        self._executed += 1
        if self._queue is not None and self._monitor is not None:
            return await self._run(self._queue, self._monitor, planned, params)
        queue = RateLimitedOrderQueue(self._gateway, self._max_orders_per_minute)
        monitor = ExecutionMonitor(self._gateway, lookup=queue.lookup)
        # Kept running through a cancellation from outside until the parent has cancelled and
        # settled its resting children.
        async with shielded_services(queue, monitor):
            return await self._run(queue, monitor, planned, params)

    async def _run(
        self,
        queue: RateLimitedOrderQueue,
        monitor: ExecutionMonitor,
        planned: PlannedParent,
        params: TWAPParams,
    ) -> ExecutionReport:
        parts = RunnerParts(
            gateway=self._gateway,
            queue=queue,
            monitor=monitor,
            new_child_id=self._ids.next_id,
            quotes=self._quotes,
        )
        return await start_parent(parts, planned, params).run()

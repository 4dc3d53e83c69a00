"""Run a scenario: for each variant, a fresh simulated venue and engine on virtual time.

::

    result = backtesting.run("examples/three_stock_rebalance.toml", seed=7)
    for row in result.comparison():
        print(row.variant, row.shortfall_bps, row.completion_share)

The very engine that trades live runs here: ``ExecutionEngine`` with its queue, monitor, TWAP
schedulers and deadline completion, against ``SimulatedVenue``, on an asyncio loop whose clock
jumps to the next timer whenever every task waits. Every variant meets the same market: the venue
is rebuilt from the same seed, and its price path does not depend on the orders.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import attrs
import structlog

from backtesting.errors import BacktestError
from backtesting.recording import MarketSampler, RecordingGateway, run_progress
from backtesting.result import BacktestResult, FillPoint, VariantResult
from backtesting.scenario import Scenario, Variant, load_scenario
from engine.clock import virtual_loop_factory
from engine.events import OrderFilled
from engine.execution_engine import ExecutionEngine, TWAPHandle
from engine.numbers import ZERO
from engine.orders import OrderSide
from engine.rebalancing_plan import RebalancingPlan
from engine.twap_executor import ExecutionReport, Schedule, TWAPParams
from gateways.simulated import SimulatedVenue

__all__ = ["ProgressCallback", "build_venue", "plan_for", "run", "run_async"]

#: Called with (variant name, fraction of the variant's expected schedule done, from 0 to 1).
ProgressCallback = Callable[[str, float], None]

#: The most symbols drawn in the figure (the largest by traded notional); all are in the report.
FIGURE_SYMBOLS = 6
_SAMPLES = 300  # price samples over the expected schedule, for the figure
_log = structlog.get_logger(__name__)


def build_venue(scenario: Scenario) -> SimulatedVenue:
    """A fresh simulated venue for ``scenario`` (same seed, same market), holding its portfolio."""
    venue = scenario.venue
    return SimulatedVenue(
        venue.replay if venue.replay is not None else list(venue.symbols),
        seed=scenario.seed, latency=venue.latency, fees=venue.fees, rate_limits=venue.rate_limits,
        faults=venue.faults, cash=scenario.cash, positions=dict(scenario.positions),
        request_timeout=venue.request_timeout, step=venue.step, participation=venue.participation,
        bootstrap_block=venue.bootstrap_block,
    )


def plan_for(scenario: Scenario, prices: dict[str, Decimal]) -> RebalancingPlan | None:
    """The scenario's rebalancing plan at ``prices`` (``None`` when it has no ``[rebalance]``)."""
    rebalance = scenario.rebalance
    if rebalance is None:
        return None
    wanted = set(scenario.positions) | set(rebalance.targets)
    return rebalance.planner.create_plan(
        current_positions=dict(scenario.positions), target_weights=dict(rebalance.targets),
        prices={symbol: prices[symbol] for symbol in sorted(wanted)}, cash=scenario.cash,
        cash_weight=rebalance.cash_weight,
    )


def run(
    scenario: Scenario | str | Path,
    *,
    seed: int | None = None,
    progress: ProgressCallback | None = None,
) -> BacktestResult:
    """Run a scenario (or a scenario file) on virtual time and return its result.

    ``seed`` replaces the scenario's seed. ``progress`` is called as the virtual clock advances.
    Raises ``ScenarioError`` for a bad scenario, ``BacktestError`` when a run cannot finish.
    """
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if seed is not None:
        loaded = loaded.with_seed(seed)
    # Each variant gets a fresh virtual loop whose clock starts at zero, so its report reads the
    # same as a run of that variant alone.
    plan: RebalancingPlan | None = None
    variants = []
    for variant in loaded.variants:
        loop_factory = virtual_loop_factory(0.0)
        try:
            variant_plan, outcome = anyio.run(
                _run_variant, loaded, variant, progress,
                backend="asyncio", backend_options={"loop_factory": loop_factory},
            )
        except BaseExceptionGroup as group:
            raise _sole(group) from None
        plan = plan if plan is not None else variant_plan
        variants.append(outcome)
    return BacktestResult(scenario=loaded, seed=loaded.seed, plan=plan, variants=tuple(variants))


def _sole(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one error inside nested task-group wrappers, or the group itself if there are several."""
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


async def run_async(scenario: Scenario, *, progress: ProgressCallback | None = None) -> BacktestResult:
    """``run`` inside a running event loop (on virtual time, for results that mean anything).

    The variants run one after another on that loop's clock, so each starts where the one
    before ended; ``run`` gives each its own clock starting at zero instead.
    """
    plan: RebalancingPlan | None = None
    variants = []
    for variant in scenario.variants:
        variant_plan, outcome = await _run_variant(scenario, variant, progress)
        plan = plan if plan is not None else variant_plan
        variants.append(outcome)
    return BacktestResult(scenario=scenario, seed=scenario.seed, plan=plan, variants=tuple(variants))


_Trade = tuple[str, OrderSide, Decimal, dict[str, Any]]


def _trades(scenario: Scenario, plan: RebalancingPlan | None) -> list[_Trade]:
    trades: list[_Trade] = []
    if plan is not None:
        trades += [(t.symbol, t.side, t.quantity, {}) for t in plan.trades]
    trades += [(o.symbol, o.side, o.quantity, dict(o.overrides)) for o in scenario.orders]
    return trades


def _sells_first(scenario: Scenario, variant: Variant, plan: RebalancingPlan | None) -> bool:
    chosen = variant.sells_first if variant.sells_first is not None else scenario.sells_first
    if chosen is not None:
        return chosen
    if plan is None:
        return False
    # The engine's own rule: sells first when the buys need more than the cash before trading.
    need = sum((t.notional + t.estimated_fee for t in plan.buys), ZERO)
    return bool(plan.sells) and need > plan.cash_before


async def _run_variant(
    scenario: Scenario, variant: Variant, progress: ProgressCallback | None
) -> tuple[RebalancingPlan | None, VariantResult]:
    venue = build_venue(scenario)
    params = scenario.params(variant)
    async with venue:
        prices = {symbol: venue.quote_nowait(symbol).mid for symbol in scenario.symbols()}
        plan = plan_for(scenario, prices)
        trades = _trades(scenario, plan)
        sells_first = _sells_first(scenario, variant, plan)
        expected_end = _expected_end(scenario, variant, trades, sells_first)
        horizon = scenario.horizon or 2 * expected_end + 3600.0
        # Sampling more often than the venue's price step would show nothing new.
        interval = max(expected_end / _SAMPLES, scenario.venue.step)
        sampler = MarketSampler(venue.quote_nowait, _largest(trades, prices), interval)
        gateway = RecordingGateway(venue)
        # The TWAP settings go with each parent: the engine's own ``seed`` keyword seeds its ids
        # (asked for explicitly: a backtest repeats itself, ids included).
        settings: dict[str, Any] = {**scenario.execution, **variant.overrides, "seed": params.seed}
        async with ExecutionEngine(
            gateway, max_orders_per_minute=scenario.max_orders_per_minute, limits=scenario.queue_limits,
            queue_options=scenario.queue_options, seed=scenario.seed, reproducible_ids=True, id_prefix="B",
        ) as engine, anyio.create_task_group() as watchers:
            watchers.start_soon(sampler.run)
            report = functools.partial(progress, variant.name) if progress is not None else _ignore
            watchers.start_soon(run_progress, report, expected_end)
            reports: list[ExecutionReport] = []
            with anyio.move_on_after(horizon) as scope:
                reports = await _execute(engine, plan, scenario, sells_first, settings)
            sampler.sample()
            queue_statistics = attrs.asdict(engine.queue.statistics())
            watchers.cancel_scope.cancel()
        if scope.cancelled_caught:
            raise BacktestError(
                f"variant {variant.name!r}: parents still running after {horizon:g} virtual seconds; "
                "raise 'horizon' in the scenario if the schedule is meant to be that long"
            )
        if progress is not None:
            progress(variant.name, 1.0)
        outcome = VariantResult(
            name=variant.name, params=params, sells_first=sells_first, reports=tuple(reports),
            fills=_fills(venue, gateway, reports), prices=sampler.points,
            venue_statistics=attrs.asdict(venue.statistics()), queue_statistics=queue_statistics,
            cash_after=venue.cash, positions_after=dict(venue.positions),
        )
        # What finishing each unfilled remainder would have cost at the end (nothing is traded).
        sweeps = {r.parent_id: venue.sweep_price_nowait(r.symbol, r.side, r.unfilled_quantity)
                  for r in reports if r.unfilled_quantity > 0}
        outcome = attrs.evolve(outcome, sweep_prices=sweeps)
    _log.info("variant done", variant=variant.name, parents=len(reports))
    return plan, outcome


def _expected_end(scenario: Scenario, variant: Variant, trades: Sequence[_Trade], sells_first: bool) -> float:
    """When the last schedule should end: the progress bar's 100% (the buys wait when sells go first)."""
    ends = [scenario.params(variant, extra).window(0.0) for *_, extra in trades]
    end = max((start + duration for start, duration in ends), default=0.0)
    return end * 2 if sells_first else end


def _largest(trades: Sequence[_Trade], prices: dict[str, Decimal]) -> list[str]:
    """The symbols the figure draws: the largest by traded notional, at most ``FIGURE_SYMBOLS``."""
    notional: dict[str, Decimal] = {}
    for symbol, _, quantity, _ in trades:
        notional[symbol] = notional.get(symbol, ZERO) + quantity * prices[symbol]
    return sorted(notional, key=lambda s: (-notional[s], s))[:FIGURE_SYMBOLS]


def _ignore(_fraction: float) -> None:
    """No display: the progress task still runs, so timers are the same with or without one."""


def _with_data_profile(scenario: Scenario, symbol: str, options: dict[str, Any]) -> dict[str, Any]:
    """A VWAP parent without a ``volume_profile`` of its own, on replayed data, takes the data's
    volumes over its schedule as its profile: the data as recorded, not the path a seed draws
    from it, so the profile knows nothing of the path ahead."""
    replay = scenario.venue.replay
    if replay is None or options.get("volume_profile") is not None:
        return options
    params = TWAPParams(**{"seed": scenario.seed, **options})
    if params.schedule is not Schedule.VWAP:
        return options
    start, duration = params.window(0.0)
    volumes = [float(row.volume) for row in replay.rows
               if row.symbol == symbol and row.volume is not None and start <= row.time < start + duration]
    return {**options, "volume_profile": volumes} if any(volumes) else options


async def _execute(
    engine: ExecutionEngine,
    plan: RebalancingPlan | None,
    scenario: Scenario,
    sells_first: bool,
    settings: dict[str, Any],
) -> list[ExecutionReport]:
    handles: list[TWAPHandle] = []
    for order in scenario.orders:
        options = _with_data_profile(scenario, order.symbol, {**settings, **order.overrides})
        handles.append(await engine.start_twap(order.symbol, order.quantity, order.side, **options))
    reports: list[ExecutionReport] = []
    if plan is not None and plan.trades:
        reports += (await engine.execute_plan(plan, sells_first=sells_first, **settings)).reports
    reports += [await handle.wait() for handle in handles]
    return reports


def _fills(
    venue: SimulatedVenue, gateway: RecordingGateway, reports: Sequence[ExecutionReport]
) -> tuple[FillPoint, ...]:
    sent = gateway.sent_orders
    completion = {cid for r in reports for cid in getattr(r, "completion_child_ids", ())}
    seen: set[str] = set()
    fills = []
    for event in venue.event_log:
        if not isinstance(event, OrderFilled) or event.trade_id in seen:
            continue
        seen.add(event.trade_id)
        order = sent.get(event.client_order_id)
        if order is None or order.parent_id is None:
            continue
        fills.append(
            FillPoint(
                time=event.timestamp, symbol=event.symbol, parent_id=order.parent_id,
                quantity=event.quantity, price=event.price, completion=event.client_order_id in completion,
            )
        )
    return tuple(fills)

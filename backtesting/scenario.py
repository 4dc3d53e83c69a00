"""A backtest scenario: the venue, the portfolio, what to trade and how, read from a TOML file.

::

    name = "three-stock rebalance"
    seed = 7                     # the venue's market, the slice jitter and the order ids
    horizon = 36000              # optional: give up after this many virtual seconds

    [venue]                      # step, participation, request_timeout, data (a CSV to replay),
                                 # connect: where ``trade`` sends orders (see venue_choice.py)
    symbols = [{ symbol = "AAPL", price = 150 }, { symbol = "MSFT", price = 300 }]
    [venue.symbol_defaults]      # SymbolSpec settings for every symbol (and a replay's)
    [venue.latency]              # request, request_jitter, event, event_jitter (seconds)
    [venue.fees]                 # maker_bps, taker_bps
    [venue.faults]               # drop_ack, reject, duplicate_fill, ... (probabilities)
    [[venue.rate_limits]]        # limit, period, weights = { submit = 1, cancel = 1 }

    [portfolio]                  # cash, positions = { AAPL = 100 }
    [rebalance]                  # targets = { AAPL = 0.5, MSFT = 0.5 }, planner settings
    [[orders]]                   # explicit parents: symbol, side, quantity, execution overrides
    [execution]                  # TWAP parameters and the deadline policy, sells_first
    [queue]                      # max_orders_per_minute, [[queue.limits]], safety_margin,
                                 # max_in_flight, when_full, retries: the queue's keywords
    [[variants]]                 # name + execution overrides: compared in one run

Every key is checked: an unknown key, a wrong type, a missing file or a bad CSV row raises
``ScenarioError`` naming the file, the key (or line) and the value. Paths are relative to the
scenario file. Each variant runs the same parents on a fresh venue with the same seed, so the
market they meet is the same and only the execution differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from backtesting._toml import NUMBER, Table, parse_toml, read_file
from backtesting.errors import ScenarioError
from backtesting.venue_choice import VenueChoice, parse_venue_choice
from engine.errors import InvalidInputError
from engine.execution_engine import QUEUE_OPTIONS
from engine.fees import FeeModel
from engine.numbers import ZERO, to_decimal
from engine.orders import OrderSide
from engine.rate_limited_queue import RateLimitedOrderQueue
from engine.rate_limits import RateLimit
from engine.rebalancing_plan import RebalancingPlanner
from engine.twap_params import TWAPParams
from gateways.simulated import (
    FaultPlan,
    FeeSchedule,
    LatencyModel,
    PriceReplay,
    SimulatedVenue,
    SymbolSpec,
    VenueRateLimit,
)

__all__ = [
    "EXECUTION_KEYS",
    "ParentSpec",
    "RebalanceSettings",
    "Scenario",
    "Variant",
    "VenueSettings",
    "load_scenario",
    "parse_scenario",
    "plan_error",
]

#: Keys of ``[execution]``, ``[[variants]]`` and ``[[orders]]`` that shape a TWAP parent.
EXECUTION_KEYS: tuple[str, ...] = tuple(field.name for field in attrs.fields(TWAPParams))
_SPEC_KEYS = tuple(field.name for field in attrs.fields(SymbolSpec))
_PLANNER_KEYS = (
    "slippage_bps", "cash_reserve", "absolute_band", "relative_band", "min_trade_notional", "mode",
    "turnover_cap", "untargeted", "max_leverage", "allow_short", "rounding", "hold_tolerance",
    "max_gross_leverage",
)
_RATE_LIMIT_KEYS = tuple(field.name for field in attrs.fields(RateLimit))


@attrs.frozen
class VenueSettings:
    """How to build the simulated venue: symbols (or a replay), latency, fees, limits, faults."""

    symbols: tuple[SymbolSpec, ...]
    replay: PriceReplay | None
    data_file: str | None
    latency: LatencyModel
    fees: FeeSchedule
    rate_limits: tuple[VenueRateLimit, ...]
    faults: FaultPlan
    step: float
    participation: Decimal
    request_timeout: float
    connect: VenueChoice = attrs.field(factory=VenueChoice)  # where ``twap-engine trade`` sends orders

    @property
    def specs(self) -> tuple[SymbolSpec, ...]:
        """The symbols the venue lists, from the replay when there is one."""
        return self.replay.specs if self.replay is not None else self.symbols


@attrs.frozen
class ParentSpec:
    """One explicit parent order with its own execution overrides."""

    symbol: str
    side: OrderSide
    quantity: Decimal
    overrides: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class RebalanceSettings:
    """Target weights and the planner that turns them into trades at the venue's opening prices."""

    targets: Mapping[str, Decimal]
    planner: RebalancingPlanner
    cash_weight: Decimal | None = None


@attrs.frozen
class Variant:
    """A named way to execute: execution overrides on top of ``[execution]``."""

    name: str
    overrides: Mapping[str, Any] = attrs.field(factory=dict)
    sells_first: bool | None = None


@attrs.frozen
class Scenario:
    """A validated scenario; build it with ``load_scenario`` or ``parse_scenario``.

    ``execution`` holds the ``TWAPParams`` keyword arguments shared by every parent (already
    validated); ``variants`` always holds at least one entry (``base`` when the file names none).
    ``horizon`` bounds a run in virtual seconds (``None``: derived from the schedules).
    """

    name: str
    description: str
    seed: int
    path: str
    venue: VenueSettings
    cash: Decimal
    positions: Mapping[str, Decimal]
    rebalance: RebalanceSettings | None
    orders: tuple[ParentSpec, ...]
    execution: Mapping[str, Any]
    sells_first: bool | None
    max_orders_per_minute: int | None
    queue_limits: tuple[RateLimit, ...]
    variants: tuple[Variant, ...]
    queue_options: Mapping[str, Any] = attrs.field(factory=dict)  # the queue's other keywords
    horizon: float | None = None
    source_text: str = attrs.field(default="", repr=False)

    def with_seed(self, seed: int) -> Scenario:
        """The same scenario under another seed."""
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidInputError("seed", seed, "expected a whole number")
        return attrs.evolve(self, seed=seed)

    def with_execution(self, **changes: Any) -> Scenario:
        """The scenario with some ``[execution]`` settings (or ``sells_first``) changed, re-validated;
        a changed setting replaces the variants' own value of it too."""
        sells_first = changes.pop("sells_first", self.sells_first)
        if sells_first is not None and not isinstance(sells_first, bool):
            raise InvalidInputError("sells_first", sells_first, "expected true or false")
        unknown = sorted(set(changes) - set(EXECUTION_KEYS))
        if unknown:
            raise InvalidInputError(unknown[0], changes[unknown[0]], "not an execution setting")
        execution = {**self.execution, **changes}
        TWAPParams(**execution)
        variants = tuple(attrs.evolve(v, overrides={k: x for k, x in v.overrides.items() if k not in changes})
                         for v in self.variants)
        return attrs.evolve(self, execution=execution, sells_first=sells_first, variants=variants)

    def with_queue(self, max_orders_per_minute: int | None) -> Scenario:
        """The scenario with another queue rate (orders per rolling minute)."""
        if max_orders_per_minute is not None:
            RateLimit(max_orders_per_minute, 60.0)
        return attrs.evolve(self, max_orders_per_minute=max_orders_per_minute)

    def params(self, variant: Variant, overrides: Mapping[str, Any] | None = None) -> TWAPParams:
        """The ``TWAPParams`` of one parent: ``[execution]``, then the variant, then the order."""
        merged = {"seed": self.seed, **self.execution, **variant.overrides, **(overrides or {})}
        return TWAPParams(**merged)

    def symbols(self) -> tuple[str, ...]:
        """The venue's symbols."""
        return tuple(spec.symbol for spec in self.venue.specs)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raises ``ScenarioError`` naming file, key and value."""
    text = read_file(path, "scenario file")
    return parse_scenario(text, str(path), base_dir=Path(path).parent)


def parse_scenario(text: str, path: str = "<scenario>", *, base_dir: Path | None = None) -> Scenario:
    """Validate scenario TOML ``text``; ``path`` names it in errors and ``base_dir`` anchors files."""
    top = Table(path, "", parse_toml(text, path), base_dir if base_dir is not None else Path("."))
    name = top.take("name", (str,), default=Path(path).stem)
    description = top.take("description", (str,), default="")
    seed = top.take("seed", (int,), default=0)
    horizon_raw = top.take("horizon", (int, float))
    # ``not (x > 0)`` refuses NaN too; an infinite horizon would never bound the run.
    if horizon_raw is not None and not (0 < horizon_raw < float("inf")):
        raise top.error("horizon", horizon_raw, "must be a finite number of seconds greater than zero")
    venue_table = top.table("venue")
    if venue_table is None:
        raise top.error("venue", None, "missing; every scenario needs a [venue] table")
    venue = _venue(venue_table)
    known = {spec.symbol for spec in venue.specs}

    portfolio = top.table("portfolio") or Table(path, "portfolio", {}, top.base_dir)
    cash = _number(portfolio, "cash", ZERO)
    if cash < 0:
        raise portfolio.error("cash", portfolio.take("cash", NUMBER), "must not be negative")
    positions = {
        symbol: _checked(portfolio, f"positions.{symbol}", raw, known)
        for symbol, raw in portfolio.mapping("positions", NUMBER).items()
    }
    portfolio.finish()

    rebalance_table = top.table("rebalance")
    rebalance = _rebalance(rebalance_table, venue, known) if rebalance_table is not None else None
    if rebalance is not None:
        _check_plan(path, rebalance, venue, cash, positions)
    orders = tuple(_order(table, known) for table in top.tables("orders"))
    if rebalance is None and not orders:
        raise top.error("rebalance", None, "give a [rebalance] table or at least one [[orders]] entry")

    execution_table = top.table("execution") or Table(path, "execution", {}, top.base_dir)
    sells_first = execution_table.take("sells_first", (bool,))
    execution = execution_table.take_known(EXECUTION_KEYS)
    execution_table.build(TWAPParams, {"seed": seed, **execution})
    execution_table.finish()

    queue_table = top.table("queue") or Table(path, "queue", {}, top.base_dir)
    per_minute = queue_table.take("max_orders_per_minute", (int,))
    if per_minute is not None and per_minute < 1:
        raise queue_table.error("max_orders_per_minute", per_minute, "expected a whole number ≥ 1")
    queue_limits = []
    for limit_table in queue_table.tables("limits"):
        queue_limits.append(limit_table.build(RateLimit, limit_table.take_known(_RATE_LIMIT_KEYS)))
        limit_table.finish()
    queue_options = queue_table.take_known(sorted(QUEUE_OPTIONS))
    # The queue checks its own settings: build one (never entered) so a bad value is refused now,
    # naming its key, rather than when the run starts.
    queue_table.build(
        lambda **options: RateLimitedOrderQueue(SimulatedVenue(list(venue.specs)), **options), queue_options
    )
    queue_table.finish()

    variants = _variants(top, seed, execution)
    for order_spec, order_table in zip(orders, top.tables("orders"), strict=True):
        for variant in variants:
            merged = {"seed": seed, **execution, **variant.overrides, **order_spec.overrides}
            order_table.build(TWAPParams, merged)
    top.finish()
    return Scenario(
        name=name, description=description, seed=seed, path=path, venue=venue, cash=cash,
        positions=positions, rebalance=rebalance, orders=orders, execution=execution,
        sells_first=sells_first, max_orders_per_minute=per_minute, queue_limits=tuple(queue_limits),
        queue_options=queue_options,
        variants=variants, horizon=None if horizon_raw is None else float(horizon_raw), source_text=text,
    )


def _number(table: Table, name: str, default: Decimal) -> Decimal:
    raw = table.take(name, NUMBER)
    if raw is None:
        return default
    try:
        return to_decimal(raw, name)
    except InvalidInputError as error:
        raise table.error(name, raw, error.reason) from None


def _checked(table: Table, name: str, raw: Any, known: set[str]) -> Decimal:
    symbol = name.rsplit(".", 1)[-1]
    if symbol not in known:
        raise table.error(name, symbol, f"unknown symbol; the venue lists {', '.join(sorted(known)[:10])}")
    try:
        return to_decimal(raw, name)
    except InvalidInputError as error:
        raise table.error(name, raw, error.reason) from None


def _venue(table: Table) -> VenueSettings:
    defaults_table = table.table("symbol_defaults")
    defaults: dict[str, Any] = {}
    if defaults_table is not None:
        defaults = defaults_table.take_known(tuple(k for k in _SPEC_KEYS if k not in ("symbol", "price")))
        defaults_table.finish()
    data_file = table.file("data")
    symbol_tables = table.tables("symbols")
    per_symbol: dict[str, dict[str, Any]] = {}
    for entry in symbol_tables:
        symbol = entry.take("symbol", (str,), required=True)
        if symbol in per_symbol:
            raise entry.error("symbol", symbol, "listed twice")
        per_symbol[symbol] = entry.take_known(tuple(k for k in _SPEC_KEYS if k != "symbol"))
        entry.finish()
    specs: list[SymbolSpec] = []
    replay = None
    if data_file is not None:
        replay = _replay(table, data_file, defaults, per_symbol)
    else:
        if not symbol_tables:
            raise table.error("symbols", None, "missing; list the venue's symbols or give a data file")
        for entry, (symbol, values) in zip(symbol_tables, per_symbol.items(), strict=True):
            if "price" not in values:
                raise entry.error("price", None, "missing; a simulated symbol needs a starting price")
            specs.append(entry.build(SymbolSpec, {**defaults, **values, "symbol": symbol}))
    latency = _sub(table, "latency", LatencyModel, ("request", "request_jitter", "event", "event_jitter"))
    fees = _sub(table, "fees", FeeSchedule, ("maker_bps", "taker_bps"))
    faults = _sub(table, "faults", FaultPlan, tuple(field.name for field in attrs.fields(FaultPlan)))
    limits = []
    for limit_table in table.tables("rate_limits"):
        values = limit_table.take_known(("limit", "period", "weights", "name"))
        limits.append(limit_table.build(VenueRateLimit, values))
        limit_table.finish()
    step = table.take("step", (int, float), default=1.0)
    participation = table.take("participation", NUMBER, default="0.1")
    request_timeout = table.take("request_timeout", (int, float), default=5.0)
    connect_text = table.take("connect", (str,), default="simulated")
    try:
        connect = parse_venue_choice(connect_text, "connect")
    except InvalidInputError as error:
        raise table.error("connect", connect_text, error.reason) from None
    from gateways.simulated import SimulatedVenue

    # Building a throwaway venue runs the venue's own checks on step, participation and timeout.
    table.build(
        lambda **options: SimulatedVenue(replay if replay is not None else specs, **options),
        {"step": step, "participation": participation, "request_timeout": request_timeout},
    )
    table.finish()
    return VenueSettings(
        symbols=tuple(specs), replay=replay, data_file=None if data_file is None else data_file.name,
        latency=latency, fees=fees, rate_limits=tuple(limits), faults=faults, step=float(step),
        participation=to_decimal(participation, "participation"), request_timeout=float(request_timeout),
        connect=connect,
    )


def _replay(
    table: Table, data_file: Path, defaults: dict[str, Any], per_symbol: dict[str, dict[str, Any]]
) -> PriceReplay:
    try:
        replay = PriceReplay.from_csv(data_file, specs=per_symbol, **defaults)
    except InvalidInputError as error:
        where, _, column = error.field.rpartition(":")
        file, _, line = where.rpartition(":")
        if file and line.isdigit():
            raise ScenarioError(file, f"line {line}, column {column}", error.value, error.reason) from None
        raise ScenarioError(str(data_file), error.field, error.value, error.reason) from None
    missing = sorted(set(per_symbol) - {spec.symbol for spec in replay.specs})
    if missing:
        raise table.error("symbols", missing[0], f"not in the data file {data_file.name}")
    return replay


def _sub(table: Table, name: str, factory: Any, keys: tuple[str, ...]) -> Any:
    sub = table.table(name)
    if sub is None:
        return factory()
    value = sub.build(factory, sub.take_known(keys))
    sub.finish()
    return value


def _rebalance(table: Table, venue: VenueSettings, known: set[str]) -> RebalanceSettings:
    targets = {
        symbol: _checked(table, f"targets.{symbol}", raw, known)
        for symbol, raw in table.mapping("targets", NUMBER).items()
    }
    if not targets:
        raise table.error("targets", None, "missing; give target weights, e.g. targets = { AAPL = 0.5 }")
    cash_weight = None if "cash_weight" not in table else _number(table, "cash_weight", ZERO)
    fees_table = table.table("fees")
    if fees_table is not None:
        fees = fees_table.build(FeeModel, fees_table.take_known(("bps", "per_share", "minimum")))
        fees_table.finish()
    else:
        # By default the planner budgets the venue's taker fee: TWAP slices mostly take.
        fees = FeeModel(bps=venue.fees.taker_bps)
    options = table.take_known(_PLANNER_KEYS)
    instruments = {spec.symbol: spec.instrument for spec in venue.specs}
    planner = table.build(RebalancingPlanner, {**options, "fees": fees, "instruments": instruments})
    table.finish()
    return RebalanceSettings(targets=targets, planner=planner, cash_weight=cash_weight)


# Where the planner's fields live in a scenario file; a plan file spells them the same way.
_PLAN_KEYS = {"target_weights": "rebalance.targets", "current_positions": "portfolio.positions",
              "cash": "portfolio.cash", "portfolio_value": "portfolio.cash",
              "cash_weight": "rebalance.cash_weight"}


def plan_error(
    path: str, error: InvalidInputError, more_keys: Mapping[str, str] | None = None
) -> ScenarioError:
    """The planner's ``error`` renamed to the key of the file that holds the field.

    ``target_weights['AAPL']`` becomes ``rebalance.targets.AAPL``; ``more_keys`` names fields
    only some files hold (a plan file's ``prices``). A field no file key holds (a planner setting)
    is named ``rebalance``, the table that sets it.
    """
    name, _, rest = error.field.partition("[")
    key = _PLAN_KEYS.get(name) or (more_keys or {}).get(name, "rebalance")
    symbol = rest.rstrip("]").strip("'\"")
    return ScenarioError(path, f"{key}.{symbol}" if symbol else key, error.value, error.reason)


def _check_plan(path: str, rebalance: RebalanceSettings, venue: VenueSettings, cash: Decimal,
                positions: Mapping[str, Decimal]) -> None:
    """Plan once at the venue's starting prices, so that what the planner refuses (negative or
    over-leveraged weights, short positions) is reported now, naming the key, and not by every
    variant or sweep worker once the run has started."""
    prices = {spec.symbol: spec.price for spec in venue.specs}
    try:
        rebalance.planner.create_plan(
            current_positions=dict(positions), target_weights=dict(rebalance.targets), prices=prices,
            cash=cash, cash_weight=rebalance.cash_weight,
        )
    except InvalidInputError as error:
        raise plan_error(path, error) from None


def _order(table: Table, known: set[str]) -> ParentSpec:
    symbol = table.take("symbol", (str,), required=True)
    if symbol not in known:
        listed = ", ".join(sorted(known)[:10])
        raise table.error("symbol", symbol, f"unknown symbol; the venue lists {listed}")
    side_raw = table.take("side", (str,), required=True)
    quantity_raw = table.take("quantity", NUMBER, required=True)
    side = table.build(lambda side: OrderSide.parse(side), {"side": side_raw})
    quantity = table.build(lambda quantity: to_decimal(quantity, "quantity"), {"quantity": quantity_raw})
    if quantity <= 0:
        raise table.error("quantity", quantity_raw, "must be greater than zero")
    overrides = table.take_known(EXECUTION_KEYS)
    table.finish()
    return ParentSpec(symbol=symbol, side=side, quantity=quantity, overrides=overrides)


def _variants(top: Table, seed: int, execution: dict[str, Any]) -> tuple[Variant, ...]:
    variants: list[Variant] = []
    for table in top.tables("variants"):
        name = table.take("name", (str,), required=True)
        if not name.strip() or any(v.name == name for v in variants):
            raise table.error("name", name, "each variant needs a distinct, non-empty name")
        sells_first = table.take("sells_first", (bool,))
        overrides = table.take_known(EXECUTION_KEYS)
        table.build(TWAPParams, {"seed": seed, **execution, **overrides})
        table.finish()
        variants.append(Variant(name=name, overrides=overrides, sells_first=sells_first))
    return tuple(variants) or (Variant(name="base"),)

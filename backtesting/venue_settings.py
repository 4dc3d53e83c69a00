"""The ``[venue]`` table of a scenario: how to build the simulated venue, and where ``trade`` sends orders."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from backtesting._toml import NUMBER, Table
from backtesting.errors import ScenarioError
from backtesting.venue_choice import VenueChoice, parse_venue_choice
from engine.errors import InvalidInputError
from engine.numbers import to_decimal
from gateways.simulated import FaultPlan, FeeSchedule, LatencyModel, PriceReplay, SymbolSpec, VenueRateLimit

__all__ = ["VenueSettings", "parse_venue"]

_SPEC_KEYS = tuple(field.name for field in attrs.fields(SymbolSpec))


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
    bootstrap_block: int = 0
    connect: VenueChoice = attrs.field(factory=VenueChoice)  # where ``twap-engine trade`` sends orders

    @property
    def specs(self) -> tuple[SymbolSpec, ...]:
        """The symbols the venue lists, from the replay when there is one."""
        return self.replay.specs if self.replay is not None else self.symbols


def parse_venue(table: Table) -> VenueSettings:
    """The venue's settings from the scenario's ``[venue]`` table (every key checked)."""
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
    bootstrap_block = table.take("bootstrap_block", (int,), default=0)
    if bootstrap_block < 0 or (bootstrap_block and data_file is None):
        reason = "must not be negative" if bootstrap_block < 0 else "only a replay (data) is bootstrapped"
        raise table.error("bootstrap_block", bootstrap_block, reason)
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
        bootstrap_block=bootstrap_block,
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



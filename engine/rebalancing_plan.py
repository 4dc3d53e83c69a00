"""The rebalancing planner: from target weights to the best whole-lot trade list the cash allows.

``RebalancingPlanner(...).create_plan(...)`` is pure and synchronous. All positions are rounded
together under one cash budget: sells come first and fund the buys, fees and slippage are charged,
and cash never ends below the reserve. Among the roundings that fit, the planner picks the one
closest to the targets (L1 distance of the weights, cash included): largest-remainder rounding by
default, an exact integer programme on request. Every symbol that does not simply trade to its
target carries a ``TradeReason`` and a note saying why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from engine._allocation import Allocation, PlannerSettings, allocate
from engine._plan_inputs import PlanInputs, parse_inputs, parse_instruments
from engine.errors import InvalidInputError
from engine.fees import FeeModel
from engine.instruments import Instrument
from engine.numbers import ZERO, Number, to_decimal, to_non_negative, to_positive
from engine.orders import OrderSide
from engine.plan_report import format_plan
from engine.rebalancing_options import RebalanceMode, RoundingMethod, TradeReason, UntargetedPolicy

__all__ = ["PlannedTrade", "RebalancingPlan", "RebalancingPlanner", "SymbolAllocation"]

_BPS = Decimal(10_000)


@attrs.frozen
class PlannedTrade:
    """One order of the plan: side and quantity, the price and costs it is expected to have.

    ``notional`` is ``quantity × estimated_price`` (the price after slippage); ``estimated_fee``
    comes on top. ``reason`` says why the trade has this size (``REBALANCE`` when it simply
    moves the position to its target).
    """

    symbol: str
    side: OrderSide
    quantity: Decimal = attrs.field()
    reference_price: Decimal
    estimated_price: Decimal
    notional: Decimal
    estimated_fee: Decimal
    reason: TradeReason
    note: str = ""

    @quantity.validator
    def _check_quantity(self, _attribute: Any, value: Decimal) -> None:
        if not isinstance(value, Decimal) or value <= 0:
            raise InvalidInputError("quantity", value, "a planned trade needs a positive Decimal quantity")

    @property
    def cash_effect(self) -> Decimal:
        """Cash in (positive, a sell) or out (negative, a buy), fee included."""
        if self.side is OrderSide.SELL:
            return self.notional - self.estimated_fee
        return -self.notional - self.estimated_fee


@attrs.frozen
class SymbolAllocation:
    """One symbol before and after the plan, with its target and the reason for the outcome.

    ``ideal_quantity`` is the unrounded quantity that would hit the target exactly (after the
    drift bands re-sized the allocation and the costs were set aside); ``target_weight`` is
    ``None`` for a symbol held without a target.
    """

    symbol: str
    price: Decimal
    quantity_before: Decimal
    quantity_after: Decimal
    ideal_quantity: Decimal
    weight_before: Decimal
    target_weight: Decimal | None
    weight_after: Decimal
    reason: TradeReason
    note: str = ""

    @property
    def trade_quantity(self) -> Decimal:
        """Signed change of the position (positive: bought)."""
        return self.quantity_after - self.quantity_before


@attrs.frozen
class RebalancingPlan:
    """The trade list (sells first) and what the portfolio looks like before and after it.

    Weights are fractions of the portfolio value at the reference prices; ``rounding_error`` is
    the L1 distance of the weights after the plan (cash included) from the targets, a symbol held
    without a target counting with target zero. ``turnover`` is the traded notional over the
    portfolio value before.
    """

    trades: tuple[PlannedTrade, ...]
    allocations: tuple[SymbolAllocation, ...]
    cash_before: Decimal
    cash_after: Decimal
    cash_floor: Decimal
    cash_weight_before: Decimal
    target_cash_weight: Decimal
    cash_weight_after: Decimal
    portfolio_value_before: Decimal
    portfolio_value_after: Decimal
    traded_notional: Decimal
    turnover: Decimal
    total_fees: Decimal
    total_slippage: Decimal
    rounding_error: Decimal
    rounding: RoundingMethod

    @property
    def sells(self) -> tuple[PlannedTrade, ...]:
        """The sell trades (they come first in ``trades``)."""
        return tuple(t for t in self.trades if t.side is OrderSide.SELL)

    @property
    def buys(self) -> tuple[PlannedTrade, ...]:
        """The buy trades."""
        return tuple(t for t in self.trades if t.side is OrderSide.BUY)

    @property
    def adjustments(self) -> tuple[SymbolAllocation, ...]:
        """Symbols skipped or adjusted for a reason other than trading to (or being at) target."""
        return tuple(a for a in self.allocations if a.reason.is_adjustment)

    def allocation(self, symbol: str) -> SymbolAllocation:
        """The row of ``symbol``; raises ``UnknownSymbolError`` if the plan does not cover it."""
        for row in self.allocations:
            if row.symbol == symbol:
                return row
        from engine.errors import UnknownSymbolError

        raise UnknownSymbolError(symbol, known=tuple(a.symbol for a in self.allocations))

    def to_table(self) -> str:
        """A readable multi-line table: summary, per-symbol weights, trades and reasons."""
        return format_plan(self)

    def __str__(self) -> str:
        return format_plan(self)


def _parse_enum(kind: type[Any], field: str, value: Any) -> Any:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value.strip().lower())
        except ValueError:
            pass
    choices = ", ".join(repr(member.value) for member in kind)
    raise InvalidInputError(field, value, f"expected a {kind.__name__} or one of {choices}")


def _mode(value: Any) -> RebalanceMode:
    result: RebalanceMode = _parse_enum(RebalanceMode, "mode", value)
    return result


def _untargeted(value: Any) -> UntargetedPolicy:
    result: UntargetedPolicy = _parse_enum(UntargetedPolicy, "untargeted", value)
    return result


def _rounding(value: Any) -> RoundingMethod:
    method: RoundingMethod = _parse_enum(RoundingMethod, "rounding", value)
    if method is RoundingMethod.EXACT:
        from engine._exact_rounding import require_solver

        require_solver()
    return method


def _instruments(value: Any) -> dict[str, Instrument]:
    return parse_instruments(value, "instruments")


def _fees(value: Any) -> FeeModel:
    if value is None:
        return FeeModel()
    if not isinstance(value, FeeModel):
        raise InvalidInputError("fees", value, "expected an engine.FeeModel")
    return value


def _slippage(value: Number) -> Decimal:
    return to_non_negative(value, "slippage_bps")


def _reserve(value: Number) -> Decimal:
    return to_non_negative(value, "cash_reserve")


def _min_trade(value: Number) -> Decimal:
    return to_non_negative(value, "min_trade_notional")


def _hold_tolerance(value: Number) -> Decimal:
    return to_non_negative(value, "hold_tolerance")


def _absolute_band(value: Number | None) -> Decimal | None:
    return None if value is None else to_non_negative(value, "absolute_band")


def _relative_band(value: Number | None) -> Decimal | None:
    return None if value is None else to_non_negative(value, "relative_band")


def _turnover_cap(value: Number | None) -> Decimal | None:
    return None if value is None else to_non_negative(value, "turnover_cap")


def _leverage(value: Number) -> Decimal:
    result = to_positive(value, "max_leverage")
    if result < 1:
        raise InvalidInputError("max_leverage", value, "must be at least 1")
    return result


def _time_limit(value: Number) -> float:
    return float(to_positive(value, "exact_time_limit"))


@attrs.frozen(kw_only=True)
class RebalancingPlanner:
    """Plans the trades that move a portfolio to target weights; holds only settings.

    - ``instruments``: venue rules per symbol (``Instrument`` values, or a mapping); symbols
      without rules trade whole shares. A fractional-share broker is ``lot_size=0.001``.
    - ``fees`` (a ``FeeModel``) and ``slippage_bps`` (price moves against each trade) are
      charged against cash; ``cash_reserve`` is cash that must remain after every cost.
    - ``absolute_band`` / ``relative_band``: a symbol whose weight is within every given band of
      its target keeps its position; ``min_trade_notional``: smaller trades are not made.
    - ``mode``: full rebalance, invest cash only (buys) or raise cash (sells);
      ``turnover_cap``: the most traded notional as a fraction of the portfolio value.
    - ``untargeted``: sell (default) or freeze symbols that are held but have no target.
    - ``max_leverage`` (target weights may add up to this; cash may go down to the reserve minus
      the borrowed part) and ``allow_short`` (negative weights and positions).
    - ``rounding``: largest remainder (default) or exact (scipy's MILP, ``exact_time_limit``
      seconds at most; never worse than the default).
    - ``hold_tolerance``: a position within one lot plus this fraction of its target value is
      left alone, so re-planning after execution (costs paid) finds nothing to do.
    """

    instruments: dict[str, Instrument] = attrs.field(factory=dict, converter=_instruments)
    fees: FeeModel = attrs.field(factory=FeeModel, converter=_fees)
    slippage_bps: Decimal = attrs.field(default=ZERO, converter=_slippage)
    cash_reserve: Decimal = attrs.field(default=ZERO, converter=_reserve)
    absolute_band: Decimal | None = attrs.field(default=None, converter=_absolute_band)
    relative_band: Decimal | None = attrs.field(default=None, converter=_relative_band)
    min_trade_notional: Decimal = attrs.field(default=ZERO, converter=_min_trade)
    mode: RebalanceMode = attrs.field(default=RebalanceMode.FULL, converter=_mode)
    turnover_cap: Decimal | None = attrs.field(default=None, converter=_turnover_cap)
    untargeted: UntargetedPolicy = attrs.field(default=UntargetedPolicy.SELL, converter=_untargeted)
    max_leverage: Decimal = attrs.field(default=Decimal(1), converter=_leverage)
    allow_short: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    rounding: RoundingMethod = attrs.field(default=RoundingMethod.LARGEST_REMAINDER, converter=_rounding)
    exact_time_limit: float = attrs.field(default=1.0, converter=_time_limit)
    hold_tolerance: Decimal = attrs.field(default=Decimal("0.002"), converter=_hold_tolerance)

    def _settings(self) -> PlannerSettings:
        return PlannerSettings(
            fees=self.fees, slippage_bps=self.slippage_bps, cash_reserve=self.cash_reserve,
            absolute_band=self.absolute_band, relative_band=self.relative_band,
            min_trade_notional=self.min_trade_notional, mode=self.mode, turnover_cap=self.turnover_cap,
            untargeted=self.untargeted, max_leverage=self.max_leverage, allow_short=self.allow_short,
            rounding=self.rounding, exact_time_limit=self.exact_time_limit,
            hold_tolerance=self.hold_tolerance,
        )

    def create_plan(
        self,
        current_positions: Mapping[str, Number],
        target_weights: Mapping[str, Number],
        portfolio_value: Number | None = None,
        prices: Mapping[str, Number] | None = None,
        *,
        cash: Number | None = None,
        cash_weight: Number | None = None,
        instruments: Mapping[str, Instrument] | Iterable[Instrument] | None = None,
    ) -> RebalancingPlan:
        """Plan the trades from ``current_positions`` to ``target_weights``.

        ``portfolio_value`` is positions plus cash at ``prices``; give ``cash`` instead, or both
        (then they must agree). Weights adding up to less than 1 leave the rest in cash, or give
        ``cash_weight`` explicitly. ``instruments`` adds or overrides venue rules for this plan;
        rules for symbols neither held nor targeted are refused. Raises ``InvalidInputError``
        naming the field and value; nothing is planned from bad input.
        """
        inputs = parse_inputs(
            current_positions=current_positions, target_weights=target_weights,
            portfolio_value=portfolio_value, prices={} if prices is None else prices, cash=cash,
            cash_weight=cash_weight, instruments=instruments, default_instruments=self.instruments,
            max_leverage=self.max_leverage, allow_short=self.allow_short,
        )
        allocation = allocate(inputs, self._settings())
        return _settle(inputs, self, allocation)


def _lot(inputs: PlanInputs, symbol: str) -> Decimal:
    instrument = inputs.instruments.get(symbol)
    return instrument.lot_size if instrument else Decimal(1)


def _cash_after(inputs: PlanInputs, planner: RebalancingPlanner, lots: dict[str, int]) -> Decimal:
    cash = inputs.cash
    slip = planner.slippage_bps / _BPS
    for symbol, k in lots.items():
        if k:
            quantity, price = abs(k) * _lot(inputs, symbol), inputs.prices[symbol]
            fee = planner.fees.estimate(quantity, price)
            cash += -k * _lot(inputs, symbol) * price - quantity * price * slip - fee
    return cash


def _enforce_floor(inputs: PlanInputs, planner: RebalancingPlanner, allocation: Allocation) -> None:
    """Check the cash floor in exact arithmetic; cut buys lot by lot in the rare float near-miss."""
    lots = allocation.lots
    cash = _cash_after(inputs, planner, lots)
    while cash < allocation.cash_floor and any(k > 0 for k in lots.values()):
        symbol = max((s for s, k in lots.items() if k > 0),
                     key=lambda s: (lots[s] * _lot(inputs, s) * inputs.prices[s], s))
        lots[symbol] -= 1
        instrument = inputs.instruments.get(symbol)
        quantity, price = lots[symbol] * _lot(inputs, symbol), inputs.prices[symbol]
        minimum = max(planner.min_trade_notional, instrument.min_notional if instrument else ZERO)
        if quantity * price < minimum or (instrument and quantity < instrument.min_quantity):
            lots[symbol] = 0
        allocation.reasons[symbol] = TradeReason.CASH_LIMIT
        allocation.notes[symbol] = "cut so that cash stays at or above the reserve after costs"
        cash = _cash_after(inputs, planner, lots)


def _settle(inputs: PlanInputs, planner: RebalancingPlanner, allocation: Allocation) -> RebalancingPlan:
    """Turn lots into Decimal trades and per-symbol rows; compute the plan's figures."""
    _enforce_floor(inputs, planner, allocation)
    slip = planner.slippage_bps / _BPS
    value = inputs.portfolio_value
    cash, fees, slippage, traded = inputs.cash, ZERO, ZERO, ZERO
    sells: list[PlannedTrade] = []
    buys: list[PlannedTrade] = []
    after: dict[str, Decimal] = {}
    for symbol in inputs.symbols:
        k = allocation.lots.get(symbol, 0)
        lot, price = _lot(inputs, symbol), inputs.prices[symbol]
        after[symbol] = inputs.positions[symbol] + k * lot
        if not k:
            continue
        quantity = abs(k) * lot
        side = OrderSide.BUY if k > 0 else OrderSide.SELL
        estimated = price * (1 + slip) if k > 0 else price * (1 - slip)
        fee = planner.fees.estimate(quantity, price)
        trade = PlannedTrade(
            symbol=symbol, side=side, quantity=quantity, reference_price=price,
            estimated_price=estimated, notional=quantity * estimated, estimated_fee=fee,
            reason=allocation.reasons[symbol], note=allocation.notes.get(symbol, ""),
        )
        (buys if k > 0 else sells).append(trade)
        cash += trade.cash_effect
        fees += fee
        slippage += quantity * price * slip
        traded += quantity * price
    value_after = cash + sum((after[s] * inputs.prices[s] for s in inputs.symbols), ZERO)
    rows = []
    error = abs(cash / value_after - inputs.cash_weight)
    for symbol in inputs.symbols:
        price = inputs.prices[symbol]
        target = inputs.weights.get(symbol)
        weight_after = after[symbol] * price / value_after
        error += abs(weight_after - (target or ZERO))
        ideal = allocation.ideal.get(symbol)
        rows.append(SymbolAllocation(
            symbol=symbol, price=price, quantity_before=inputs.positions[symbol],
            quantity_after=after[symbol],
            ideal_quantity=inputs.positions[symbol] if ideal is None else to_decimal(ideal, "ideal"),
            weight_before=inputs.positions[symbol] * price / value, target_weight=target,
            weight_after=weight_after, reason=allocation.reasons[symbol],
            note=allocation.notes.get(symbol, ""),
        ))
    return RebalancingPlan(
        trades=(*sells, *buys), allocations=tuple(rows), cash_before=inputs.cash, cash_after=cash,
        cash_floor=allocation.cash_floor, cash_weight_before=inputs.cash / value,
        target_cash_weight=inputs.cash_weight, cash_weight_after=cash / value_after,
        portfolio_value_before=value, portfolio_value_after=value_after, traded_notional=traded,
        turnover=traded / value, total_fees=fees, total_slippage=slippage, rounding_error=error,
        rounding=planner.rounding,
    )

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
from decimal import ROUND_CEILING, Decimal
from typing import Any

import attrs

from engine._planning import inputs as convert
from engine._planning.allocation import Allocation, PlannerSettings, allocate, band_breaches
from engine._planning.inputs import PlanInputs, parse_inputs
from engine._planning.options import RebalanceMode, RoundingMethod, TradeReason, UntargetedPolicy
from engine._planning.report import format_plan
from engine.errors import InvalidInputError
from engine.fees import FeeModel
from engine.instruments import Instrument
from engine.numbers import ZERO, Number
from engine.orders import OrderSide

# As for the net sum of the weights: weights given as floats may add up a hair over a round cap.
_GROSS_SLACK = Decimal("1e-9")

__all__ = ["PlannedTrade", "RebalancingPlan", "RebalancingPlanner", "SymbolAllocation"]

_BPS = Decimal(10_000)
_ONE = Decimal(1)


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


class _Rows:
    """Builds a plan's ``SymbolAllocation`` rows once, on first use."""

    __slots__ = ("_rows", "_value_after", "allocation", "inputs", "moved")

    def __init__(self, inputs: PlanInputs, allocation: Allocation, moved: dict[str, Decimal],
                 value_after: Decimal) -> None:
        self.inputs, self.allocation, self.moved = inputs, allocation, moved
        self._value_after = value_after
        self._rows: tuple[SymbolAllocation, ...] | None = None

    def get(self) -> tuple[SymbolAllocation, ...]:
        if self._rows is None:
            inputs, allocation = self.inputs, self.allocation
            per_before, per_after = 1 / inputs.portfolio_value, _per(self._value_after)
            rows = []
            for symbol in inputs.symbols:
                price, before = inputs.prices[symbol], inputs.positions[symbol]
                after = before + self.moved.get(symbol, ZERO)
                ideal = allocation.ideal.get(symbol)
                rows.append(SymbolAllocation(
                    symbol, price, before, after,
                    before if ideal is None else Decimal(round(ideal * 1e9)).scaleb(-9),  # 9 places do
                    before * price * per_before, inputs.weights.get(symbol), after * price * per_after,
                    allocation.reasons[symbol], allocation.notes.get(symbol, ""),
                ))
            self._rows = tuple(rows)
        return self._rows


@attrs.frozen
class RebalancingPlan:
    """The trade list (sells first) and what the portfolio looks like before and after it.

    Weights are fractions of the portfolio value at the reference prices; ``rounding_error`` is
    the L1 distance of the weights after the plan (cash included) from the targets, a symbol held
    without a target counting with target zero. ``turnover`` is the traded notional over the
    portfolio value before.
    """

    trades: tuple[PlannedTrade, ...]
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
    # Rows are derived from the fields above; built on first use, since a plan of thousands of
    # names is often only iterated for its trades.
    _rows: _Rows = attrs.field(eq=False, repr=False, alias="rows")

    @property
    def allocations(self) -> tuple[SymbolAllocation, ...]:
        """One row per symbol held or targeted, sorted by symbol."""
        return self._rows.get()

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


@attrs.frozen(kw_only=True)
class RebalancingPlanner:
    """Plans the trades that move a portfolio to target weights; holds only settings.

    - ``instruments``: venue rules per symbol (``Instrument`` values, or a mapping); symbols
      without rules trade whole shares. A fractional-share broker is ``lot_size=0.001``.
    - ``fees`` (a ``FeeModel``) and ``slippage_bps`` (price moves against each trade) are
      charged against cash; ``cash_reserve`` is cash that must remain after every cost.
    - ``absolute_band`` / ``relative_band``: a symbol whose weight is within every given band of
      its target keeps its position, if it is still inside after the plan's costs (which lower
      the portfolio's value, so a re-plan after execution finds it inside too);
      ``min_trade_notional``: smaller trades are not made.
    - ``mode``: full rebalance, invest cash only (buys) or raise cash (sells);
      ``turnover_cap``: the most traded notional as a fraction of the portfolio value. When cash
      starts below ``cash_reserve``, raising it to the reserve comes first, past the cap if need
      be (the reserve is what keeps costs paid and the account solvent; the cap is a preference
      on trading).
    - ``untargeted``: sell (default) or freeze symbols that are held but have no target.
    - ``max_leverage`` (target weights may add up to this; cash may go down to the reserve minus
      the borrowed part) and ``allow_short`` (negative weights and positions).
      ``max_gross_leverage`` refuses targets whose gross exposure is above it: long plus short
      target weights (absolute values), plus frozen untargeted positions; ``None`` (default)
      leaves it uncapped. A 130/30 portfolio has a gross exposure of 1.6. It checks the targets:
      bands, rounding, ``mode`` and the turnover cap can leave the plan a little off them.
    - ``rounding``: largest remainder (default) or exact (scipy's MILP, ``exact_time_limit``
      seconds at most; never worse than the default).
    - ``hold_tolerance``: a position within one lot plus this fraction of its target value is
      left alone, so re-planning after execution (costs paid) finds nothing to do.
    """

    instruments: dict[str, Instrument] = attrs.field(factory=dict, converter=convert.instruments)
    fees: FeeModel = attrs.field(factory=FeeModel, converter=convert.fees)
    slippage_bps: Decimal = attrs.field(default=ZERO, converter=convert.slippage)
    cash_reserve: Decimal = attrs.field(default=ZERO, converter=convert.reserve)
    absolute_band: Decimal | None = attrs.field(default=None, converter=convert.absolute_band)
    relative_band: Decimal | None = attrs.field(default=None, converter=convert.relative_band)
    min_trade_notional: Decimal = attrs.field(default=ZERO, converter=convert.min_trade)
    mode: RebalanceMode = attrs.field(default=RebalanceMode.FULL, converter=convert.mode)
    turnover_cap: Decimal | None = attrs.field(default=None, converter=convert.turnover_cap)
    untargeted: UntargetedPolicy = attrs.field(default=UntargetedPolicy.SELL, converter=convert.untargeted)
    max_leverage: Decimal = attrs.field(default=Decimal(1), converter=convert.leverage)
    allow_short: bool = attrs.field(default=False, converter=convert.flag)
    rounding: RoundingMethod = attrs.field(
        default=RoundingMethod.LARGEST_REMAINDER, converter=convert.rounding
    )
    exact_time_limit: float = attrs.field(default=1.0, converter=convert.time_limit)
    hold_tolerance: Decimal = attrs.field(default=Decimal("0.002"), converter=convert.hold_tolerance)
    max_gross_leverage: Decimal | None = attrs.field(default=None, converter=convert.gross_leverage)

    def _settings(self) -> PlannerSettings:
        return PlannerSettings(
            fees=self.fees, slippage_bps=self.slippage_bps, cash_reserve=self.cash_reserve,
            absolute_band=self.absolute_band, relative_band=self.relative_band,
            min_trade_notional=self.min_trade_notional, mode=self.mode, turnover_cap=self.turnover_cap,
            untargeted=self.untargeted, max_leverage=self.max_leverage, allow_short=self.allow_short,
            rounding=self.rounding, exact_time_limit=self.exact_time_limit,
            hold_tolerance=self.hold_tolerance,
        )

    def _check_gross_exposure(self, inputs: PlanInputs) -> None:
        cap = self.max_gross_leverage
        if cap is None:
            return
        gross = sum((abs(weight) for weight in inputs.weights.values()), ZERO)
        frozen = ""
        if self.untargeted is UntargetedPolicy.FREEZE and inputs.portfolio_value > 0:
            held = sum(
                (abs(q * inputs.prices[s]) for s, q in inputs.positions.items() if s not in inputs.weights),
                ZERO,
            )
            if held:
                gross += held / inputs.portfolio_value
                frozen = " and frozen untargeted positions"
        if gross > cap + _GROSS_SLACK:
            raise InvalidInputError(
                "target_weights",
                dict(inputs.weights),
                f"long and short weights{frozen} add up to a gross exposure of {gross:.4f}, "
                f"above max_gross_leverage {cap}",
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
        self._check_gross_exposure(inputs)
        settings = self._settings()
        plan = _settle(inputs, self, allocate(inputs, settings))
        if self.absolute_band is None and self.relative_band is None:
            return plan
        # A band holds a name only if the name is still inside it after the plan: the plan's
        # costs lower the portfolio's value, and a re-plan right after execution must not find
        # the name outside and trade it. Names that leave their band lose it and the plan is
        # made again; they never get it back, so this ends (after one round nearly always).
        unbanded: frozenset[str] = frozenset()
        while breaches := _band_breaches(inputs, settings, plan, unbanded):
            unbanded |= breaches
            plan = _settle(inputs, self, allocate(inputs, settings, unbanded))
        return plan


def _band_breaches(inputs: PlanInputs, settings: PlannerSettings, plan: RebalancingPlan,
                   unbanded: frozenset[str]) -> frozenset[str]:
    """Names ``plan`` holds inside their band that a re-plan right after it executed would not
    hold the same way; that re-plan starts from the positions after and the cash after, their
    value summed as the re-plan sums it (so that both make the very same test)."""
    moved, prices = plan._rows.moved, inputs.prices
    positions = {symbol: quantity + moved.get(symbol, ZERO) for symbol, quantity in inputs.positions.items()}
    invested = sum((quantity * prices[symbol] for symbol, quantity in positions.items()), ZERO)
    after = attrs.evolve(inputs, positions=positions, cash=plan.cash_after,
                         portfolio_value=invested + plan.cash_after)
    return band_breaches(inputs, after, settings, plan._rows.allocation, unbanded)


def _per(value: Decimal) -> Decimal:
    """The factor that turns amounts into weights of ``value``: zero when costs took everything
    (a tiny portfolio closing a position against a minimum fee), where no weight is defined."""
    return 1 / value if value else ZERO


def _lot(inputs: PlanInputs, symbol: str) -> Decimal:
    instrument = inputs.instruments.get(symbol)
    return instrument.lot_size if instrument else _ONE


def _enforce_floor(inputs: PlanInputs, planner: RebalancingPlanner, allocation: Allocation,
                   cash: Decimal) -> None:
    """Cut the largest buy by a lot until cash meets the floor exactly (a rare float near-miss)."""
    lots, slip = allocation.lots, planner.slippage_bps / _BPS
    while cash < allocation.cash_floor and any(k > 0 for k in lots.values()):
        symbol = max((s for s, k in lots.items() if k > 0),
                     key=lambda s: (lots[s] * _lot(inputs, s) * inputs.prices[s], s))
        lot, price = _lot(inputs, symbol), inputs.prices[symbol]
        old = lots[symbol]
        new = old - 1
        instrument = inputs.instruments.get(symbol)
        minimum = max(planner.min_trade_notional, instrument.min_notional if instrument else ZERO)
        if new * lot * price < minimum or (instrument and new * lot < instrument.min_quantity):
            new = 0
        lots[symbol] = new
        for k, sign in ((old, 1), (new, -1)):  # give back the old trade's cash, take the new one's
            if k:
                quantity = k * lot
                cash += sign * (quantity * price * (1 + slip) + planner.fees.estimate(quantity, price))
        allocation.reasons[symbol] = TradeReason.CASH_LIMIT
        allocation.notes[symbol] = "cut so that cash stays at or above the reserve after costs"


def _raise_to_floor(inputs: PlanInputs, planner: RebalancingPlanner, allocation: Allocation,
                   cash: Decimal) -> bool:
    """Sell more of the largest sells until cash meets the floor exactly; True if anything changed.

    A plan that only sells, to raise cash toward the floor, can end a little below it: names
    held within rounding of their target keep their share of the shortfall, and a rounded sale
    pays a fee its ideal did not. A re-plan right after would then sell again. Only what is held
    is sold (never into a short), and a larger sale keeps every venue minimum it already met.
    """
    lots, slip, fees = allocation.lots, planner.slippage_bps / _BPS, planner.fees
    floor, changed = allocation.cash_floor, False
    sells = sorted((s for s, k in lots.items() if k < 0),
                   key=lambda s: (lots[s] * _lot(inputs, s) * inputs.prices[s], s))
    for symbol in sells:
        if cash >= floor:
            break
        lot, price = _lot(inputs, symbol), inputs.prices[symbol]
        old = lots[symbol]
        spare = int((inputs.positions[symbol] + old * lot) // lot)  # whole lots still held
        # What one more lot brings in at most: its proceeds less the fee it adds above a minimum.
        per_lot = lot * price * (1 - slip) - fees.bps * lot * price / _BPS - fees.per_share * lot
        if spare <= 0 or per_lot <= 0:
            continue
        extra = min(spare, max(1, int(((floor - cash) / per_lot).to_integral_value(ROUND_CEILING))))
        while True:
            new = old - extra
            cash += (-new * lot * price * (1 - slip) - fees.estimate(new * lot, price)) \
                - (-old * lot * price * (1 - slip) - fees.estimate(old * lot, price))
            old, changed = new, True
            if cash >= floor or extra >= spare:
                break
            spare -= extra
            extra = 1
        lots[symbol] = old
        allocation.reasons[symbol] = TradeReason.CASH_LIMIT
        allocation.notes[symbol] = "sold more so that cash reaches the reserve after costs"
    return changed


def _settle(inputs: PlanInputs, planner: RebalancingPlanner, allocation: Allocation) -> RebalancingPlan:
    """Turn lots into Decimal trades and per-symbol rows; compute the plan's figures."""
    slip = planner.slippage_bps / _BPS
    buy_factor, sell_factor = 1 + slip, 1 - slip
    fee_model, value, lots = planner.fees, inputs.portfolio_value, allocation.lots
    reasons, notes = allocation.reasons, allocation.notes
    cash, fees, slippage, traded = inputs.cash, ZERO, ZERO, ZERO
    sells: list[PlannedTrade] = []
    buys: list[PlannedTrade] = []
    moved: dict[str, Decimal] = {}  # signed quantity traded
    free, no_slip = fee_model.is_free, not slip  # skip arithmetic that can only give zero
    instruments, prices = inputs.instruments, inputs.prices
    for symbol, k in lots.items():  # in symbol order, so sells and buys each come sorted
        if not k:
            continue
        instrument, price = instruments.get(symbol), prices[symbol]
        lot = instrument.lot_size if instrument else _ONE
        quantity = abs(k) * lot
        fee = ZERO if free else fee_model.estimate(quantity, price)
        moved[symbol] = k * lot
        reference = quantity * price
        # Positional construction: thousands of rows per plan, and keywords cost a microsecond each.
        if k > 0:
            estimated = price if no_slip else price * buy_factor
            notional = reference if no_slip else quantity * estimated
            cash -= notional + fee
            buys.append(PlannedTrade(symbol, OrderSide.BUY, quantity, price, estimated, notional, fee,
                                     reasons[symbol], notes.get(symbol, "")))
        else:
            estimated = price if no_slip else price * sell_factor
            notional = reference if no_slip else quantity * estimated
            cash += notional - fee
            sells.append(PlannedTrade(symbol, OrderSide.SELL, quantity, price, estimated, notional, fee,
                                      reasons[symbol], notes.get(symbol, "")))
        if not free:
            fees += fee
        if not no_slip:
            slippage += reference * slip
        traded += reference
    if cash < allocation.cash_floor and buys:
        _enforce_floor(inputs, planner, allocation, cash)
        return _settle(inputs, planner, allocation)
    if cash < allocation.cash_floor and sells and inputs.cash < allocation.cash_floor \
            and _raise_to_floor(inputs, planner, allocation, cash):
        return _settle(inputs, planner, allocation)
    # Trades exchange cash for positions at the reference prices; only their costs leave.
    value_after = value - fees - slippage
    per_before, per_after = 1 / value, _per(value_after)
    prices, weights = inputs.prices, inputs.weights
    error = abs(cash * per_after - inputs.cash_weight)
    for symbol, before in inputs.positions.items():
        change = moved.get(symbol)
        after = before if change is None else before + change
        target = weights.get(symbol)
        weight_after = after * prices[symbol] * per_after if after else ZERO
        error += abs(weight_after - target) if target is not None else abs(weight_after)
    return RebalancingPlan(
        trades=(*sells, *buys), cash_before=inputs.cash, cash_after=cash,
        cash_floor=allocation.cash_floor, cash_weight_before=inputs.cash * per_before,
        target_cash_weight=inputs.cash_weight, cash_weight_after=cash * per_after,
        portfolio_value_before=value, portfolio_value_after=value_after, traded_notional=traded,
        turnover=traded * per_before, total_fees=fees, total_slippage=slippage, rounding_error=error,
        rounding=planner.rounding, rows=_Rows(inputs, allocation, moved, value_after),
    )

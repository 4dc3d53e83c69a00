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

import attrs

from engine._planning import inputs as convert
from engine._planning.allocation import allocate
from engine._planning.inputs import PlanInputs, parse_inputs
from engine._planning.options import RebalanceMode, RoundingMethod, UntargetedPolicy
from engine._planning.plan import PlannedTrade, RebalancingPlan, SymbolAllocation
from engine._planning.settings import PlannerSettings
from engine._planning.settle import band_breaches_after, settle
from engine.errors import InvalidInputError
from engine.fees import FeeModel
from engine.instruments import Instrument
from engine.numbers import ZERO, Number

# As for the net sum of the weights: weights given as floats may add up a hair over a round cap.
_GROSS_SLACK = Decimal("1e-9")

__all__ = ["PlannedTrade", "RebalancingPlan", "RebalancingPlanner", "SymbolAllocation"]


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
        plan = settle(inputs, settings, allocate(inputs, settings))
        if self.absolute_band is None and self.relative_band is None:
            return plan
        # A band holds a name only if the name is still inside it after the plan: the plan's
        # costs lower the portfolio's value, and a re-plan right after execution must not find
        # the name outside and trade it. Names that leave their band lose it and the plan is
        # made again; they never get it back, so this ends (after one round nearly always).
        unbanded: frozenset[str] = frozenset()
        while breaches := band_breaches_after(inputs, settings, plan, unbanded):
            unbanded |= breaches
            plan = settle(inputs, settings, allocate(inputs, settings, unbanded))
        return plan



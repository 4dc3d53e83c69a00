"""The planner's settings as the allocation reads them, and the allocation's outcome."""

from __future__ import annotations

from decimal import Decimal

import attrs

from engine._planning.options import RebalanceMode, RoundingMethod, TradeReason, UntargetedPolicy
from engine.fees import FeeModel

__all__ = ["Allocation", "PlannerSettings"]


@attrs.frozen
class PlannerSettings:
    """The planner's knobs, validated, in the form the allocation reads them."""

    fees: FeeModel
    slippage_bps: Decimal
    cash_reserve: Decimal
    absolute_band: Decimal | None
    relative_band: Decimal | None
    min_trade_notional: Decimal
    mode: RebalanceMode
    turnover_cap: Decimal | None
    untargeted: UntargetedPolicy
    max_leverage: Decimal
    allow_short: bool
    rounding: RoundingMethod
    exact_time_limit: float
    hold_tolerance: Decimal


@attrs.define
class Allocation:
    """The outcome per symbol: trade size in lots, the ideal quantity, the reason and a note."""

    lots: dict[str, int]
    ideal: dict[str, float]
    reasons: dict[str, TradeReason]
    notes: dict[str, str]
    cash_floor: Decimal

"""The vocabulary of a rebalancing plan: why a trade is what it is, and the planner's modes."""

from __future__ import annotations

import enum

__all__ = ["RebalanceMode", "RoundingMethod", "TradeReason", "UntargetedPolicy"]


class RebalanceMode(enum.Enum):
    """Which trades a plan may contain."""

    #: Buy and sell toward the targets.
    FULL = "full"
    #: Put spare cash to work: buys only, nothing is sold.
    INVEST_CASH = "invest_cash"
    #: Raise cash: sells only, nothing is bought.
    RAISE_CASH = "raise_cash"


class UntargetedPolicy(enum.Enum):
    """What happens to a symbol that is held but has no target weight."""

    #: Sell it entirely (its target is zero).
    SELL = "sell"
    #: Leave it as it is; its value is kept out of the allocation of the others.
    FREEZE = "freeze"


class RoundingMethod(enum.Enum):
    """How ideal (fractional) quantities become whole lots."""

    #: Largest-remainder rounding under one cash budget: fast, within a few percent of optimal.
    LARGEST_REMAINDER = "largest_remainder"
    #: Exact integer optimisation (needs scipy); falls back to the heuristic's answer when the
    #: solver finds nothing better within its time limit.
    EXACT = "exact"


class TradeReason(enum.Enum):
    """Why a symbol trades as it does, or does not trade; every plan row carries one."""

    #: Traded to its target, rounded to the nearest lot that the cash budget allows.
    REBALANCE = "rebalance"
    #: Held without a target: sold entirely.
    LIQUIDATE = "liquidate"
    #: Already within one lot (plus the hold tolerance) of its target: trading would not help.
    AT_TARGET = "at_target"
    #: Its weight is inside the drift band; it keeps its position and the others are re-sized.
    INSIDE_BAND = "inside_band"
    #: Held without a target under ``UntargetedPolicy.FREEZE``.
    FROZEN = "frozen"
    #: The trade would be below the minimum notional (venue or planner).
    BELOW_MIN_NOTIONAL = "below_min_notional"
    #: The trade would be below the venue's minimum quantity.
    BELOW_MIN_QUANTITY = "below_min_quantity"
    #: Rounded to whole lots further than one lot from the ideal (e.g. a stray fraction).
    LOT_ROUNDING = "lot_rounding"
    #: Buys were cut so that cash stays at or above the reserve after fees and slippage.
    CASH_LIMIT = "cash_limit"
    #: Trades were scaled down to respect the turnover cap.
    TURNOVER_CAP = "turnover_cap"
    #: The mode forbids this side (buys only, or sells only).
    MODE = "mode"

    @property
    def is_adjustment(self) -> bool:
        """True when the symbol did not simply trade to (or already sit at) its target."""
        return self not in (TradeReason.REBALANCE, TradeReason.LIQUIDATE, TradeReason.AT_TARGET)

    @property
    def text(self) -> str:
        """A short explanation in words, for notes and tables."""
        return _TEXTS[self]


_TEXTS = {
    TradeReason.REBALANCE: "traded to its target, rounded to whole lots",
    TradeReason.LIQUIDATE: "held without a target; sold",
    TradeReason.AT_TARGET: "within one lot of its target; trading would not bring it closer",
    TradeReason.INSIDE_BAND: "its weight is inside the drift band; not traded",
    TradeReason.FROZEN: "held without a target; kept as it is",
    TradeReason.BELOW_MIN_NOTIONAL: "the trade would be below the minimum notional",
    TradeReason.BELOW_MIN_QUANTITY: "the trade would be below the minimum quantity",
    TradeReason.LOT_ROUNDING: "only whole lots can trade",
    TradeReason.CASH_LIMIT: "cut so that cash stays at or above the reserve after costs",
    TradeReason.TURNOVER_CAP: "scaled down to respect the turnover cap",
    TradeReason.MODE: "the mode forbids this side",
}

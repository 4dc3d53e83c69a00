"""A rebalancing plan run as TWAP parents: its order of work, and its outcome summed up.

``split_plan`` checks the plan and says which trades run first; ``PlanExecutionReport`` holds one
report per trade and the totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs

from engine._twap.report import ExecutionReport
from engine.errors import InvalidInputError
from engine.orders import OrderSide
from engine.rebalancing_plan import PlannedTrade, RebalancingPlan

__all__ = ["PlanExecutionReport", "split_plan", "summarize_plan"]

ZERO = Decimal(0)


@attrs.frozen
class PlanExecutionReport:
    """The outcome of a ``RebalancingPlan``: one report per trade and a summary."""

    reports: tuple[ExecutionReport, ...]
    sells_first: bool
    bought_notional: Decimal
    sold_notional: Decimal
    fees: Decimal
    fully_filled: int

    @property
    def all_filled(self) -> bool:
        """True when every parent filled its whole quantity."""
        return self.fully_filled == len(self.reports)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "reports": [r.to_dict() for r in self.reports],
            "sells_first": self.sells_first,
            "bought_notional": str(self.bought_notional),
            "sold_notional": str(self.sold_notional),
            "fees": str(self.fees),
            "fully_filled": self.fully_filled,
        }


def split_plan(plan: Any, sells_first: Any) -> tuple[list[PlannedTrade], list[PlannedTrade], bool]:
    """Check ``plan`` and ``sells_first``; return the sells, the buys and whether sells go first
    (when ``sells_first`` is None: when the buys' notional and fees exceed the cash before)."""
    if not isinstance(plan, RebalancingPlan):
        raise InvalidInputError("plan", plan, "expected a RebalancingPlan")
    if sells_first is not None and not isinstance(sells_first, bool):
        raise InvalidInputError("sells_first", sells_first, "expected True, False or None")
    sells = [t for t in plan.trades if t.side is OrderSide.SELL]
    buys = [t for t in plan.trades if t.side is OrderSide.BUY]
    if sells_first is None:
        need = sum((t.notional + t.estimated_fee for t in buys), ZERO)
        sells_first = bool(sells) and need > plan.cash_before
    return sells, buys, sells_first


def summarize_plan(reports: Sequence[ExecutionReport], sells_first: bool) -> PlanExecutionReport:
    """The plan's report: every parent's, with the notional bought and sold and the fees."""
    def notional(side: OrderSide) -> Decimal:
        return sum(((r.avg_price or ZERO) * r.filled_quantity for r in reports if r.side is side), ZERO)

    bought, sold = notional(OrderSide.BUY), notional(OrderSide.SELL)
    return PlanExecutionReport(
        reports=tuple(reports),
        sells_first=sells_first,
        bought_notional=bought,
        sold_notional=sold,
        fees=sum((r.fees for r in reports), ZERO),
        fully_filled=sum(1 for r in reports if r.filled_quantity == r.quantity),
    )

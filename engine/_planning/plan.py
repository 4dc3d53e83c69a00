"""A rebalancing plan as a value: its trades, its rows per symbol, its figures and its table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from engine._planning.inputs import PlanInputs
from engine._planning.options import RoundingMethod, TradeReason
from engine._planning.settings import Allocation
from engine.errors import InvalidInputError
from engine.numbers import ZERO
from engine.orders import OrderSide

__all__ = ["PlanRows", "PlannedTrade", "RebalancingPlan", "SymbolAllocation", "format_plan", "weight_factor"]


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


class PlanRows:
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
            per_before, per_after = 1 / inputs.portfolio_value, weight_factor(self._value_after)
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
    _rows: PlanRows = attrs.field(eq=False, repr=False, alias="rows")

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


def weight_factor(value: Decimal) -> Decimal:
    """The factor that turns amounts into weights of ``value``: zero when costs took everything
    (a tiny portfolio closing a position against a minimum fee), where no weight is defined."""
    return 1 / value if value else ZERO


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _percent(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


def _quantity(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def format_plan(plan: RebalancingPlan) -> str:
    """Render ``plan`` as text: what trades, what it costs, and why each symbol ends where it does."""
    trades = {trade.symbol: trade for trade in plan.trades}
    lines = [
        f"Rebalancing plan: {_count(len(plan.trades), 'trade')} "
        f"({_count(len(plan.sells), 'sell')}, {_count(len(plan.buys), 'buy')}), "
        f"turnover {_percent(plan.turnover)}, rounding error {plan.rounding_error:.6f}",
        f"cash {_money(plan.cash_before)} -> {_money(plan.cash_after)} "
        f"(weight {_percent(plan.cash_weight_before)} -> {_percent(plan.cash_weight_after)}, "
        f"target {_percent(plan.target_cash_weight)}; floor {_money(plan.cash_floor)}); "
        f"fees {_money(plan.total_fees)}, slippage {_money(plan.total_slippage)}",
    ]
    header = ("symbol", "side", "quantity", "est. price", "notional", "fee",
              "before", "target", "after", "reason")
    rows = [header]
    # Sells first, as they will be sent; then buys; then the symbols that do not trade.
    order = [t.symbol for t in plan.trades] + [a.symbol for a in plan.allocations if a.symbol not in trades]
    by_symbol = {a.symbol: a for a in plan.allocations}
    for symbol in order:
        row = by_symbol[symbol]
        trade = trades.get(symbol)
        rows.append((
            symbol,
            str(trade.side) if trade else "-",
            _quantity(trade.quantity) if trade else "0",
            _money(trade.estimated_price) if trade else _money(row.price),
            _money(trade.notional) if trade else "-",
            _money(trade.estimated_fee) if trade else "-",
            _percent(row.weight_before),
            _percent(row.target_weight),
            _percent(row.weight_after),
            row.reason.value if not row.reason.is_adjustment else f"{row.reason.value}: {row.note}",
        ))
    widths = [max(len(r[c]) for r in rows) for c in range(len(header) - 1)]
    for r in rows:
        # The last column (the reason) is free text and is not padded.
        pairs = enumerate(zip(r, widths, strict=False))
        cells = [cell.ljust(w) if c < 2 else cell.rjust(w) for c, (cell, w) in pairs]
        lines.append("  ".join([*cells, r[-1]]).rstrip())
    return "\n".join(lines)

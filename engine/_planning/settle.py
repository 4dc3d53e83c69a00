"""From rounded lots to a plan: Decimal trades, costs, the cash floor, the plan's figures.

The allocation rounds in lots on floats; settling prices every trade exactly in Decimal, cuts or
raises trades by a lot where the exact cash misses the floor, and builds the ``RebalancingPlan``.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

import attrs

from engine._planning.bands import band_breaches
from engine._planning.inputs import PlanInputs
from engine._planning.options import TradeReason
from engine._planning.plan import PlannedTrade, PlanRows, RebalancingPlan, weight_factor
from engine._planning.settings import Allocation, PlannerSettings
from engine.numbers import ZERO
from engine.orders import OrderSide

__all__ = ["band_breaches_after", "settle"]

_BPS = Decimal(10_000)
_ONE = Decimal(1)


def band_breaches_after(inputs: PlanInputs, settings: PlannerSettings, plan: RebalancingPlan,
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


def _lot(inputs: PlanInputs, symbol: str) -> Decimal:
    instrument = inputs.instruments.get(symbol)
    return instrument.lot_size if instrument else _ONE


def _enforce_floor(inputs: PlanInputs, settings: PlannerSettings, allocation: Allocation,
                   cash: Decimal) -> None:
    """Cut the largest buy by a lot until cash meets the floor exactly (a rare float near-miss)."""
    lots, slip = allocation.lots, settings.slippage_bps / _BPS
    while cash < allocation.cash_floor and any(k > 0 for k in lots.values()):
        symbol = max((s for s, k in lots.items() if k > 0),
                     key=lambda s: (lots[s] * _lot(inputs, s) * inputs.prices[s], s))
        lot, price = _lot(inputs, symbol), inputs.prices[symbol]
        old = lots[symbol]
        new = old - 1
        instrument = inputs.instruments.get(symbol)
        if instrument is None:
            if new * lot * price < settings.min_trade_notional:
                new = 0
        elif new < max(instrument.min_order_lots(price, settings.min_trade_notional)):
            new = 0
        lots[symbol] = new
        for k, sign in ((old, 1), (new, -1)):  # give back the old trade's cash, take the new one's
            if k:
                quantity = k * lot
                cash += sign * (quantity * price * (1 + slip) + settings.fees.estimate(quantity, price))
        allocation.reasons[symbol] = TradeReason.CASH_LIMIT
        allocation.notes[symbol] = "cut so that cash stays at or above the reserve after costs"


def _raise_to_floor(inputs: PlanInputs, settings: PlannerSettings, allocation: Allocation,
                   cash: Decimal) -> bool:
    """Sell more of the largest sells until cash meets the floor exactly; True if anything changed.

    A plan that only sells, to raise cash toward the floor, can end a little below it: names
    held within rounding of their target keep their share of the shortfall, and a rounded sale
    pays a fee its ideal did not. A re-plan right after would then sell again. Only what is held
    is sold (never into a short), and a larger sale keeps every venue minimum it already met.
    """
    lots, slip, fees = allocation.lots, settings.slippage_bps / _BPS, settings.fees
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


def settle(inputs: PlanInputs, settings: PlannerSettings, allocation: Allocation) -> RebalancingPlan:
    """Turn lots into Decimal trades and per-symbol rows; compute the plan's figures."""
    slip = settings.slippage_bps / _BPS
    buy_factor, sell_factor = 1 + slip, 1 - slip
    fee_model, value, lots = settings.fees, inputs.portfolio_value, allocation.lots
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
        _enforce_floor(inputs, settings, allocation, cash)
        return settle(inputs, settings, allocation)
    if cash < allocation.cash_floor and sells and inputs.cash < allocation.cash_floor \
            and _raise_to_floor(inputs, settings, allocation, cash):
        return settle(inputs, settings, allocation)
    # Trades exchange cash for positions at the reference prices; only their costs leave.
    value_after = value - fees - slippage
    per_before, per_after = 1 / value, weight_factor(value_after)
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
        rounding=settings.rounding, rows=PlanRows(inputs, allocation, moved, value_after),
    )

"""Drift bands and "within rounding": which names keep their position instead of trading.

A name inside every band around its target keeps its position; a name within rounding of its
target (nearer than twice the smallest trade its rules allow) is held but its residual stays in
cash. ``band_breaches`` re-judges a plan's banded names as a re-plan right after execution would.
"""

from __future__ import annotations

from decimal import Decimal

from engine._planning.inputs import PlanInputs
from engine._planning.options import TradeReason, UntargetedPolicy
from engine._planning.settings import Allocation, PlannerSettings
from engine.instruments import Instrument
from engine.numbers import ZERO

__all__ = ["WHOLE_SHARES", "band_breaches", "near_targets"]

# A name without venue rules trades whole shares with no minimum (its symbol is never read).
WHOLE_SHARES = Instrument(symbol="any")
_INFINITY, _MINUS_INFINITY = Decimal("Infinity"), Decimal("-Infinity")


def _smallest_trade(inputs: PlanInputs, settings: PlannerSettings, symbol: str) -> Decimal:
    """The value of the smallest trade the rules allow: nearer than that, rounding keeps the
    position anyway."""
    instrument = inputs.instruments.get(symbol) or WHOLE_SHARES
    price = inputs.prices[symbol]
    return max(instrument.min_order_lots(price, settings.min_trade_notional)) * instrument.lot_size * price


def _closeness(inputs: PlanInputs, settings: PlannerSettings, symbol: str, target_value: Decimal) -> Decimal:
    """The position's distance from ``target_value`` as a share of what counts as within rounding
    of it: twice the smallest allowed trade plus the tolerance. Below 1 is within rounding.

    Such a name is left to the hold test rather than frozen, so its rounding residual stays in
    cash instead of re-sizing everyone else: re-planning after execution then finds the same
    ideals and nothing to do.
    """
    gap = abs(inputs.positions[symbol] * inputs.prices[symbol] - target_value)
    smallest = _smallest_trade(inputs, settings, symbol)
    # Twice: costs and the others' rounding still move the target a little.
    return gap / (2 * smallest + settings.hold_tolerance * abs(target_value))


def near_targets(inputs: PlanInputs, settings: PlannerSettings, unbanded: frozenset[str],
                 value: Decimal) -> dict[str, bool]:
    """For each name inside its band in ``value``: is it within rounding of its target?

    The target is the one the name shares with the names that trade, not its plain weight of
    ``value``: the names kept in place leave more or less than their weights to the others. Which
    names are kept in place (those not within rounding) and the targets decide each other; the
    answer is the consistent choice that keeps the fewest in place. A name the plan traded sits
    at its shared target, so a re-plan after execution finds the same choice and holds it,
    instead of keeping it at its rounded value and re-sizing the others around its residual.
    """
    weights, positions, prices = inputs.weights, inputs.positions, inputs.prices
    instruments = inputs.instruments
    freeze = settings.untargeted is UntargetedPolicy.FREEZE
    held: dict[str, Decimal] = {}
    kept = ZERO  # value of untargeted positions kept, or their stray fractions that cannot be sold
    for symbol in inputs.symbols:
        weight, quantity = weights.get(symbol), positions[symbol]
        if weight is None:
            if freeze:
                kept += quantity * prices[symbol]
            elif not settings.allow_short and quantity:
                instrument = instruments.get(symbol)
                lot = instrument.lot_size if instrument else Decimal(1)
                kept += max(quantity % lot, ZERO) * prices[symbol]
        elif symbol not in unbanded and _inside_band(settings, quantity * prices[symbol] / value, weight):
            held[symbol] = weight
    if not held:
        return {}
    cash_target = max(inputs.cash_weight * value, settings.cash_reserve - (settings.max_leverage - 1) * value)
    every = weights.values()
    shares = _Shares(value, value - kept - cash_target - sum(every, ZERO) * value,
                     sum((abs(w) for w in every), ZERO), sum((w for w in every if w > 0), ZERO))
    deviation = {s: positions[s] * prices[s] - w * value for s, w in held.items()}
    # Every name is within rounding of its target for the share ratios (surplus over the
    # sharing weight) of one interval: sweep the ratio, starting with every name kept in place,
    # and let go of each name over its interval. Each stretch between two ends fixes who is
    # kept, hence a ratio; a consistent choice is one whose ratio lies in its own stretch.
    events: list[tuple[Decimal, int, str]] = []
    for symbol, weight in held.items():
        low, high = _near_ratios(inputs, settings, symbol, weight, value)
        shares.add(deviation[symbol], weight, 1)
        if low < high:
            events.append((low, 1, symbol))
            events.append((high, -1, symbol))
    events.sort()
    best: tuple[int, Decimal, frozenset[str]] | None = None
    near: set[str] = set()
    start = _MINUS_INFINITY
    index = 0
    while True:
        end = events[index][0] if index < len(events) else _INFINITY
        ratio = shares.ratio()
        if start < ratio < end:
            chosen = frozenset(near)
            # Confirm in the very test the planner makes (ends are where it is decided).
            if all((_closeness(inputs, settings, s, shares.target(w)) < 1) == (s in chosen)
                   for s, w in held.items()):
                rank = (len(held) - len(chosen), abs(ratio), chosen)
                if best is None or rank[:2] < best[:2]:
                    best = rank
        if index >= len(events):
            break
        while index < len(events) and events[index][0] == end:
            _end, entering, symbol = events[index]
            if entering == 1:
                near.add(symbol)
            else:
                near.discard(symbol)
            shares.add(deviation[symbol], held[symbol], -entering)
            index += 1
        start = end
    if best is None:  # no consistent choice (rare): every name is judged by its plain target
        return {s: _closeness(inputs, settings, s, w * value) < 1 for s, w in held.items()}
    return {symbol: symbol in best[2] for symbol in held}


def _near_ratios(inputs: PlanInputs, settings: PlannerSettings, symbol: str, weight: Decimal,
                 value: Decimal) -> tuple[Decimal, Decimal]:
    """The open interval of share ratios for which the name is within rounding of its target."""
    held = inputs.positions[symbol] * inputs.prices[symbol]
    slack, tolerance = 2 * _smallest_trade(inputs, settings, symbol), settings.hold_tolerance
    # |held - t| < slack + tolerance·|t| holds for t in one interval (the left side less the
    # right falls, then rises, in t).
    low = (held - slack) / (1 + tolerance) if held - slack >= 0 else (held - slack) / (1 - tolerance)
    high = (held + slack) / (1 - tolerance) if held + slack >= 0 else (held + slack) / (1 + tolerance)
    plain = weight * value
    if weight > 0:  # t = plain + r·w, never below 0 (for r < 0 the target is floored at zero)
        return (_MINUS_INFINITY if low < 0 else (low - plain) / weight), (high - plain) / weight
    if weight < 0:  # t = plain + r·|w| for r >= 0; for r < 0 the target stays at plain
        if low < plain < high:
            return _MINUS_INFINITY, (high - plain) / -weight
        return max((low - plain) / -weight, ZERO), (high - plain) / -weight
    return (_MINUS_INFINITY, _INFINITY) if low < 0 < high else (ZERO, ZERO)


class _Shares:
    """How the names that trade share what the names kept in place leave, kept as running sums."""

    __slots__ = ("base", "kept_deviation", "kept_long", "kept_weight", "long_weight", "total_weight", "value")

    def __init__(self, value: Decimal, base: Decimal, total_weight: Decimal, long_weight: Decimal) -> None:
        self.value, self.base = value, base  # base: the surplus when no name is kept in place
        self.total_weight, self.long_weight = total_weight, long_weight  # of every targeted name
        self.kept_deviation = self.kept_weight = self.kept_long = ZERO

    def add(self, deviation: Decimal, weight: Decimal, sign: int) -> None:
        """Keep a name in place (``sign`` 1) or let it go (-1): its deviation from its plain
        target and its weight."""
        self.kept_deviation += sign * deviation
        self.kept_weight += sign * abs(weight)
        if weight > 0:
            self.kept_long += sign * weight

    def ratio(self) -> Decimal:
        """What each unit of weight of the names that trade gets on top of its plain target."""
        surplus = self.base - self.kept_deviation
        spread = self.total_weight - self.kept_weight if surplus >= 0 else self.long_weight - self.kept_long
        return surplus / spread if spread else ZERO

    def target(self, weight: Decimal) -> Decimal:
        """The target value of a name that trades, as ``_Planner._set_targets`` sets it."""
        surplus = self.base - self.kept_deviation
        spread = self.total_weight - self.kept_weight if surplus >= 0 else self.long_weight - self.kept_long
        target = weight * self.value
        if spread and (surplus >= 0 or weight > 0):
            target += surplus * abs(weight) / spread
        if surplus < 0 and weight > 0:
            target = max(target, ZERO)
        return target


def _inside_band(settings: PlannerSettings, current: Decimal, target: Decimal) -> bool:
    if settings.absolute_band is None and settings.relative_band is None:
        return False
    drift = abs(current - target)
    if settings.absolute_band is not None and drift > settings.absolute_band:
        return False
    return settings.relative_band is None or drift <= settings.relative_band * abs(target)


def band_breaches(inputs: PlanInputs, after: PlanInputs, settings: PlannerSettings,
                  allocation: Allocation, unbanded: frozenset[str]) -> frozenset[str]:
    """The names the allocation holds inside their band that a re-plan would not hold the same way.

    Fees and slippage lower the portfolio's value, so every position left alone weighs a little
    more once the plan has run. Judged only against the value before, a name just inside its
    band would be outside it for a re-plan right after execution, which would then trade it.
    ``after`` is what that re-plan starts from (positions after, cash after, their value); the
    test is the one the re-plan makes, in the same Decimal arithmetic.
    """
    value_after = after.portfolio_value
    if value_after <= 0:
        return frozenset()  # costs took everything: no weight is defined, and no band either
    held = [symbol for symbol, reason in allocation.reasons.items() if reason is TradeReason.INSIDE_BAND]
    if not held:
        return frozenset()
    before = near_targets(inputs, settings, unbanded, inputs.portfolio_value)
    replan = near_targets(after, settings, unbanded, value_after)
    # Outside after the costs, or held in place (frozen) versus within rounding of its target
    # (pinned), which the others' targets treat differently: the re-plan must choose the same.
    return frozenset(symbol for symbol in held if replan.get(symbol) != before.get(symbol))

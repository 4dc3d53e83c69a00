"""Rounding ideal quantities to whole lots under one cash budget (the planner's inner loop).

Each name that may trade brings a bracket of two feasible trade sizes in lots, ``k_low`` and
``k_high``, around its ideal. All names start low (the choice that keeps the most cash); a pass
then moves names up, in a given order, whenever that lowers the total L1 error, cash included,
and keeps cash at or above the floor and turnover under the cap (the orders and further searches
are in ``engine._planning.rounding_search``). If even the all-low start breaks the floor or the cap (fees,
slippage, a reserve), ``repair`` first cuts the largest buys, and records why.

Everything here is in floats for speed; the planner settles the chosen quantities in Decimal and
verifies the cash floor exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs

from engine._planning.options import TradeReason

__all__ = ["RoundingProblem", "RoundingResult", "exactly_feasible", "objective", "run_pass", "start_low"]


@attrs.define
class RoundingProblem:
    """The float view of one rounding problem: parallel lists, one entry per name that may trade."""

    quantity: list[float]  # current quantity
    lot: list[float]
    price: list[float]
    target: list[float]  # the value the bracket was built around (after mode, cash and cap cuts)
    goal: list[float]  # the ideal value before those cuts: spare cash moves positions toward it
    k_low: list[int]  # trade size in lots: the lower end of the bracket around the ideal
    k_high: list[int]
    k_min: list[int]  # hard bounds on the trade in lots (mode, no shorting)
    k_max: list[int]
    min_lots: list[int]  # the smallest non-zero trade the venue accepts, in lots
    cash_start: float  # cash after every name outside the problem is settled
    cash_target: float
    cash_floor: float  # already includes a small safety margin for float error
    turnover_cap: float  # in cash; math.inf when there is none
    turnover_start: float
    buy_factor: float  # 1 + slippage
    sell_factor: float  # 1 - slippage
    fee_bps: float
    fee_per_share: float
    fee_minimum: float
    tolerance: float  # improvements smaller than this are noise
    # Exact (Decimal) test of the cash floor for a choice of lots, asked only when the float
    # cash lands within ``cash_margin`` below ``cash_floor`` (e.g. a plan that spends every cent).
    exact_floor_check: Callable[[list[int]], bool] | None = None
    cash_margin: float = 0.0
    _free: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        self._free = self.fee_bps == 0 and self.fee_per_share == 0 and self.fee_minimum == 0

    def cashflow(self, i: int, k: int) -> float:
        """Cash in (positive) or out (negative) of trading ``k`` lots of name ``i``, fees included."""
        if k == 0:
            return 0.0
        if self._free:
            notional = k * self.lot[i] * self.price[i]
            return -notional * (self.buy_factor if k > 0 else self.sell_factor)
        shares = abs(k) * self.lot[i]
        notional = shares * self.price[i]
        fee = max(self.fee_minimum, self.fee_bps * notional / 10_000.0 + self.fee_per_share * shares)
        if k > 0:
            return -notional * self.buy_factor - fee
        return notional * self.sell_factor - fee

    def error(self, i: int, k: int) -> float:
        """Distance in cash of the position after ``k`` lots from its target."""
        return abs((self.quantity[i] + k * self.lot[i]) * self.price[i] - self.target[i])

    def turnover(self, i: int, k: int) -> float:
        """Traded notional of ``k`` lots at the reference price."""
        return abs(k) * self.lot[i] * self.price[i]

    def allowed(self, i: int, k: int) -> bool:
        """True when ``k`` lots is a trade the rules accept (zero always is)."""
        return k == 0 or (self.k_min[i] <= k <= self.k_max[i] and abs(k) >= self.min_lots[i])


@attrs.define
class RoundingResult:
    """Chosen trade sizes in lots, the cash and turnover they leave, and why any was cut."""

    k: list[int]
    cash: float
    turnover: float
    reasons: dict[int, TradeReason]


def _cut_buys(problem: RoundingProblem, result: RoundingResult, reason: TradeReason,
              shortfall: float, measure_cash: bool) -> float:
    """Shrink the largest buys first until ``shortfall`` (cash or turnover) is covered."""
    ks = result.k
    buys = sorted((i for i in range(len(ks)) if ks[i] > 0), key=lambda i: (-problem.turnover(i, ks[i]), i))
    for i in buys:
        if shortfall <= 0:
            break
        unit = problem.lot[i] * problem.price[i] * (problem.buy_factor if measure_cash else 1.0)
        new = max(ks[i] - math.ceil(shortfall / unit), 0)
        if 0 < new < problem.min_lots[i]:
            new = 0
        freed = (problem.cashflow(i, new) - problem.cashflow(i, ks[i]) if measure_cash
                 else problem.turnover(i, ks[i]) - problem.turnover(i, new))
        result.cash += problem.cashflow(i, new) - problem.cashflow(i, ks[i])
        result.turnover += problem.turnover(i, new) - problem.turnover(i, ks[i])
        ks[i] = new
        result.reasons[i] = reason
        shortfall -= freed
    return shortfall


def _sell_more(problem: RoundingProblem, result: RoundingResult, shortfall: float) -> None:
    """Raise missing cash by selling more of the largest holdings (only when buys are all gone).

    Sells whose fee exceeds their proceeds are dropped first: they take cash instead of raising it.
    """
    ks = result.k
    for i, k in enumerate(ks):
        if k < 0 and problem.cashflow(i, k) < 0 and shortfall > 0:
            shortfall += problem.cashflow(i, k)
            result.cash -= problem.cashflow(i, k)
            result.turnover -= problem.turnover(i, k)
            ks[i] = 0
            result.reasons[i] = TradeReason.CASH_LIMIT
    # Only what is held can be sold for cash: going short would raise cash that is owed back,
    # and lower the portfolio's value by the costs.
    lowest = [max(problem.k_min[i], -math.floor(problem.quantity[i] / problem.lot[i] + 1e-9))
              for i in range(len(ks))]
    holders = sorted(
        (i for i in range(len(ks)) if ks[i] > lowest[i]),
        key=lambda i: (-(problem.quantity[i] + ks[i] * problem.lot[i]) * problem.price[i], i),
    )
    for i in holders:
        if shortfall <= 0:
            break
        unit = problem.lot[i] * problem.price[i] * problem.sell_factor
        new = max(ks[i] - math.ceil(shortfall / unit), lowest[i])
        if new < ks[i] and not (-problem.min_lots[i] < new + 1 < 0):
            # The floor carries a float safety margin, so a need that is a whole number of lots
            # rounds up to one lot too many: keep one lot less when the exact check allows it.
            fewer_cash = result.cash + problem.cashflow(i, new + 1) - problem.cashflow(i, ks[i])
            if exactly_feasible(problem, ks, i, fewer_cash, new + 1):
                new += 1
        if -problem.min_lots[i] < new < 0:
            if -problem.min_lots[i] < lowest[i]:
                continue
            new = -problem.min_lots[i]
        change = problem.cashflow(i, new) - problem.cashflow(i, ks[i])
        if change <= 0:
            continue
        result.cash += change
        result.turnover += problem.turnover(i, new) - problem.turnover(i, ks[i])
        ks[i] = new
        result.reasons[i] = TradeReason.CASH_LIMIT
        shortfall -= change


def _trim_sells(problem: RoundingProblem, result: RoundingResult, excess: float) -> None:
    """Sell less (largest sells first) to meet the turnover cap, as far as cash allows."""
    ks = result.k
    # Sells that cost more in fees than they raise go first: trimming them frees cash, which can
    # be what lets a larger sell be trimmed at all.
    sells = sorted((i for i in range(len(ks)) if ks[i] < 0),
                   key=lambda i: (problem.cashflow(i, ks[i]) >= 0, problem.turnover(i, -ks[i]) * -1, i))
    for i in sells:
        if excess <= 0:
            break
        new = min(ks[i] + math.ceil(excess / (problem.lot[i] * problem.price[i])), 0)
        if -problem.min_lots[i] < new < 0:
            new = 0
        cash_change = problem.cashflow(i, new) - problem.cashflow(i, ks[i])
        new_cash = result.cash + cash_change
        if new_cash < problem.cash_floor and not exactly_feasible(problem, ks, i, new_cash, new):
            continue
        saved = problem.turnover(i, ks[i]) - problem.turnover(i, new)
        result.cash += cash_change
        result.turnover -= saved
        ks[i] = new
        result.reasons[i] = TradeReason.TURNOVER_CAP
        excess -= saved


def _shortfall(problem: RoundingProblem, result: RoundingResult) -> float:
    shortfall = problem.cash_floor - result.cash
    if 0 < shortfall <= problem.cash_margin and problem.exact_floor_check is not None \
            and problem.exact_floor_check(result.k):
        return 0.0  # inside the float margin but exactly on or above the floor
    return shortfall


def repair(problem: RoundingProblem, result: RoundingResult) -> None:
    """Bring cash up to the floor and turnover under the cap, cutting buys first."""
    shortfall = _shortfall(problem, result)
    if shortfall > 0:
        _cut_buys(problem, result, TradeReason.CASH_LIMIT, shortfall, measure_cash=True)
        shortfall = _shortfall(problem, result)
        if shortfall > 0:
            _sell_more(problem, result, shortfall)
    excess = result.turnover - problem.turnover_cap
    if excess > 0:
        excess = _cut_buys(problem, result, TradeReason.TURNOVER_CAP, excess, measure_cash=False)
        if excess > 0:
            _trim_sells(problem, result, excess)


def start_low(problem: RoundingProblem) -> RoundingResult:
    """Every name at the low end of its bracket, repaired if that breaks the floor or the cap."""
    ks = list(problem.k_low)
    values = [k * lot * price for k, lot, price in zip(ks, problem.lot, problem.price, strict=True)]
    turnover = problem.turnover_start + sum(map(abs, values))
    if problem._free:  # no fees: a lot's cash is its value, moved by slippage against the trade
        buy, sell = problem.buy_factor, problem.sell_factor
        cash = problem.cash_start - sum(v * buy if v > 0 else v * sell for v in values)
    else:
        cash = problem.cash_start + sum(problem.cashflow(i, k) for i, k in enumerate(ks) if k)
    result = RoundingResult(k=ks, cash=cash, turnover=turnover, reasons={})
    repair(problem, result)
    return result


def exactly_feasible(problem: RoundingProblem, ks: list[int], i: int, new_cash: float,
                      k: int | None = None) -> bool:
    """Settle a choice that lands inside the float margin around the floor in exact arithmetic."""
    if problem.exact_floor_check is None or new_cash < problem.cash_floor - problem.cash_margin:
        return False
    trial = list(ks)
    trial[i] = problem.k_high[i] if k is None else k
    return problem.exact_floor_check(trial)


def run_pass(problem: RoundingProblem, start: RoundingResult,
          steps: list[tuple[float, int, float, float, float]]) -> tuple[RoundingResult, float]:
    """Move names up in the order of ``steps`` while that lowers the error; return the change."""
    ks = list(start.k)
    cash, turnover, change = start.cash, start.turnover, 0.0
    goal, floor, cap = problem.cash_target, problem.cash_floor, problem.turnover_cap
    for _rank, i, gain, spend, extra in steps:
        new_cash = cash + spend
        if turnover + extra > cap:
            continue
        if new_cash < floor and not exactly_feasible(problem, ks, i, new_cash):
            continue
        delta = gain + abs(new_cash - goal) - abs(cash - goal)
        if delta < -problem.tolerance:
            ks[i] = problem.k_high[i]
            cash, turnover, change = new_cash, turnover + extra, change + delta
    return RoundingResult(k=ks, cash=cash, turnover=turnover, reasons=start.reasons), change


def objective(problem: RoundingProblem, result: RoundingResult) -> float:
    """Total L1 error in cash: every position's distance from its target, plus cash's."""
    names = sum(problem.error(i, k) for i, k in enumerate(result.k))
    return names + abs(result.cash - problem.cash_target)

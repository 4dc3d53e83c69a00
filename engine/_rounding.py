"""Rounding ideal quantities to whole lots under one cash budget (the planner's inner loop).

Each name that may trade brings a bracket of two feasible trade sizes in lots, ``k_low`` and
``k_high``, around its ideal. All names start low (the choice that keeps the most cash); then, in
largest-remainder order (most error removed per unit of cash spent), a name moves up whenever that
lowers the total L1 error, cash included, and keeps cash at or above the floor and turnover under
the cap. If even the all-low start breaks the floor or the cap (fees, slippage, a reserve),
``repair`` first cuts the largest buys, and records why.

Everything here is in floats for speed; the planner settles the chosen quantities in Decimal and
verifies the cash floor exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs

from engine.rebalancing_options import TradeReason

__all__ = ["RoundingProblem", "RoundingResult", "round_heuristic"]


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
    holders = sorted(
        (i for i in range(len(ks)) if ks[i] > problem.k_min[i]),
        key=lambda i: (-(problem.quantity[i] + ks[i] * problem.lot[i]) * problem.price[i], i),
    )
    for i in holders:
        if shortfall <= 0:
            break
        unit = problem.lot[i] * problem.price[i] * problem.sell_factor
        new = max(ks[i] - math.ceil(shortfall / unit), problem.k_min[i])
        if -problem.min_lots[i] < new < 0:
            if -problem.min_lots[i] < problem.k_min[i]:
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
    sells = sorted((i for i in range(len(ks)) if ks[i] < 0), key=lambda i: (ks[i] * problem.lot[i]
                   * problem.price[i], i))
    for i in sells:
        if excess <= 0:
            break
        new = min(ks[i] + math.ceil(excess / (problem.lot[i] * problem.price[i])), 0)
        if -problem.min_lots[i] < new < 0:
            new = 0
        cash_change = problem.cashflow(i, new) - problem.cashflow(i, ks[i])
        if result.cash + cash_change < problem.cash_floor:
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
    cash = problem.cash_start + sum(problem.cashflow(i, k) for i, k in enumerate(ks) if k)
    turnover = problem.turnover_start + sum(problem.turnover(i, k) for i, k in enumerate(ks) if k)
    result = RoundingResult(k=ks, cash=cash, turnover=turnover, reasons={})
    repair(problem, result)
    return result


def _exactly_feasible(problem: RoundingProblem, ks: list[int], i: int, new_cash: float,
                      k: int | None = None) -> bool:
    """Settle a choice that lands inside the float margin around the floor in exact arithmetic."""
    if problem.exact_floor_check is None or new_cash < problem.cash_floor - problem.cash_margin:
        return False
    trial = list(ks)
    trial[i] = problem.k_high[i] if k is None else k
    return problem.exact_floor_check(trial)


def _pass(problem: RoundingProblem, start: RoundingResult,
          steps: list[tuple[float, int, float, float, float]]) -> tuple[RoundingResult, float]:
    """Move names up in the order of ``steps`` while that lowers the error; return the change."""
    ks = list(start.k)
    cash, turnover, change = start.cash, start.turnover, 0.0
    goal, floor, cap = problem.cash_target, problem.cash_floor, problem.turnover_cap
    for _rank, i, gain, spend, extra in steps:
        new_cash = cash + spend
        if turnover + extra > cap:
            continue
        if new_cash < floor and not _exactly_feasible(problem, ks, i, new_cash):
            continue
        delta = gain + abs(new_cash - goal) - abs(cash - goal)
        if delta < -problem.tolerance:
            ks[i] = problem.k_high[i]
            cash, turnover, change = new_cash, turnover + extra, change + delta
    return RoundingResult(k=ks, cash=cash, turnover=turnover, reasons=start.reasons), change


def round_heuristic(problem: RoundingProblem) -> RoundingResult:
    """Largest-remainder rounding of every name at once under the cash floor and turnover cap.

    Two orders are tried and the better kept: error removed per unit of cash (the classic
    largest remainder), and error removed in absolute terms, which wins when a few expensive
    lots decide how well the leftover cash is used (a knapsack effect).
    """
    start = start_low(problem)
    by_density: list[tuple[float, int, float, float, float]] = []
    lot, price, target, quantity = problem.lot, problem.price, problem.target, problem.quantity
    cashflow, free, ks = problem.cashflow, problem._free, start.k
    buy_factor, sell_factor = problem.buy_factor, problem.sell_factor
    infinity = -math.inf
    append = by_density.append
    for i, (low, high) in enumerate(zip(problem.k_low, problem.k_high, strict=True)):
        if high == low or ks[i] != low:
            continue
        lot_value = lot[i] * price[i]
        offset = quantity[i] * price[i] - target[i]
        gain = abs(offset + high * lot_value) - abs(offset + low * lot_value)
        if free:  # no fees: the cash of a lot depends only on its side
            spend = -lot_value * ((high * buy_factor if high > 0 else high * sell_factor)
                                  - (low * buy_factor if low > 0 else low * sell_factor))
        else:
            spend = cashflow(i, high) - cashflow(i, low)
        # Free moves first; ties go to the earlier symbol (the index), so plans are deterministic.
        append((gain / -spend if spend < 0 else infinity, i, gain, spend,
                (abs(high) - abs(low)) * lot_value))
    by_density.sort()
    result, change = _pass(problem, start, by_density)
    if len(by_density) <= _REVERT_LIMIT:
        # The searches below pay off in small plans; with thousands of names the leftover
        # cash is a tiny share of the error and they would cost more than the whole plan.
        by_size = sorted((gain + spend if spend < 0 else -math.inf, i, gain, spend, extra)
                         for _rank, i, gain, spend, extra in by_density)
        other, other_change = _pass(problem, start, by_size)
        if other_change < change - problem.tolerance:
            result = other
        _swap(problem, start, result, by_size)
        result = _revert_large(problem, result, by_density)
        result = _force_up(problem, result, by_density, by_size)
    fill(problem, result)
    return result


_REVERT_LIMIT = 1000  # names up to which the extra search is affordable (it costs a pass per try)
_REVERT_TRIES = 12
_PAIR_LIMIT = 200  # free names up to which pairs of give-backs are tried too
_PAIR_TRIES = 8


def _force_up(problem: RoundingProblem, result: RoundingResult,
              by_density: list[tuple[float, int, float, float, float]],
              by_size: list[tuple[float, int, float, float, float]]) -> RoundingResult:
    """Take one more dear lot, then give back the least useful cheap lots to pay for it.

    The mirror image of ``_revert_large``: an expensive lot with a large remainder can be worth
    more than several cheap lots whose remainders are near one half.
    """
    goal, floor, cap = problem.cash_target, problem.cash_floor, problem.turnover_cap
    base = objective(problem, result)
    best, best_error = result, base
    candidates = [step for step in by_size if result.k[step[1]] == problem.k_low[step[1]]][:_REVERT_TRIES]
    for _rank, i, gain, spend, extra in candidates:
        ks = list(result.k)
        ks[i] = problem.k_high[i]
        cash, turnover = result.cash + spend, result.turnover + extra
        error = base + gain + abs(cash - goal) - abs(result.cash - goal)
        # Least useful first: the chosen lots that removed the least error per unit of cash.
        for _rank_j, j, gain_j, spend_j, extra_j in reversed(by_density):
            if j == i or ks[j] != problem.k_high[j]:
                continue
            new_cash = cash - spend_j
            delta = -gain_j + abs(new_cash - goal) - abs(cash - goal)
            if delta >= 0 and cash >= floor and turnover <= cap:
                break
            ks[j] = problem.k_low[j]
            cash, turnover, error = new_cash, turnover - extra_j, error + delta
        if cash >= floor and turnover <= cap and error < best_error - problem.tolerance:
            best = RoundingResult(k=ks, cash=cash, turnover=turnover, reasons=result.reasons)
            best_error = objective(problem, best)
    return best


def objective(problem: RoundingProblem, result: RoundingResult) -> float:
    """Total L1 error in cash: every position's distance from its target, plus cash's."""
    names = sum(problem.error(i, k) for i, k in enumerate(result.k))
    return names + abs(result.cash - problem.cash_target)


def _revert_large(problem: RoundingProblem, result: RoundingResult,
                  steps: list[tuple[float, int, float, float, float]]) -> RoundingResult:
    """Give back one of the dearest chosen lots and let many cheaper ones take its cash.

    Exchanges of one lot for one lot miss the case where an expensive lot crowds out several
    small ones with larger remainders; a fresh pass after each such give-back catches it.
    """
    best, best_error = result, objective(problem, result)
    chosen = sorted((step for step in steps if result.k[step[1]] == problem.k_high[step[1]]),
                    key=lambda step: (step[3], step[1]))[:_REVERT_TRIES]
    # Single give-backs, and pairs of the dearest when the plan is small enough to afford them.
    tries: list[tuple[tuple[float, int, float, float, float], ...]] = [(step,) for step in chosen]
    if len(steps) <= _PAIR_LIMIT:
        tries += [(a, b) for n, a in enumerate(chosen[:_PAIR_TRIES]) for b in chosen[n + 1:_PAIR_TRIES]]
    for given_back in tries:
        trial = RoundingResult(k=list(result.k), cash=result.cash, turnover=result.turnover,
                               reasons=result.reasons)
        for _rank, j, _gain, spend, extra in given_back:
            trial.k[j] = problem.k_low[j]
            trial.cash -= spend
            trial.turnover -= extra
        skip = {step[1] for step in given_back}
        rest = [step for step in steps if step[1] not in skip and trial.k[step[1]] == problem.k_low[step[1]]]
        trial, _change = _pass(problem, trial, rest)
        error = objective(problem, trial)
        if error < best_error - problem.tolerance:
            best, best_error = trial, error
    return best


_SWAP_CANDIDATES = 48  # names tried for moving up, and for moving back down, per round
_SWAP_ROUNDS = 8


def _swap(problem: RoundingProblem, start: RoundingResult, result: RoundingResult,
          steps: list[tuple[float, int, float, float, float]]) -> None:
    """Local search: move one name up and another back down when that lowers the error.

    The passes stop when the leftover cash buys no further lot; exchanging one chosen lot for
    a dearer, better one recovers most of the rest of the way to the exact optimum.
    """
    goal, floor, cap = problem.cash_target, problem.cash_floor, problem.turnover_cap
    tolerance = problem.tolerance
    for _ in range(_SWAP_ROUNDS):
        ks = result.k
        ups = [step for step in steps if ks[step[1]] == problem.k_low[step[1]]][:_SWAP_CANDIDATES]
        downs = sorted((step for step in steps if ks[step[1]] == problem.k_high[step[1]]),
                       key=lambda step: (-(step[2] + step[3]), step[1]))[:_SWAP_CANDIDATES]
        best, best_delta = None, -tolerance
        cash, turnover = result.cash, result.turnover
        for _rank, i, gain_i, spend_i, extra_i in ups:
            for _rank_j, j, gain_j, spend_j, extra_j in downs:
                new_cash = cash + spend_i - spend_j
                if new_cash < floor or turnover + extra_i - extra_j > cap:
                    continue
                delta = gain_i - gain_j + abs(new_cash - goal) - abs(cash - goal)
                if delta < best_delta:
                    best, best_delta = (i, j, spend_i - spend_j, extra_i - extra_j), delta
        if best is None:
            return
        i, j, spend, extra = best
        ks[i], ks[j] = problem.k_high[i], problem.k_low[j]
        result.cash += spend
        result.turnover += extra
        # The exchange may free enough cash for another lot somewhere.
        waiting = [step for step in steps if ks[step[1]] == problem.k_low[step[1]]]
        refreshed, _change = _pass(problem, result, waiting)
        result.k, result.cash, result.turnover = refreshed.k, refreshed.cash, refreshed.turnover


def fill(problem: RoundingProblem, result: RoundingResult) -> None:
    """Spend cash left above both the floor and the cash target on the names furthest below goal.

    Buys cut to fit the cash budget are sized before rounding; rounding can leave enough cash
    for more lots, which go to the largest shortfalls, several lots at a time.
    """
    ks, lot, price, goal, quantity = result.k, problem.lot, problem.price, problem.goal, problem.quantity
    spare = min(result.cash - problem.cash_floor, result.cash - problem.cash_target)
    if spare <= 0:
        return
    lot_value = [lot[i] * price[i] for i in range(len(ks))]
    short = sorted(
        (i for i in range(len(ks)) if goal[i] - (quantity[i] + ks[i] * lot[i]) * price[i] > lot_value[i] / 2
         and ks[i] < problem.k_max[i]),
        key=lambda i: (-(goal[i] - (quantity[i] + ks[i] * lot[i]) * price[i]), i),
    )
    for i in short:
        # The float margin above the floor is settled exactly below, so it does not block a lot.
        spare = min(result.cash - problem.cash_floor, result.cash - problem.cash_target) + problem.cash_margin
        unit = lot_value[i] * problem.buy_factor
        if spare < unit:
            continue
        deficit = goal[i] - (quantity[i] + ks[i] * lot[i]) * price[i]
        room = problem.k_max[i] - ks[i]
        if math.isfinite(problem.turnover_cap):  # conservative: each added lot counted as turnover
            room = min(room, math.floor((problem.turnover_cap - result.turnover) / lot_value[i]))
        add = min(math.floor(deficit / lot_value[i] + 0.5), math.floor(spare / unit), room)
        while add > 0:
            new = ks[i] + add
            if 0 < new < problem.min_lots[i] or (new < 0 and -new < problem.min_lots[i]):
                add -= 1
                continue
            change = problem.cashflow(i, new) - problem.cashflow(i, ks[i])
            new_cash = result.cash + change
            before = abs(deficit) + abs(result.cash - problem.cash_target)
            after = abs(deficit - add * lot_value[i]) + abs(new_cash - problem.cash_target)
            new_turnover = result.turnover + problem.turnover(i, new) - problem.turnover(i, ks[i])
            feasible = new_turnover <= problem.turnover_cap and (
                new_cash >= problem.cash_floor or _exactly_feasible(problem, ks, i, new_cash, new))
            if feasible and after < before - problem.tolerance:
                result.cash, result.turnover = new_cash, new_turnover
                ks[i] = new
                break
            add -= 1

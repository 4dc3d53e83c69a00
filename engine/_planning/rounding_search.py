"""The searches of largest-remainder rounding: passes in two orders, exchanges, and the fill.

``round_heuristic`` starts every name at the low end of its bracket (``engine._planning.rounding``), then
moves names up in largest-remainder order while that lowers the L1 error, cash included. In small
plans it also tries a second order and exchanges of lots, which recover most of the distance to
the exact optimum that a single greedy pass leaves (a knapsack effect of a few dear lots).
"""

from __future__ import annotations

import math

from engine._planning.rounding import (
    RoundingProblem,
    RoundingResult,
    exactly_feasible,
    objective,
    run_pass,
    start_low,
)

__all__ = ["fill", "round_heuristic"]


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
    result, change = run_pass(problem, start, by_density)
    if len(by_density) <= _REVERT_LIMIT:
        # The searches below pay off in small plans; with thousands of names the leftover
        # cash is a tiny share of the error and they would cost more than the whole plan.
        by_size = sorted((gain + spend if spend < 0 else -math.inf, i, gain, spend, extra)
                         for _rank, i, gain, spend, extra in by_density)
        other, other_change = run_pass(problem, start, by_size)
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
        trial, _change = run_pass(problem, trial, rest)
        error = objective(problem, trial)
        if error < best_error - problem.tolerance:
            best, best_error = trial, error
    return best


_FILL_TRIES = 64  # candidate sizes tried per name by the fill
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
        refreshed, _change = run_pass(problem, result, waiting)
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
        # What one more lot takes from cash, fees included: a per-share fee can cost far more
        # than the lot itself (a cheap, finely divided name), and a first order pays the minimum.
        unit = lot_value[i] * (problem.buy_factor + problem.fee_bps / 10_000.0) \
            + lot[i] * problem.fee_per_share
        budget = spare - (problem.fee_minimum if ks[i] == 0 else 0.0)
        if budget < unit:
            continue
        deficit = goal[i] - (quantity[i] + ks[i] * lot[i]) * price[i]
        room = problem.k_max[i] - ks[i]
        if math.isfinite(problem.turnover_cap):  # conservative: each added lot counted as turnover
            room = min(room, math.floor((problem.turnover_cap - result.turnover) / lot_value[i]))
        add = min(math.floor(deficit / lot_value[i] + 0.5), math.floor(budget / unit), room)
        m = problem.min_lots[i]
        # A bounded walk down from the first guess (which is nearly always taken): quantities of
        # millions of lots must not mean millions of tries.
        for _try in range(_FILL_TRIES):
            if add <= 0:
                break
            new = ks[i] + add
            if 0 < new < m:  # below the venue's minimum: only closing a sell (new = 0) is left
                add = -ks[i]
                continue
            if -m < new < 0:  # a sell cut below the minimum: keep the minimum sell instead
                add = -m - ks[i]
                continue
            change = problem.cashflow(i, new) - problem.cashflow(i, ks[i])
            new_cash = result.cash + change
            before = abs(deficit) + abs(result.cash - problem.cash_target)
            after = abs(deficit - add * lot_value[i]) + abs(new_cash - problem.cash_target)
            new_turnover = result.turnover + problem.turnover(i, new) - problem.turnover(i, ks[i])
            feasible = new_turnover <= problem.turnover_cap and (
                new_cash >= problem.cash_floor or exactly_feasible(problem, ks, i, new_cash, new))
            if feasible and after < before - problem.tolerance:
                result.cash, result.turnover = new_cash, new_turnover
                ks[i] = new
                break
            add -= 1

"""Exact rounding: the same bracket choice as the heuristic, solved as a mixed-integer program.

One binary per name (low or high end of its bracket) and one continuous variable for the cash
error; minimise the L1 error subject to the cash floor and the turnover cap. Needs scipy (the
``optimal`` extra); the import happens only when this method is asked for.
"""

from __future__ import annotations

import math
from typing import Any

from engine._planning.rounding import RoundingProblem, RoundingResult, objective, start_low
from engine._planning.rounding_search import round_heuristic
from engine.errors import InvalidInputError

__all__ = ["require_solver", "round_exact"]


def require_solver() -> Any:
    """Return ``scipy.optimize.milp`` or raise a clear error saying how to get it."""
    try:
        from scipy.optimize import milp
    except ImportError:
        raise InvalidInputError(
            "rounding", "exact",
            "exact rounding needs scipy; install the 'optimal' extra (pip install 'twap-engine[optimal]')",
        ) from None
    return milp


def round_exact(problem: RoundingProblem, time_limit: float) -> RoundingResult:
    """The L1-optimal bracket choice, or the heuristic's when the solver finds nothing better in time."""
    milp = require_solver()
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint

    heuristic = round_heuristic(problem)
    base = start_low(problem)
    free = [i for i, k in enumerate(base.k) if k == problem.k_low[i] != problem.k_high[i]]
    if not free:
        return heuristic
    n = len(free)
    gain = np.array([problem.error(i, problem.k_high[i]) - problem.error(i, problem.k_low[i]) for i in free])
    spend = np.array([problem.cashflow(i, problem.k_high[i]) - problem.cashflow(i, problem.k_low[i])
                      for i in free])
    extra = np.array([problem.turnover(i, problem.k_high[i]) - problem.turnover(i, problem.k_low[i])
                      for i in free])
    # Every amount here is money. In currency units the rows reach thousands, and the solver
    # (HiGHS) now and then found its integer solutions off by more than its absolute tolerance
    # (1e-6) in the original rows and "repaired" them, printing a debug line to standard output
    # each time, whatever its options say. Measured in units of the dearest step, the program is
    # the same, with the same optimum, but well scaled; the checks below still run in currency.
    unit = max(1.0, float(np.abs(spend).max()))
    cost = np.concatenate([gain / unit, [1.0]])  # the last variable: the cash error, in units
    step = spend / unit
    rows = [np.concatenate([step, [0.0]]), np.concatenate([-step, [1.0]]), np.concatenate([step, [1.0]])]
    lower = [(problem.cash_floor - base.cash) / unit, (base.cash - problem.cash_target) / unit,
             (problem.cash_target - base.cash) / unit]
    upper = [math.inf, math.inf, math.inf]
    if math.isfinite(problem.turnover_cap):
        rows.append(np.concatenate([extra / unit, [0.0]]))
        lower.append(-math.inf)
        upper.append((problem.turnover_cap - base.turnover) / unit)
    integrality = np.concatenate([np.ones(n), [0.0]])
    bounds = Bounds(np.zeros(n + 1), np.concatenate([np.ones(n), [math.inf]]))
    solution = milp(
        cost,
        integrality=integrality,
        bounds=bounds,
        constraints=LinearConstraint(np.array(rows), np.array(lower), np.array(upper)),
        # Without presolve: the solver's integer solutions are in the rows as stated, so it
        # never repairs one after postsolve, the one step that prints whatever ``disp`` says.
        # (At 2,000 names it is no slower; the optimum is the same.)
        options={"time_limit": float(time_limit), "disp": False, "presolve": False},
    )
    if solution.x is None:
        return heuristic
    exact = RoundingResult(k=list(base.k), cash=base.cash, turnover=base.turnover, reasons=dict(base.reasons))
    for position, i in enumerate(free):
        if solution.x[position] > 0.5:
            exact.k[i] = problem.k_high[i]
            exact.cash += float(spend[position])
            exact.turnover += float(extra[position])
    if exact.cash < problem.cash_floor or exact.turnover > problem.turnover_cap:
        return heuristic
    return exact if objective(problem, exact) < objective(problem, heuristic) else heuristic

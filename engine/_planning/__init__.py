"""The rebalancing planner's internals, behind ``engine.rebalancing_plan``.

- ``inputs``: the planner's arguments checked and converted (positions, weights, prices, rules);
- ``options``: the planner's enums (mode, rounding method, untargeted policy, trade reasons);
- ``settings``: the knobs as the allocation reads them, and the allocation's outcome;
- ``bands``: drift bands and "within rounding": which names keep their position;
- ``allocation``: targets, cash and turnover cuts, and the whole-lot rounding of one plan;
- ``rounding``, ``rounding_search``, ``exact_rounding``: the rounding problem, the heuristic
  search and the exact (MILP) solver;
- ``settle``: from lots to a priced ``RebalancingPlan`` that keeps the cash floor exactly;
- ``plan``: the plan's values and its readable table.

May import the engine's values (errors, fields, numbers, fees, instruments, orders) and each other
in that order (inputs and options first, plan and settle last); nothing above them.
"""

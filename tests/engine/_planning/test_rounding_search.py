"""The rounding searches on hand-made problems: the fill step's sizing of extra lots."""

from __future__ import annotations

import math

import pytest

from engine._planning.rounding import RoundingProblem, RoundingResult
from engine._planning.rounding_search import fill


class CountingProblem(RoundingProblem):
    """A problem that counts how often a lot's cash is priced, and stops a runaway search."""

    calls = 0

    def cashflow(self, i: int, k: int) -> float:
        type(self).calls += 1
        if type(self).calls > 10_000:
            raise AssertionError("the fill priced more than 10,000 candidate sizes")
        return super().cashflow(i, k)


def one_name(*, cash: float, goal: float, lot: float, price: float, fee_per_share: float = 0.0,
             min_lots: int = 1) -> RoundingProblem:
    CountingProblem.calls = 0
    return CountingProblem(
        quantity=[0.0], lot=[lot], price=[price], target=[goal], goal=[goal],
        k_low=[0], k_high=[0], k_min=[0], k_max=[10**15], min_lots=[min_lots],
        cash_start=cash, cash_target=0.0, cash_floor=0.0, turnover_cap=math.inf, turnover_start=0.0,
        buy_factor=1.0, sell_factor=1.0, fee_bps=0.0, fee_per_share=fee_per_share, fee_minimum=0.0,
        tolerance=1e-9,
    )


def test_fill_sizes_extra_lots_with_their_per_share_fee_in_a_few_steps() -> None:
    # A tenth of a cent a share in fees on a tenth-of-a-cent stock: each lot costs twice its value.
    # Sized by value alone, the first guess is a million lots too many, tried one lot at a time.
    problem = one_name(cash=1000.0, goal=1000.0, lot=0.001, price=0.001, fee_per_share=0.001)
    result = RoundingResult(k=[0], cash=1000.0, turnover=0.0, reasons={})
    fill(problem, result)
    assert result.cash >= 0
    assert result.k[0] == pytest.approx(1000.0 / (0.001 * 0.001 * 2), rel=1e-6)
    assert CountingProblem.calls < 200


def test_fill_gives_up_at_once_when_every_size_is_below_the_venue_minimum() -> None:
    # The shortfall is 400 million lots, the venue's minimum a billion: no size in between trades.
    problem = one_name(cash=1000.0, goal=400.0, lot=0.001, price=0.001, min_lots=10**9)
    result = RoundingResult(k=[0], cash=1000.0, turnover=0.0, reasons={})
    fill(problem, result)
    assert result.k == [0]
    assert result.cash == 1000.0

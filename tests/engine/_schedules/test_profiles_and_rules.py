"""Schedule shapes and run-time rules: VWAP follows its profile, Almgren–Chriss front-loads with
risk aversion, POV stays within its rates, the adaptive schedule crosses only when behind and
never more than its cap, completion clips never exceed the touch or the remainder."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Instrument, InvalidInputError, Schedule, TWAPParams
from engine._schedules.profiles import (
    almgren_chriss_weights,
    profile_weights,
    schedule_weights,
    spread_lots,
    u_shaped_profile,
)
from engine._schedules.rules import clip_quantity, completion_opens, cross_quantity, pov_quantity

SHARES = Instrument(symbol="XYZ")


def test_vwap_slices_follow_the_volume_profile_they_cover() -> None:
    # Four buckets of volume over the schedule; two slices each cover two of them.
    assert profile_weights([1, 3, 2, 2], 2) == [4.0, 4.0]
    assert profile_weights([1, 3, 2, 2], 4) == [1.0, 3.0, 2.0, 2.0]
    # Eight slices over four buckets: each takes half a bucket.
    assert profile_weights([1, 3, 2, 2], 8) == [0.5, 0.5, 1.5, 1.5, 1.0, 1.0, 1.0, 1.0]
    lots = spread_lots(8_000, profile_weights([1, 3, 2, 2], 4), 1)
    assert sum(lots) == 8_000
    assert [round(n / 1_000) for n in lots] == [1, 3, 2, 2]


def test_the_default_profile_is_u_shaped_busiest_at_the_open_and_the_close() -> None:
    profile = u_shaped_profile(24)
    middle = min(profile)
    assert profile[0] == pytest.approx(profile[-1])
    assert profile[0] > 2.5 * middle
    assert profile.index(middle) in (11, 12)
    assert schedule_weights(Schedule.VWAP, 24, volume_profile=None, risk_aversion=0) == pytest.approx(profile)
    assert schedule_weights(Schedule.TWAP, 24, volume_profile=None, risk_aversion=2) is None


@given(low=st.floats(min_value=0.01, max_value=10.0), extra=st.floats(min_value=0.1, max_value=10.0))
def test_almgren_chriss_front_loads_more_with_higher_risk_aversion(low: float, extra: float) -> None:
    calm = almgren_chriss_weights(12, low)
    urgent = almgren_chriss_weights(12, low + extra)
    assert sum(calm) == pytest.approx(1.0)
    assert sum(urgent) == pytest.approx(1.0)
    # Every slice trades no more than the one before it, and the urgent trajectory has traded
    # more at every point of the schedule.
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(urgent))
    for k in range(1, 12):
        assert sum(urgent[:k]) > sum(calm[:k]) - 1e-12
    assert urgent[0] > calm[0]


def test_almgren_chriss_without_risk_aversion_is_twap() -> None:
    assert almgren_chriss_weights(5, 0.0) == [1.0] * 5


@given(
    total=st.integers(min_value=1, max_value=100_000),
    weights=st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=1, max_size=50),
    min_lots=st.integers(min_value=1, max_value=5),
)
def test_spread_lots_is_exact_and_never_below_the_smallest_order(
    total: int, weights: list[float], min_lots: int
) -> None:
    if sum(weights) <= 0 or len(weights) * min_lots > total:
        return
    lots = spread_lots(total, weights, min_lots)
    assert sum(lots) == total
    assert min(lots) >= min_lots


@given(
    observed=st.integers(min_value=0, max_value=1_000_000),
    participation=st.floats(min_value=0.01, max_value=1.0),
    low=st.floats(min_value=0.0, max_value=1.0),
    high=st.floats(min_value=0.0, max_value=1.0),
    needed=st.one_of(st.none(), st.floats(min_value=0.0, max_value=5.0)),
)
def test_pov_stays_within_its_rates_of_observed_volume(
    observed: int, participation: float, low: float, high: float, needed: float | None
) -> None:
    min_rate, max_rate = min(low, high, participation), max(low, high, participation)
    quantity = pov_quantity(
        Decimal(observed), participation=participation, min_rate=min_rate, max_rate=max_rate,
        needed_rate=needed, instrument=SHARES,
    )
    assert quantity >= 0
    assert quantity <= Decimal(observed) * Decimal(repr(max_rate))
    # Rounded down to whole shares, never below the floor by more than one share.
    assert quantity > Decimal(observed) * Decimal(repr(min_rate)) - 1


@given(
    behind=st.integers(min_value=-5_000, max_value=50_000),
    nominal=st.integers(min_value=1, max_value=5_000),
    cross_after=st.floats(min_value=0.0, max_value=5.0),
    cap=st.floats(min_value=0.1, max_value=5.0),
)
def test_adaptive_crosses_only_when_behind_and_never_more_than_its_cap(
    behind: int, nominal: int, cross_after: float, cap: float
) -> None:
    crossed = cross_quantity(
        Decimal(behind), Decimal(nominal), cross_after=cross_after, cap=cap, instrument=SHARES
    )
    if behind <= nominal * cross_after:
        assert crossed == 0
    assert 0 <= crossed <= max(Decimal(0), Decimal(behind))
    assert crossed <= Decimal(nominal) * Decimal(repr(cap))


@given(remainder=st.integers(min_value=1, max_value=100_000), touch=st.integers(min_value=0, max_value=5_000))
def test_a_completion_clip_never_exceeds_the_touch_or_the_remainder(remainder: int, touch: int) -> None:
    clip = clip_quantity(Decimal(remainder), Decimal(touch), SHARES)
    assert 0 < clip <= remainder
    if touch > 0:
        assert clip <= touch


def test_the_completion_window_opens_when_the_remainder_needs_the_time_left() -> None:
    # 600 s needed, at most 1,800: it opens once the next check would come after deadline - 600.
    assert not completion_opens(0.0, 3_600.0, needed=600.0, longest=1_800.0, next_check=2_900.0)
    assert completion_opens(2_900.0, 3_600.0, needed=600.0, longest=1_800.0, next_check=3_200.0)
    # An unknown need takes the whole window; a window never opens after the deadline.
    assert completion_opens(1_700.0, 3_600.0, needed=None, longest=1_800.0, next_check=2_000.0)
    assert not completion_opens(3_600.0, 3_600.0, needed=None, longest=1_800.0, next_check=3_700.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("schedule", "bogus"),
        ("volume_profile", []),
        ("volume_profile", [0, 0]),
        ("volume_profile", [1, -1]),
        ("risk_aversion", -1),
        ("participation", 0),
        ("max_rate", 1.5),
        ("cross_cap", 0),
        ("completion_window", 0),
    ],
)
def test_a_bad_schedule_setting_names_its_field_and_value(field: str, value: Any) -> None:
    with pytest.raises(InvalidInputError) as caught:
        TWAPParams(**{field: value})
    assert caught.value.field == field
    assert repr(value) in str(caught.value) or str(value) in str(caught.value)


def test_a_participation_outside_its_rates_is_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        TWAPParams(participation=0.6, max_rate=0.5)
    assert caught.value.field == "participation"


def test_a_schedule_is_named_by_its_value_or_an_alias() -> None:
    assert TWAPParams(schedule="VWAP").schedule is Schedule.VWAP
    assert TWAPParams(schedule="almgren_chriss").schedule is Schedule.IMPLEMENTATION_SHORTFALL
    assert TWAPParams().schedule is Schedule.TWAP

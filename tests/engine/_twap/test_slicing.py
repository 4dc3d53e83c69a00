"""Schedule maths: slices of whole lots, remainders spread, minimums respected, seeded jitter."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine._twap.slicing import catch_up_quantity, plan_slices
from engine.errors import InvalidInputError
from engine.instruments import Instrument

AAPL = Instrument("AAPL")


def test_even_order_gets_equal_slices_at_equal_intervals() -> None:
    plan = plan_slices(Decimal(1000), 10, 600.0, AAPL, Decimal(150))
    assert plan.quantities == (Decimal(100),) * 10
    assert plan.offsets == tuple(60.0 * i for i in range(10))
    assert plan.note is None


def test_the_remainder_is_spread_across_the_schedule_not_piled_on_one_slice() -> None:
    plan = plan_slices(Decimal(1003), 10, 600.0, AAPL, Decimal(150))
    assert sum(plan.quantities) == 1003
    assert set(plan.quantities) == {Decimal(100), Decimal(101)}
    big = [i for i, q in enumerate(plan.quantities) if q == 101]
    assert len(big) == 3
    assert big[-1] - big[0] >= 5, "the extra lots are spaced out"


def test_a_small_order_gets_fewer_slices_and_the_plan_says_why() -> None:
    instrument = Instrument("AAPL", min_quantity=30)
    plan = plan_slices(Decimal(100), 10, 600.0, instrument, Decimal(150))
    assert plan.num_slices == 3
    assert all(q >= 30 for q in plan.quantities)
    assert sum(plan.quantities) == 100
    assert plan.note is not None
    assert "3 planned" in plan.note
    assert plan.offsets == (0.0, 200.0, 400.0)


def test_minimum_notional_sets_the_smallest_slice() -> None:
    instrument = Instrument("AAPL", min_notional=1000)
    assert instrument.min_order_quantity(Decimal(150)) == 7  # 6.67 rounded up to the lot
    plan = plan_slices(Decimal(20), 10, 100.0, instrument, Decimal(150))
    assert plan.num_slices == 2


def test_fractional_lots_are_respected() -> None:
    instrument = Instrument("BTC", lot_size="0.001")
    plan = plan_slices(Decimal("1.005"), 4, 60.0, instrument, Decimal(30000))
    assert sum(plan.quantities) == Decimal("1.005")
    assert all(q % Decimal("0.001") == 0 for q in plan.quantities)


def test_an_order_off_the_lot_grid_or_below_the_minimum_is_refused_by_name() -> None:
    with pytest.raises(InvalidInputError, match="total_quantity"):
        plan_slices(Decimal("10.5"), 2, 60.0, AAPL, Decimal(150))
    with pytest.raises(InvalidInputError, match="total_quantity"):
        plan_slices(Decimal(5), 2, 60.0, Instrument("AAPL", min_quantity=10), Decimal(150))


@settings(max_examples=100, deadline=None)
@given(
    total=st.integers(min_value=1, max_value=100_000),
    slices=st.integers(min_value=1, max_value=200),
    size_jitter=st.sampled_from([0.0, 0.2, 0.9]),
    time_jitter=st.sampled_from([0.0, 0.5]),
    seed=st.integers(min_value=0, max_value=2**32),
    min_quantity=st.sampled_from([0, 5, 50]),
)
def test_any_plan_sums_to_the_total_in_whole_lots_above_the_minimum(
    total: int, slices: int, size_jitter: float, time_jitter: float, seed: int, min_quantity: int
) -> None:
    instrument = Instrument("AAPL", min_quantity=min_quantity)
    if total < max(1, min_quantity):
        with pytest.raises(InvalidInputError):
            plan_slices(Decimal(total), slices, 600.0, instrument, Decimal(150))
        return
    plan = plan_slices(
        Decimal(total),
        slices,
        600.0,
        instrument,
        Decimal(150),
        size_jitter=size_jitter,
        time_jitter=time_jitter,
        rng=random.Random(seed),
    )
    assert sum(plan.quantities) == total
    assert 1 <= plan.num_slices <= slices
    assert all(q >= max(1, min_quantity) and q == int(q) for q in plan.quantities)
    assert list(plan.offsets) == sorted(plan.offsets)
    assert all(0.0 <= t <= 600.0 for t in plan.offsets)
    again = plan_slices(
        Decimal(total),
        slices,
        600.0,
        instrument,
        Decimal(150),
        size_jitter=size_jitter,
        time_jitter=time_jitter,
        rng=random.Random(seed),
    )
    assert again == plan, "the same seed gives the same plan"


def catch_up(scheduled: int, committed: int, cap: int | None) -> Decimal:
    return catch_up_quantity(
        scheduled_through=Decimal(scheduled),
        committed=Decimal(committed),
        remaining=Decimal(1000),
        nominal_slice=Decimal(100),
        cap_multiple=None if cap is None else Decimal(cap),
        instrument=AAPL,
    )


def test_catch_up_sends_what_is_behind_capped_at_a_multiple_of_the_slice() -> None:
    assert catch_up(300, 200, 2) == 100
    assert catch_up(500, 100, 2) == 200
    assert catch_up(500, 100, None) == 400
    assert catch_up(300, 400, None) == 0


def test_plans_of_one_shape_share_offsets_and_quantities_and_on_schedule_slices_share_their_size() -> None:
    instrument = Instrument("AAPL")
    first = plan_slices(Decimal(100), 10, 600.0, instrument, None)
    second = plan_slices(Decimal(100), 10, 600.0, instrument, None)
    assert first.offsets is second.offsets
    assert first.quantities is second.quantities
    other_lot = plan_slices(Decimal(100), 10, 600.0, Instrument("AAPL", lot_size=Decimal("1.0")), None)
    assert other_lot.quantities == first.quantities
    assert str(other_lot.quantities[0]) == "10.0"  # its own form, not the shared 10
    nominal = first.quantities[0]
    sent = catch_up_quantity(
        scheduled_through=Decimal(20), committed=Decimal(10), remaining=Decimal(90),
        nominal_slice=nominal, cap_multiple=Decimal(2), instrument=instrument,
    )
    assert sent is nominal

# attrs' mypy plugin reads only named functions as converters (see engine/_twap/params.py).
# mypy: disable-error-code="misc"
"""engine.fields: each input rule refuses by naming the field and the value, in both its forms."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import attrs
import pytest

from engine import InvalidInputError
from engine.fields import (
    enum_member,
    finite,
    finite_number,
    probability,
    probability_value,
    seed_value,
    whole,
    whole_number,
)
from engine.orders import OrderSide


@pytest.mark.parametrize("value", [True, 2.0, "3", None, 0, 101])
def test_a_whole_number_out_of_its_rule_is_refused_by_name(value: Any) -> None:
    with pytest.raises(InvalidInputError) as refused:
        whole_number(value, "num_slices", minimum=1, maximum=100)
    assert (refused.value.field, refused.value.value) == ("num_slices", value)


@pytest.mark.parametrize("value", [True, math.nan, math.inf, "x", None, -0.5, 11])
def test_a_finite_number_out_of_its_rule_is_refused_by_name(value: Any) -> None:
    with pytest.raises(InvalidInputError) as refused:
        finite_number(value, "settle_timeout", minimum=0.0, maximum=10.0)
    assert refused.value.field == "settle_timeout"


def test_numbers_may_come_as_int_float_decimal_or_numeric_text() -> None:
    assert [finite_number(v, "x") for v in (5, 2.5, Decimal("1.25"), " 7 ")] == [5.0, 2.5, 1.25, 7.0]
    with pytest.raises(InvalidInputError, match="greater than 0"):
        finite_number(0, "interval_seconds", above=0.0)


@pytest.mark.parametrize("value", [True, -0.01, 1.01, math.nan, "x"])
def test_a_probability_outside_zero_to_one_says_it_is_a_probability(value: Any) -> None:
    with pytest.raises(InvalidInputError, match="probability") as refused:
        probability_value(value, "drop_ack")
    assert refused.value.field == "drop_ack"


def test_seeds_and_enum_members() -> None:
    assert seed_value(None) is None
    assert seed_value(3) == 3
    for bad in (True, 1.5, "7"):
        with pytest.raises(InvalidInputError, match="seed"):
            seed_value(bad)
    assert enum_member(OrderSide, " BUY ", "side") is OrderSide.BUY
    with pytest.raises(InvalidInputError, match="'buy', 'sell'"):
        enum_member(OrderSide, "hold", "side")


@attrs.frozen
class _Knobs:
    slices: int = attrs.field(default=1, converter=whole(minimum=1))
    delay: float | None = attrs.field(default=None, converter=finite(minimum=0.0, optional=True))
    chance: float = attrs.field(default=0.0, converter=probability())


def test_the_attrs_converters_read_the_name_of_the_field_they_convert() -> None:
    assert _Knobs(3, "0.5", 1) == _Knobs(slices=3, delay=0.5, chance=1.0)
    assert _Knobs().delay is None
    for kwargs, field in (({"slices": 0}, "slices"), ({"delay": -1}, "delay"), ({"chance": 2}, "chance")):
        with pytest.raises(InvalidInputError) as refused:
            _Knobs(**kwargs)
        assert refused.value.field == field

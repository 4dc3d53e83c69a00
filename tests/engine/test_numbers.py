"""Numbers: whole numbers share one Decimal, and grid checks stay exact past Decimal's precision.

``value % step`` raises ``InvalidOperation`` once the quotient has more than 28 digits; the lot and
tick grid checks answer for such numbers all the same (a quantity of 10**30 shares is checked, not
failed with a bare decimal error).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.numbers import is_multiple, to_decimal


@pytest.mark.parametrize(
    ("value", "step", "expected"),
    [
        ("1e30", "1", True),
        ("123456789012345678901234567890", "10", True),
        ("123456789012345678901234567891", "10", False),
        ("1e26", "0.01", True),
        ("100000000000000000000000000000.5", "1", False),
        ("1e40", "0.001", True),
    ],
)
def test_a_long_number_is_checked_against_the_grid_exactly(value: str, step: str, expected: bool) -> None:
    assert is_multiple(Decimal(value), Decimal(step)) is expected


def test_whole_numbers_convert_to_one_shared_decimal() -> None:
    assert to_decimal(10, "quantity") is to_decimal(10, "quantity")
    assert str(to_decimal(-3, "quantity")) == "-3"
    assert to_decimal(10**40, "quantity") == Decimal(10**40)

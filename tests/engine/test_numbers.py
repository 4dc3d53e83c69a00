"""The lot and tick grid checks answer for numbers longer than Decimal's working precision.

``value % step`` raises ``InvalidOperation`` once the quotient has more than 28 digits, so a
quantity of 10**30 shares failed the check with a bare decimal error instead of an answer.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import Instrument, InvalidInputError
from engine.numbers import is_multiple


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


def test_an_instrument_refuses_a_long_quantity_off_the_lot_grid_with_a_named_error() -> None:
    instrument = Instrument(symbol="AAPL", lot_size=10)
    instrument.check_quantity(Decimal("1e30"))  # on the grid: no error
    with pytest.raises(InvalidInputError) as caught:
        instrument.check_quantity(Decimal("1000000000000000000000000000005"))
    assert caught.value.field == "quantity"

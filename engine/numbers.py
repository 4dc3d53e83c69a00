"""Decimal conversion at the edge.

Inside the engine every quantity, price, cash amount and fee is a ``Decimal``. Public calls accept
``int``, ``str``, ``Decimal`` and ``float``; a float goes through ``str()`` first so ``0.1`` becomes
``Decimal("0.1")`` and not the binary expansion. Booleans, NaN and infinities are refused with an
error naming the field.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, TypeAlias

from engine.errors import InvalidInputError

__all__ = [
    "ZERO",
    "Number",
    "is_multiple",
    "optional_non_negative",
    "optional_positive",
    "shared_decimal",
    "shared_difference",
    "shared_sum",
    "to_decimal",
    "to_non_negative",
    "to_positive",
]

Number: TypeAlias = int | str | Decimal | float
ZERO = Decimal(0)

# Whole numbers convert to one shared Decimal each (an int writes one way only, so sharing changes
# nothing): a backtest sends the same few quantities in hundreds of thousands of orders.
_INTEGERS: dict[int, Decimal] = {}
_INTEGERS_KEPT = 4096


def _from_int(value: int) -> Decimal:
    result = _INTEGERS.get(value)
    if result is None:
        result = Decimal(value)
        if len(_INTEGERS) < _INTEGERS_KEPT:
            _INTEGERS[value] = result
    return result


def to_decimal(value: Any, field: str) -> Decimal:
    """Convert ``value`` to a finite ``Decimal`` or raise ``InvalidInputError`` naming ``field``."""
    if isinstance(value, bool):
        raise InvalidInputError(field, value, "expected a number, got a bool")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = _from_int(value)
    elif isinstance(value, float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInputError(field, value, "not a number") from None
    else:
        raise InvalidInputError(
            field, value, f"expected int, str, Decimal or float, got {type(value).__name__}"
        )
    if not result.is_finite():
        raise InvalidInputError(field, value, "must be finite (no NaN or infinity)")
    return result


def to_positive(value: Any, field: str) -> Decimal:
    """Convert to a ``Decimal`` that must be greater than zero."""
    result = to_decimal(value, field)
    if result <= 0:
        raise InvalidInputError(field, value, "must be greater than zero")
    return result


def to_non_negative(value: Any, field: str) -> Decimal:
    """Convert to a ``Decimal`` that must be zero or more."""
    result = to_decimal(value, field)
    if result < 0:
        raise InvalidInputError(field, value, "must not be negative")
    return result


def optional_positive(value: Any, field: str) -> Decimal | None:
    """Like ``to_positive`` but lets ``None`` through."""
    return None if value is None else to_positive(value, field)


def optional_non_negative(value: Any, field: str) -> Decimal | None:
    """Like ``to_non_negative`` but lets ``None`` through."""
    return None if value is None else to_non_negative(value, field)


def shared_decimal(value: Decimal, candidate: Decimal | None) -> Decimal:
    """``candidate`` itself when it writes exactly as ``value`` (the same value, exponent and sign),
    else ``value``. Records held by the thousand (children, report lines) then share one Decimal
    object instead of keeping equal copies; the form is kept, so ``1E+1`` never turns into ``10``."""
    if (
        candidate is not None
        and value == candidate
        and value.same_quantum(candidate)
        and value.is_signed() == candidate.is_signed()
    ):
        return candidate
    return value


def shared_sum(total: Decimal, value: Decimal) -> Decimal:
    """``total + value``, as ``value`` itself when ``total`` is zero (see ``shared_decimal``)."""
    result = total + value
    return shared_decimal(result, value) if not total else result


def shared_difference(value: Decimal, subtracted: Decimal) -> Decimal:
    """``value - subtracted``, as ``value`` itself when ``subtracted`` is zero (see ``shared_decimal``)."""
    result = value - subtracted
    return shared_decimal(result, value) if not subtracted else result


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """True when ``value`` is a whole multiple of ``step`` (exactly, in decimal)."""
    try:
        return step == 0 or value % step == 0
    except InvalidOperation:
        # The quotient has more digits than the context's precision (a quantity of 1e30 lots):
        # decide exactly in fractions rather than fail a check that has an answer.
        return Fraction(value) % Fraction(step) == 0

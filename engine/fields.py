"""The rules for public inputs, each stated once: every refusal names the field and the value.

Each rule comes in two forms. A function (``whole_number(value, "num_slices", minimum=1)``)
checks an argument of a plain call; a factory (``attrs.field(converter=whole(minimum=1))``) gives
an ``attrs.Converter`` that reads the field's name from the attrs class itself, so a value class
states each field's rule beside the field. Decimal amounts use ``engine.numbers``.

Numbers of seconds, shares and similar knobs accept int, float, Decimal and numeric strings (as
amounts do); booleans, NaN and infinities are refused everywhere.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from engine.errors import InvalidInputError
from engine.numbers import to_decimal

__all__ = [
    "enum_member",
    "finite",
    "finite_number",
    "member",
    "named",
    "probability",
    "probability_value",
    "seed",
    "seed_value",
    "validate_symbol",
    "whole",
    "whole_number",
]

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


def whole_number(value: Any, field: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int within [minimum, maximum]; a bool, a float or a string is refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(field, value, f"expected a whole number{_bounds(minimum, maximum)}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InvalidInputError(field, value, f"expected a whole number{_bounds(minimum, maximum)}")
    return value


def finite_number(
    value: Any,
    field: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
) -> float:
    """``value`` as a finite float, at least ``minimum``, at most ``maximum``, above ``above``."""
    if isinstance(value, float):  # the common case, without the Decimal round trip
        if not math.isfinite(value):
            raise InvalidInputError(field, value, "must be finite (no NaN or infinity)")
        result = value
    else:
        result = float(to_decimal(value, field))
    if minimum is not None and result < minimum:
        raise InvalidInputError(field, value, f"must be at least {minimum:g}")
    if maximum is not None and result > maximum:
        raise InvalidInputError(field, value, f"must be at most {maximum:g}")
    if above is not None and result <= above:
        raise InvalidInputError(field, value, f"must be greater than {above:g}")
    return result


def probability_value(value: Any, field: str) -> float:
    """``value`` as a probability: a finite number from 0 to 1."""
    refusal = InvalidInputError(field, value, "expected a probability from 0 to 1")
    if isinstance(value, bool):
        raise refusal
    try:
        return finite_number(value, field, minimum=0.0, maximum=1.0)
    except InvalidInputError:
        raise refusal from None


def seed_value(value: Any, field: str = "seed") -> int | None:
    """A random seed: an int, or ``None`` for fresh entropy."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InvalidInputError(field, value, "expected an int or None")
    return value


def enum_member(kind: type[E], value: Any, field: str) -> E:
    """The member of ``kind`` that ``value`` is or names (its value, in any case)."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value.strip().lower())
        except ValueError:
            pass
    choices = ", ".join(repr(item.value) for item in kind)
    raise InvalidInputError(field, value, f"expected a {kind.__name__} or one of {choices}")


def validate_symbol(value: Any, field: str = "symbol") -> str:
    """A non-empty symbol of at most 32 characters without surrounding blanks."""
    if not isinstance(value, str) or not value or value.strip() != value or len(value) > 32:
        raise InvalidInputError(field, value, "expected a non-empty string of at most 32 characters")
    return value


def whole(*, minimum: int | None = None, maximum: int | None = None) -> attrs.Converter[Any, int]:
    """An attrs converter for ``whole_number`` that names its field."""
    return named(lambda value, field: whole_number(value, field, minimum=minimum, maximum=maximum))


def finite(
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    optional: bool = False,
) -> attrs.Converter[Any, Any]:
    """An attrs converter for ``finite_number`` (``optional``: ``None`` passes) that names its field."""

    def convert(value: Any, field: str) -> float | None:
        if optional and value is None:
            return None
        return finite_number(value, field, minimum=minimum, maximum=maximum, above=above)

    return named(convert)


def probability() -> attrs.Converter[Any, float]:
    """An attrs converter for ``probability_value`` that names its field."""
    return named(probability_value)


def member(kind: type[E]) -> attrs.Converter[Any, E]:
    """An attrs converter for ``enum_member`` of ``kind`` that names its field."""
    return named(lambda value, field: enum_member(kind, value, field))


def seed() -> attrs.Converter[Any, int | None]:
    """An attrs converter for ``seed_value`` that names its field."""
    return named(seed_value)


def named(check: Callable[[Any, str], T]) -> attrs.Converter[Any, T]:
    """An attrs converter that calls ``check(value, field_name)``: e.g. ``named(to_positive)``."""

    def convert(value: Any, attribute: attrs.Attribute[Any]) -> T:
        return check(value, attribute.name.lstrip("_"))

    return attrs.Converter(convert, takes_field=True)


def _bounds(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {minimum} to {maximum}"
    if minimum is not None:
        return f", at least {minimum}"
    if maximum is not None:
        return f", at most {maximum}"
    return ""

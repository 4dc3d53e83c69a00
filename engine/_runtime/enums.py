"""Enums accepted at the edge by member or by value, in any case ("buy", "BUY", OrderSide.BUY)."""

from __future__ import annotations

import enum
from typing import Any, TypeVar

from engine.errors import InvalidInputError

E = TypeVar("E", bound=enum.Enum)


def parse_enum(kind: type[E], value: Any, field: str) -> E:
    """Return the member of ``kind`` that ``value`` names, or raise naming ``field`` and the choices."""
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value.strip().lower())
        except ValueError:
            pass
    choices = ", ".join(repr(member.value) for member in kind)
    raise InvalidInputError(field, value, f"expected a {kind.__name__} or one of {choices}")

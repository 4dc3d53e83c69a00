"""Reading a scenario's TOML tables strictly: every key known, every value checked, errors precise.

A ``Table`` wraps one TOML table with its dotted position in the file (``venue.symbols[2]``).
Taking a key checks its type; ``finish()`` refuses whatever key was not taken; ``build()`` hands
the taken keys to a validated value class and maps its ``InvalidInputError`` back onto the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from backtesting.errors import ScenarioError
from engine.errors import InvalidInputError

__all__ = ["NUMBER", "Table", "parse_toml", "parse_value"]

T = TypeVar("T")

#: Types accepted where a number is expected: TOML ints and floats, and strings for exact decimals.
NUMBER: tuple[type, ...] = (int, float, str, Decimal)
_TYPE_NAMES = {
    bool: "true or false", int: "a whole number", float: "a number", str: "a string",
    Decimal: "a number", dict: "a table", list: "an array",
}


def _describe(kinds: tuple[type, ...]) -> str:
    names = list(dict.fromkeys(_TYPE_NAMES.get(kind, kind.__name__) for kind in kinds))
    return " or ".join(names)


def read_file(path: str | Path, what: str = "file") -> str:
    """Read a UTF-8 text file; raise ``ScenarioError`` naming it when it is missing or unreadable."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(str(path), "", str(path), f"{what} not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(str(path), "", str(path), f"cannot read the {what}: {error}") from None


def parse_toml(text: str, path: str) -> dict[str, Any]:
    """Parse TOML text; a syntax error becomes a ``ScenarioError`` naming the file and the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        lines = text.splitlines()
        number = len(lines)  # "at end of document": the last line
        if "(at line " in message:
            number = int(message.split("(at line ", 1)[1].split(",", 1)[0].rstrip(")"))
        raw = lines[number - 1].strip() if 0 < number <= len(lines) else ""
        raise ScenarioError(path, f"line {number}", raw, f"not valid TOML: {message}") from None


def parse_value(raw: str) -> Any:
    """A command-line value as TOML would read it (``5``, ``0.5``, ``true``), else the plain string."""
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw.strip()


class Table:
    """One TOML table of a scenario file, read key by key."""

    def __init__(self, path: str, prefix: str, data: Mapping[str, Any], base_dir: Path | None = None) -> None:
        self.path = path
        self.prefix = prefix
        self.base_dir = base_dir if base_dir is not None else Path(path).parent
        self._data = dict(data)
        self._taken: set[str] = set()

    def __repr__(self) -> str:
        return f"<Table {self.prefix or '(top)'} keys={sorted(self._data)} taken={sorted(self._taken)}>"

    def key(self, name: str) -> str:
        """The dotted key of ``name`` in this table, as the error messages spell it."""
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, value: Any, reason: str) -> ScenarioError:
        """A ``ScenarioError`` for ``name`` in this table."""
        return ScenarioError(self.path, self.key(name), value, reason)

    def names(self) -> list[str]:
        """The keys present in this table, in file order."""
        return list(self._data)

    def __contains__(self, name: str) -> bool:
        return name in self._data

    def take(self, name: str, kinds: tuple[type, ...], default: Any = None, *, required: bool = False) -> Any:
        """The value of ``name`` if it has one of ``kinds``; ``default`` when absent (or an error)."""
        self._taken.add(name)
        if name not in self._data:
            if required:
                raise self.error(name, None, f"missing; expected {_describe(kinds)}")
            return default
        value = self._data[name]
        if isinstance(value, bool) and bool not in kinds:
            raise self.error(name, value, f"wrong type: expected {_describe(kinds)}")
        if not isinstance(value, kinds):
            got = type(value).__name__
            raise self.error(name, value, f"wrong type: expected {_describe(kinds)}, got {got}")
        return value

    def table(self, name: str) -> Table | None:
        """The sub-table ``name``, or ``None`` when absent."""
        value = self.take(name, (dict,))
        return None if value is None else Table(self.path, self.key(name), value, self.base_dir)

    def tables(self, name: str) -> list[Table]:
        """The array of tables ``name`` (``[[name]]``), empty when absent."""
        value = self.take(name, (list,), default=[])
        result = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise ScenarioError(self.path, f"{self.key(name)}[{index}]", item, "expected a table")
            result.append(Table(self.path, f"{self.key(name)}[{index}]", item, self.base_dir))
        return result

    def mapping(self, name: str, kinds: tuple[type, ...]) -> dict[str, Any]:
        """A table of symbol → value (every value one of ``kinds``); empty when absent."""
        table = self.take(name, (dict,), default={})
        for symbol, value in table.items():
            if isinstance(value, bool) or not isinstance(value, kinds):
                raise ScenarioError(
                    self.path, f"{self.key(name)}.{symbol}", value, f"wrong type: expected {_describe(kinds)}"
                )
        return dict(table)

    def file(self, name: str) -> Path | None:
        """A path relative to the scenario file's folder; it must exist and be a file."""
        raw = self.take(name, (str,))
        if raw is None:
            return None
        resolved = (self.base_dir / raw) if not Path(raw).is_absolute() else Path(raw)
        if not resolved.is_file():
            raise self.error(name, raw, f"file not found (looked for {resolved})")
        return resolved

    def take_known(self, names: Iterable[str]) -> dict[str, Any]:
        """The raw values of those of ``names`` present here (their types are checked by ``build``)."""
        names = tuple(names)
        self._taken.update(names)
        return {name: self._data[name] for name in names if name in self._data}

    def build(self, factory: Callable[..., T], values: Mapping[str, Any]) -> T:
        """``factory(**values)``; its ``InvalidInputError`` is re-raised naming this table's key."""
        try:
            return factory(**values)
        except ScenarioError:
            raise
        except InvalidInputError as error:
            field = error.field.split("[", 1)[0]
            name = error.field if field in values else ""
            key = self.key(name) if name else (self.prefix or "(top level)")
            raise ScenarioError(self.path, key, error.value, error.reason) from None
        except TypeError as error:
            raise ScenarioError(self.path, self.prefix or "(top level)", dict(values), str(error)) from None

    def finish(self) -> None:
        """Refuse the first key that nothing took: an unknown key is most likely a typo."""
        for name, value in self._data.items():
            if name not in self._taken:
                known = ", ".join(sorted(self._taken))
                raise self.error(name, value, f"unknown key; expected one of: {known}")

"""The parameters of one request, read the way Binance reads them, refusing with its answers.

A request's parameters come from the query string and a form body together. Every value is text;
the readers here parse it, or answer -1102 (missing), -1100 (does not parse) or -1121 (a symbol
the venue does not list), naming the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from gateways.served.errors import illegal_characters, invalid_symbol, missing_parameter
from gateways.served.symbols import Market, SymbolMap

__all__ = ["Params"]

_DECIMAL = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")
_INTEGER = re.compile(r"[0-9]{1,20}")
_DECIMAL_RANGE = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"


class Params(Mapping[str, str]):
    """Query and body parameters of one request (a later duplicate wins, as in a form)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    @classmethod
    def parse(cls, query: str, body: str) -> Params:
        """Read the query string and a form-encoded body."""
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
            pairs += parse_qsl(body, keep_blank_values=True, strict_parsing=False)
        except ValueError:
            raise illegal_characters("query", "name=value&...") from None
        return cls(dict(pairs))

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        shown = {name: value for name, value in self._values.items() if name != "signature"}
        return f"<Params {shown}>"

    def text(self, name: str) -> str | None:
        """The value of ``name``; ``None`` when absent or empty."""
        value = self._values.get(name)
        return value if value else None

    def required(self, name: str) -> str:
        """The value of ``name``, or -1102."""
        value = self.text(name)
        if value is None:
            raise missing_parameter(name)
        return value

    def decimal(self, name: str) -> Decimal | None:
        """A non-negative decimal, or -1100 if it does not parse."""
        value = self.text(name)
        if value is None:
            return None
        if not _DECIMAL.fullmatch(value):
            raise illegal_characters(name, _DECIMAL_RANGE)
        try:
            return Decimal(value)
        except InvalidOperation:  # (the pattern admits only plain numbers; kept for safety)
            raise illegal_characters(name, _DECIMAL_RANGE) from None

    def integer(self, name: str) -> int | None:
        """A whole number ≥ 0, or -1100 if it does not parse."""
        value = self.text(name)
        if value is None:
            return None
        if not _INTEGER.fullmatch(value):
            raise illegal_characters(name, "^[0-9]{1,20}$")
        return int(value)

    def limit(self, default: int, maximum: int) -> int:
        """``limit``: at most ``maximum`` (Binance caps it rather than refusing)."""
        value = self.integer("limit")
        if value is None or value <= 0:
            return default
        return min(value, maximum)

    def market(self, symbols: SymbolMap) -> Market:
        """``symbol`` as one of the venue's markets: -1102 when absent, -1121 when not listed."""
        market = symbols.by_market_id(self.required("symbol"))
        if market is None:
            raise invalid_symbol()
        return market

    def optional_market(self, symbols: SymbolMap) -> Market | None:
        """``symbol`` when given (-1121 when not listed), else ``None``."""
        return None if self.text("symbol") is None else self.market(symbols)

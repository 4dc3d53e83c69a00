"""Our symbols as Binance markets: ``AAPL`` is the market ``AAPLUSDT``, ccxt's ``AAPL/USDT``.

The mapping: every symbol of the venue is a base asset, quoted in one quote asset (``USDT`` by
default), the venue's cash. The Binance market id is base + quote; ccxt builds its unified symbol
``BASE/QUOTE`` from ``baseAsset`` and ``quoteAsset`` in ``exchangeInfo``. Binance market ids are
upper-case letters and digits, so a venue symbol with other characters (``BRK.B``) is refused when
the map is made, naming it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import attrs

from engine.errors import InvalidInputError, UnknownSymbolError

__all__ = ["DEFAULT_QUOTE_ASSET", "Market", "SymbolMap"]

DEFAULT_QUOTE_ASSET = "USDT"
_ASSET = re.compile(r"[A-Z0-9]{1,20}")


@attrs.frozen
class Market:
    """One venue symbol as a Binance market."""

    symbol: str  # ours: "AAPL"
    market_id: str  # Binance's: "AAPLUSDT"
    base: str  # "AAPL"
    quote: str  # "USDT"

    @property
    def ccxt_symbol(self) -> str:
        """The unified symbol ccxt gives this market: ``AAPL/USDT``."""
        return f"{self.base}/{self.quote}"


class SymbolMap:
    """Both ways between the venue's symbols and Binance market ids."""

    def __init__(self, symbols: Iterable[str], quote: str = DEFAULT_QUOTE_ASSET) -> None:
        if not isinstance(quote, str) or not _ASSET.fullmatch(quote):
            raise InvalidInputError("quote_asset", quote, "expected 1 to 20 upper-case letters or digits")
        self.quote = quote
        self._by_symbol: dict[str, Market] = {}
        self._by_id: dict[str, Market] = {}
        for symbol in symbols:
            if not _ASSET.fullmatch(symbol):
                raise InvalidInputError(
                    "symbol", symbol, "a Binance market needs upper-case letters and digits only"
                )
            market = Market(symbol=symbol, market_id=symbol + quote, base=symbol, quote=quote)
            if market.market_id in self._by_id or symbol == quote:
                raise InvalidInputError("symbol", symbol, f"clashes with another market or the quote {quote}")
            self._by_symbol[symbol] = market
            self._by_id[market.market_id] = market

    def __repr__(self) -> str:
        return f"<SymbolMap quote={self.quote} markets={list(self._by_id)}>"

    def __iter__(self) -> Iterator[Market]:
        return iter(self._by_symbol.values())

    def __len__(self) -> int:
        return len(self._by_symbol)

    def by_market_id(self, market_id: str) -> Market | None:
        """The market with Binance id ``market_id`` (``None`` if the venue does not list it)."""
        return self._by_id.get(market_id)

    def market(self, symbol: str) -> Market:
        """The market of our ``symbol``; ``UnknownSymbolError`` if the venue does not list it."""
        try:
            return self._by_symbol[symbol]
        except KeyError:
            raise UnknownSymbolError(symbol, known=tuple(self._by_symbol)) from None

    def market_id(self, symbol: str) -> str:
        """Binance's id of our ``symbol``."""
        return self.market(symbol).market_id

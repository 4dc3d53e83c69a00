"""Which venue a scenario trades on: the simulated one, the served paper exchange, or a real one.

A choice is written the same way in a scenario (``[venue] connect = "..."``) and on the command
line (``twap-engine trade SCENARIO --venue ...``):

- ``simulated`` (the default): the scenario's own simulated venue, in process;
- ``http://HOST:PORT`` (or ``https://``): the paper exchange ``twap-engine serve-venue`` serves, in
  Binance's dialect, through ``CcxtGateway``; the scenario's symbol ``AAPL`` is its ``AAPL/USDT``;
- ``ccxt:EXCHANGE`` (``ccxt:binance``): that exchange through ``CcxtGateway``, for live use; the
  scenario's symbols are the exchange's unified symbols (``BTC/USDT``).

Keys for the last two come from the environment (``BINANCE_API_KEY``/``BINANCE_API_SECRET``, or
``TWAP_ENGINE_API_KEY``/``TWAP_ENGINE_API_SECRET``), never from the scenario file. A choice that is
none of these raises ``InvalidInputError`` naming the field and the value.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs

from engine.errors import InvalidInputError
from engine.gateway import TradingGateway
from engine.rate_limits import RateLimit

__all__ = ["VenueChoice", "VenueKind", "open_gateway", "parse_venue_choice"]

#: The quote asset the served paper exchange prices every symbol in.
SERVED_QUOTE = "USDT"


class VenueKind(enum.Enum):
    """The three kinds of venue a scenario can trade on."""

    SIMULATED = "simulated"
    SERVED = "served"
    CCXT = "ccxt"


@attrs.frozen
class VenueChoice:
    """A parsed venue choice: its kind, and the URL or the exchange id it names."""

    kind: VenueKind = VenueKind.SIMULATED
    url: str | None = None
    exchange_id: str | None = None

    def describe(self) -> str:
        """The choice as it is written (``simulated``, the URL, ``ccxt:ID``)."""
        if self.kind is VenueKind.SERVED:
            return str(self.url)
        if self.kind is VenueKind.CCXT:
            return f"ccxt:{self.exchange_id}"
        return "simulated"


def parse_venue_choice(value: Any, field: str = "venue") -> VenueChoice:
    """The ``VenueChoice`` written as ``value``; raises ``InvalidInputError`` naming ``field``."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(field, value, "expected 'simulated', an http:// URL or 'ccxt:EXCHANGE'")
    text = value.strip()
    if text == "simulated":
        return VenueChoice()
    if text.startswith(("http://", "https://")):
        from gateways.ccxt import CcxtSettings

        try:
            CcxtSettings("binance", base_url=text)
        except InvalidInputError as error:
            raise InvalidInputError(field, value, error.reason) from None
        return VenueChoice(VenueKind.SERVED, url=text.rstrip("/"))
    if text.startswith("ccxt:"):
        from gateways.ccxt import known_exchange_ids

        exchange_id = text[len("ccxt:") :]
        if exchange_id not in known_exchange_ids():
            raise InvalidInputError(
                field, value, f"ccxt has no exchange {exchange_id!r} with REST and WebSocket"
            )
        return VenueChoice(VenueKind.CCXT, exchange_id=exchange_id)
    raise InvalidInputError(field, value, "expected 'simulated', an http:// URL or 'ccxt:EXCHANGE'")


@asynccontextmanager
async def open_gateway(
    choice: VenueChoice, symbols: Sequence[str], simulated: Any
) -> AsyncIterator[tuple[TradingGateway, tuple[RateLimit, ...]]]:
    """The chosen venue's gateway, open, with the venue's published limits (none if simulated).

    ``simulated`` makes the simulated venue when that is the choice.
    """
    if choice.kind is VenueKind.SIMULATED:
        async with simulated() as venue:
            yield venue, ()
        return
    from gateways.ccxt import CcxtGateway, CcxtSettings

    if choice.kind is VenueKind.SERVED:
        assert choice.url is not None
        settings = CcxtSettings.from_environment("binance", base_url=choice.url)
        aliases = {symbol: f"{symbol}/{SERVED_QUOTE}" for symbol in symbols}
        gateway = CcxtGateway(settings, aliases=aliases)
    else:
        assert choice.exchange_id is not None
        gateway = CcxtGateway(CcxtSettings.from_environment(choice.exchange_id))
    async with gateway:
        for symbol in symbols:
            gateway.instrument(symbol)  # a symbol the venue does not list: refused by name
        yield gateway, gateway.limits

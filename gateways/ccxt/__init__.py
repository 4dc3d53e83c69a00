"""Real venues through ccxt: ``CcxtGateway`` implements ``engine.TradingGateway`` over any ccxt exchange.

REST through ``ccxt.async_support`` (the ``ccxt.pro`` instance extends it), streams through
``ccxt.pro`` (``watch_orders``, ``watch_my_trades``). Modules, one job each:

- ``settings``: exchange id, keys (from arguments or the environment; never shown), market types;
- ``exchange``: the ccxt object's config (throttler off, ``recvWindow`` below the timeout, URLs of
  a served paper exchange);
- ``markets``: instruments from ``load_markets`` and our names for the venue's symbols;
- ``client_ids``: each exchange's rule for client order ids;
- ``translation``: ccxt's order, trade and ticker structures into our values;
- ``errors``: ccxt's exceptions into the engine's (the table is in its docstring);
- ``usage``: the venue's published limits as presets, each call's weight, and the venue's
  reported usage from the headers;
- ``calls``: the REST edge (usage check, headers, translation) that everything else calls;
- ``journal``: our sequence numbers, kept for replay; ``tracker``: observations into events;
- ``streams``: one consumer per stream and the resync after a drop; ``reconcile``: the REST pass;
- ``gateway``: ``CcxtGateway``, which composes them.

They may import ``engine`` (its public modules), ccxt, anyio, attrs and structlog; nothing here
imports ``gateways.simulated`` or ``gateways.served``.
"""

from __future__ import annotations

from gateways.ccxt.client_ids import ClientIdRule, client_id_rule
from gateways.ccxt.errors import translate_error
from gateways.ccxt.gateway import CcxtGateway, CcxtGatewayStatistics
from gateways.ccxt.settings import MARKET_TYPES, CcxtSettings, known_exchange_ids
from gateways.ccxt.streams import Backoff
from gateways.ccxt.usage import BINANCE_SPOT_LIMITS, UsageStatistics, VenueUsage, limits_for

__all__ = [
    "BINANCE_SPOT_LIMITS",
    "MARKET_TYPES",
    "Backoff",
    "CcxtGateway",
    "CcxtGatewayStatistics",
    "CcxtSettings",
    "ClientIdRule",
    "UsageStatistics",
    "VenueUsage",
    "client_id_rule",
    "known_exchange_ids",
    "limits_for",
    "translate_error",
]

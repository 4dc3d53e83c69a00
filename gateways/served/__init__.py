"""The paper exchange: the simulated venue served over HTTP and WebSocket in Binance Spot's dialect.

An unmodified ccxt client (``ccxt.async_support.binance``, ``ccxt.pro.binance``) trades against it
as against Binance Spot: REST under ``/api/v3`` (signed with HMAC-SHA256, rate limited as Binance
does: request weight per minute, orders per 10 s and per day, 429 then 418), the user-data stream of
the WebSocket API at ``/ws-api/v3`` and market streams at ``/ws`` and ``/stream``, with seeded
faults at the wire. Our symbol ``AAPL`` is the market ``AAPLUSDT`` (ccxt: ``AAPL/USDT``): see symbols.py.

Use it from async code (the server runs in your task group, on real time)::

    from gateways.served import serve_venue
    from gateways.simulated import LatencyModel, SimulatedVenue

    async with serve_venue(SimulatedVenue.demo(latency=LatencyModel.zero())) as served:
        exchange = ccxt.async_support.binance(served.ccxt_config())   # REST
        pro = ccxt.pro.binance(served.ccxt_config())                   # WebSocket
        ...                                   # served.rest_url, ws_url, ws_api_url, api_key, secret
        assert served.statistics().rate_limit_violations == 0

or from synchronous code with ``serve_in_thread(lambda: SimulatedVenue.demo(), port=0)`` (its own
loop in a background thread). From the command line: ``twap-engine serve-venue --port 8765``.

Modules, one job each: ``server`` (uvicorn in the task group), ``app`` (the routes), ``dispatch``
(one REST request: limits, signature, faults, headers), ``market_routes``, ``order_routes``,
``account_routes``, ``user_stream`` (``/ws-api/v3``), ``market_streams`` (``/ws``), ``exchange``
(the composed state and the event pump), ``ledger`` (order ids, trades, execution reports),
``balances`` (free and locked, the funds check), ``auth``, ``limits``, ``faults``, ``params``,
``encoding`` (our values as Binance JSON), ``symbols`` and ``errors``. They may import ``engine``
(its public modules), ``gateways.simulated``, starlette, uvicorn and anyio; nothing imports them
but applications and tests.
"""

from __future__ import annotations

from gateways.served.auth import API_KEY_ENV, API_SECRET_ENV, Credentials
from gateways.served.errors import BinanceError, ServedVenueError, ServerNotReadyError
from gateways.served.exchange import PaperExchange, PaperExchangeStatistics
from gateways.served.faults import WireFaults
from gateways.served.limits import BinanceLimits, LimitStatistics
from gateways.served.server import ServedEndpoints, serve_in_thread, serve_venue
from gateways.served.symbols import DEFAULT_QUOTE_ASSET, Market, SymbolMap

__all__ = [
    "API_KEY_ENV",
    "API_SECRET_ENV",
    "DEFAULT_QUOTE_ASSET",
    "BinanceError",
    "BinanceLimits",
    "Credentials",
    "LimitStatistics",
    "Market",
    "PaperExchange",
    "PaperExchangeStatistics",
    "ServedEndpoints",
    "ServedVenueError",
    "ServerNotReadyError",
    "SymbolMap",
    "WireFaults",
    "serve_in_thread",
    "serve_venue",
]

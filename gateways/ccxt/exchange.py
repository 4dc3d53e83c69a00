"""Making the ccxt exchange object: one ``ccxt.pro`` instance serves both REST and WebSocket.

``ccxt.pro.<id>`` extends ``ccxt.async_support.<id>``, so one instance does the REST calls and the
streams. Its throttler is off (``enableRateLimit: False``; the engine's queue paces), its
``timeout`` is the settings' (in ms, as ccxt counts), its ``recvWindow`` a second below it (see
``recv_window_ms``), and the keys are passed in the config and
nowhere else. With a ``base_url`` the Binance dialect's spot REST and WebSocket URLs all point there
(the served paper exchange: ``/api/v3``, ``/ws``, ``/ws-api/v3``), only spot markets are loaded and
the wallet and margin endpoints it does not have are skipped.
"""

from __future__ import annotations

from typing import Any

from gateways.ccxt.settings import CREDENTIAL_OPTIONS, CcxtSettings

__all__ = ["exchange_config", "make_exchange"]

#: Binance's names for our market types in ``options.fetchMarkets.types``.
_BINANCE_TYPES = {
    "spot": ("spot",),
    "margin": ("spot",),
    "swap": ("linear", "inverse"),
    "future": ("linear", "inverse"),
    "option": ("option",),
}


def _binance_market_types(market_types: tuple[str, ...]) -> list[str]:
    types: list[str] = []
    for kind in market_types:
        types.extend(name for name in _BINANCE_TYPES[kind] if name not in types)
    return types


def _served_urls(base_url: str) -> dict[str, Any]:
    ws_base = "ws" + base_url[len("http") :]
    rest = f"{base_url}/api/v3"
    return {
        "api": {
            "public": rest,
            "private": rest,
            "v1": f"{base_url}/api/v1",
            "ws": {
                "spot": f"{ws_base}/ws",
                "margin": f"{ws_base}/ws",
                "ws-api": {"spot": f"{ws_base}/ws-api/v3"},
            },
        }
    }


def recv_window_ms(timeout_ms: int) -> int:
    """The venue's ``recvWindow`` for requests that time out after ``timeout_ms``.

    A signed request carries its signing time, and the venue refuses it once more than
    ``recvWindow`` has passed on its clock since then. Binance also refuses a time more than 1 s
    ahead of its clock, so with ``recvWindow`` 1 s below our timeout a request the venue has not
    taken by the time we give up on it can never be taken later: a look-up that answers "not
    found" after the submit timed out is final, and resending cannot make a second order.
    (ccxt's default is 10 s, as long as our default timeout.) Never under 1 s, so clock jitter
    does not refuse good requests, nor over the 60 s Binance allows: with a timeout of 2 s or less
    the window is 1 s, no longer below it.
    """
    return min(60_000, max(1_000, timeout_ms - 1_000))


def exchange_config(settings: CcxtSettings) -> dict[str, Any]:
    """The ccxt constructor config for ``settings`` (holds the keys: never log it)."""
    timeout_ms = int(settings.timeout * 1000)
    options: dict[str, Any] = {"recvWindow": recv_window_ms(timeout_ms)}
    config: dict[str, Any] = {
        "apiKey": settings.api_key,
        "secret": settings.secret,
        "enableRateLimit": False,
        "timeout": timeout_ms,
        "newUpdates": True,
        "options": options,
    }
    if settings.exchange_id in ("binance", "binanceus"):
        options["fetchMarkets"] = {"types": _binance_market_types(settings.market_types)}
        options["warnOnFetchOpenOrdersWithoutSymbol"] = False
    if settings.base_url is not None:
        config["urls"] = _served_urls(settings.base_url)
        options.update(defaultType="spot", fetchCurrencies=False, fetchMargins=False)
    for name in CREDENTIAL_OPTIONS:
        if name in settings.options:
            config[name] = settings.options[name]
    options.update({key: value for key, value in settings.options.items() if key not in CREDENTIAL_OPTIONS})
    return config


def make_exchange(settings: CcxtSettings) -> Any:
    """A ``ccxt.pro`` exchange for ``settings`` (not yet connected)."""
    import ccxt.pro

    exchange_class = getattr(ccxt.pro, settings.exchange_id)
    exchange = exchange_class(exchange_config(settings))
    if settings.base_url is not None:
        # ccxt merges ``urls`` shallowly into the class's: keep the rest, point the spot ones here
        served = _served_urls(settings.base_url)["api"]
        api = exchange.urls["api"]
        api.update({key: value for key, value in served.items() if key != "ws"})
        api["ws"] = {
            **api.get("ws", {}),
            **served["ws"],
            "ws-api": {**api["ws"].get("ws-api", {}), **served["ws"]["ws-api"]},
        }
    return exchange

"""How to reach one venue through ccxt: the exchange id, the keys, the market types and the URLs.

``CcxtSettings`` is a frozen value checked when it is made: an exchange id ccxt does not know, a
market type outside spot/margin/swap/future/option, or a URL that is not ``http(s)://`` is refused
with an ``InvalidInputError`` naming the field and the value, before any connection is opened.
Keys come from the arguments or from the environment (``CcxtSettings.from_environment``); they are
never shown: the repr prints ``'***'`` in their place, and nothing here logs them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from engine.errors import InvalidInputError

__all__ = ["CREDENTIAL_OPTIONS", "MARKET_TYPES", "CcxtSettings", "known_exchange_ids"]

#: The market types ccxt distinguishes; instruments are loaded only for the ones asked for.
MARKET_TYPES = ("spot", "margin", "swap", "future", "option")

#: Credentials some exchanges need besides the key and secret; given in ``options``, never shown.
CREDENTIAL_OPTIONS = (
    "uid",
    "password",
    "login",
    "twofa",
    "privateKey",
    "walletAddress",
    "token",
    "accountId",
)

#: Environment variables read by ``from_environment`` (``{ID}`` is the exchange id, upper case).
KEY_VARIABLES = ("{ID}_API_KEY", "TWAP_ENGINE_API_KEY")
SECRET_VARIABLES = ("{ID}_API_SECRET", "TWAP_ENGINE_API_SECRET")


def known_exchange_ids() -> tuple[str, ...]:
    """The exchange ids that the installed ccxt serves with both REST and WebSocket (ccxt.pro)."""
    import ccxt.pro

    return tuple(sorted(ccxt.pro.exchanges))


def _exchange_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInputError("exchange_id", value, "expected a ccxt exchange id such as 'binance'")
    known = known_exchange_ids()
    if value not in known:
        close = [name for name in known if name.startswith(value[:3].lower())][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InvalidInputError(
            "exchange_id", value, f"not an exchange id that ccxt serves over REST and WebSocket{hint}"
        )
    return value


def _secret_text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        # the value is a secret: name its type, never the value itself
        raise InvalidInputError(field, f"<{type(value).__name__}>", "expected a string")
    return value


def _api_key(value: Any) -> str:
    return _secret_text(value, "api_key")


def _secret(value: Any) -> str:
    return _secret_text(value, "secret")


def _market_types(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    types = tuple(value) if isinstance(value, list | tuple) else None
    if not types:
        raise InvalidInputError("market_types", value, f"expected one or more of {', '.join(MARKET_TYPES)}")
    for kind in types:
        if kind not in MARKET_TYPES:
            raise InvalidInputError("market_types", kind, f"expected one of {', '.join(MARKET_TYPES)}")
    return types


def _base_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")) or " " in value:
        raise InvalidInputError("base_url", value, "expected an http:// or https:// URL")
    return value.rstrip("/")


def _timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 600:
        raise InvalidInputError("timeout", value, "expected seconds in (0, 600]")
    return float(value)


def _shown_options(options: Mapping[str, Any]) -> str:
    return repr({key: "***" if key in CREDENTIAL_OPTIONS else value for key, value in options.items()})


def _options(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError("options", value, "expected a mapping of ccxt options")
    return dict(value)


@attrs.frozen
class CcxtSettings:
    """Everything needed to open one ccxt exchange for trading.

    ``exchange_id`` is a ccxt id (``"binance"``); ``api_key`` and ``secret`` the keys;
    ``market_types`` the kinds of market whose instruments are loaded (spot by default);
    ``base_url`` points a Binance-dialect client at another host (the served paper exchange,
    ``http://127.0.0.1:8765``) instead of the exchange's own; ``timeout`` is each request's limit in
    seconds; ``options`` are passed to ccxt's ``options`` as they are.
    """

    exchange_id: str = attrs.field(converter=_exchange_id)
    api_key: str = attrs.field(default="", converter=_api_key, repr=lambda _: "'***'")
    secret: str = attrs.field(default="", converter=_secret, repr=lambda _: "'***'")
    market_types: tuple[str, ...] = attrs.field(default=("spot",), converter=_market_types)
    base_url: str | None = attrs.field(default=None, converter=_base_url)
    timeout: float = attrs.field(default=10.0, converter=_timeout)
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=_options, repr=_shown_options)

    @classmethod
    def from_environment(
        cls,
        exchange_id: str,
        *,
        environ: Mapping[str, str] | None = None,
        **settings: Any,
    ) -> CcxtSettings:
        """Settings whose keys come from ``{ID}_API_KEY``/``{ID}_API_SECRET`` (``BINANCE_API_KEY``),
        else ``TWAP_ENGINE_API_KEY``/``TWAP_ENGINE_API_SECRET``; missing keys raise naming the
        variables looked at."""
        environ = os.environ if environ is None else environ
        checked = _exchange_id(exchange_id)
        found: dict[str, str] = {}
        for field, names in (("api_key", KEY_VARIABLES), ("secret", SECRET_VARIABLES)):
            variables = [name.format(ID=checked.upper()) for name in names]
            value = next((environ[name] for name in variables if environ.get(name)), None)
            if value is None:
                raise InvalidInputError(field, None, f"not set; looked at {', '.join(variables)}")
            found[field] = value
        return cls(checked, found["api_key"], found["secret"], **settings)

    def check_credentials(self, required: Mapping[str, Any]) -> None:
        """Raise ``InvalidInputError`` naming the first key the exchange requires and we lack.

        ``required`` is the exchange's ``requiredCredentials`` from ``describe()``.
        """
        for field, ccxt_name in (("api_key", "apiKey"), ("secret", "secret")):
            if required.get(ccxt_name) and not getattr(self, field):
                raise InvalidInputError(field, "", f"{self.exchange_id} requires it to trade")
        for ccxt_name, needed in required.items():
            if needed and ccxt_name not in ("apiKey", "secret") and not self.options.get(ccxt_name):
                raise InvalidInputError(
                    f"options.{ccxt_name}", None, f"{self.exchange_id} requires it to trade"
                )

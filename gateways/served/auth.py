"""Who may trade: the API key, HMAC-SHA256 signatures, ``timestamp`` and ``recvWindow``.

REST (Binance's "SIGNED" endpoints): the key comes in the ``X-MBX-APIKEY`` header; the signature
is HMAC-SHA256 with the secret over the query string concatenated with the body, both exactly as
sent, without the ``signature`` parameter itself. The WebSocket API signs its ``params``: every
parameter but ``signature``, sorted by name, as ``name=value`` joined by ``&``.

Checks, in order, each with Binance's answer: no key or a malformed one (-2014), an unknown key
(-2015), no ``signature`` or ``timestamp`` (-1102), a ``recvWindow`` above 60,000 ms (-1131), a
timestamp more than 1,000 ms ahead of the server (-1021) or older than ``recvWindow`` (default
5,000 ms, -1021), a signature that does not match (-1022). Secrets are compared in constant time
and never logged or shown in a repr.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping

import attrs

from engine.errors import InvalidInputError
from gateways.served.errors import (
    BinanceError,
    bad_api_key,
    bad_api_key_format,
    bad_signature,
    illegal_characters,
    missing_parameter,
    outside_recv_window,
    timestamp_ahead,
)

__all__ = ["API_KEY_ENV", "API_SECRET_ENV", "Credentials", "rest_payload", "ws_payload"]

API_KEY_ENV = "TWAP_ENGINE_API_KEY"
API_SECRET_ENV = "TWAP_ENGINE_API_SECRET"

_KEY = re.compile(r"[A-Za-z0-9_\-]{1,128}")
_INTEGER = re.compile(r"-?[0-9]{1,20}")
_DEFAULT_RECV_WINDOW_MS = 5_000
_MAX_RECV_WINDOW_MS = 60_000
_AHEAD_TOLERANCE_MS = 1_000


def _key(value: object) -> str:
    if not isinstance(value, str) or not _KEY.fullmatch(value):
        raise InvalidInputError("api_key", "<hidden>", "expected 1 to 128 letters, digits, '-' or '_'")
    return value


def _secret(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 512:
        raise InvalidInputError(
            "api_secret", "<hidden>", "expected a non-empty string of at most 512 characters"
        )
    return value


@attrs.frozen(repr=False)
class Credentials:
    """The one API key and secret the served venue accepts."""

    api_key: str = attrs.field(converter=_key)
    secret: str = attrs.field(converter=_secret)

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key[:4]}…, secret=<hidden>)"

    @classmethod
    def from_environment(
        cls, api_key: str | None = None, secret: str | None = None, environ: Mapping[str, str] | None = None
    ) -> Credentials:
        """The key and secret given, else ``TWAP_ENGINE_API_KEY`` / ``TWAP_ENGINE_API_SECRET``."""
        env = os.environ if environ is None else environ
        key = api_key if api_key is not None else env.get(API_KEY_ENV)
        if key is None:
            raise InvalidInputError("api_key", None, f"pass --api-key or set {API_KEY_ENV}")
        found = secret if secret is not None else env.get(API_SECRET_ENV)
        if found is None:
            raise InvalidInputError("api_secret", None, f"pass --api-secret or set {API_SECRET_ENV}")
        return cls(key, found)

    def sign(self, payload: str) -> str:
        """The hex HMAC-SHA256 of ``payload`` with the secret (what a client sends)."""
        return hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()

    def check_key(self, api_key: str | None) -> None:
        """Raise -2014 for a missing or malformed key, -2015 for a key that is not ours."""
        if not api_key or not _KEY.fullmatch(api_key):
            raise bad_api_key_format()
        if not hmac.compare_digest(api_key.encode(), self.api_key.encode()):
            raise bad_api_key()

    def check_signed(self, params: Mapping[str, str], payload: str, now_ms: int) -> None:
        """Check ``timestamp``, ``recvWindow`` and ``signature`` of a signed request over ``payload``."""
        signature = params.get("signature")
        if not signature:
            raise missing_parameter("signature")
        timestamp = _integer(params, "timestamp")
        if timestamp is None:
            raise missing_parameter("timestamp")
        window = _integer(params, "recvWindow")
        if window is None:
            window = _DEFAULT_RECV_WINDOW_MS
        elif not 0 < window <= _MAX_RECV_WINDOW_MS:
            raise BinanceError(400, -1131, "recvWindow must be less than 60000")
        if timestamp - now_ms > _AHEAD_TOLERANCE_MS:
            raise timestamp_ahead(_AHEAD_TOLERANCE_MS)
        if now_ms - timestamp > window:
            raise outside_recv_window()
        expected = self.sign(payload)
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise bad_signature()


def _integer(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not _INTEGER.fullmatch(raw):
        raise illegal_characters(name, "^[0-9]{1,20}$")
    return int(raw)


def _without_signature(raw: str) -> str:
    return "&".join(part for part in raw.split("&") if part and not part.startswith("signature="))


def rest_payload(query: str, body: str) -> str:
    """What a REST signature covers: the query string, then the body, each without ``signature``."""
    return _without_signature(query) + _without_signature(body)


def ws_payload(params: Mapping[str, object]) -> str:
    """What a WebSocket API signature covers: ``name=value`` of every other param, sorted by name."""
    return "&".join(f"{name}={_ws_value(params[name])}" for name in sorted(params) if name != "signature")


def _ws_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

"""Where the API's bearer token comes from, and making one on a first start.

The token is taken from, in order: the configuration, the environment variable
``TWAP_ENGINE_API_TOKEN``, or the token file. With none of them, a new token is made with
``secrets.token_urlsafe``, written to the token file with mode 0600 (only its user can read it),
and where it went is said on the console; the next start reads it back from there.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from daemon.api.errors import ApiTokenError, ApiTokenFileError

__all__ = ["TOKEN_ENVIRONMENT_VARIABLE", "ApiToken", "TokenSource", "resolve_api_token"]

TOKEN_ENVIRONMENT_VARIABLE = "TWAP_ENGINE_API_TOKEN"
MIN_TOKEN_LENGTH = 16
MAX_TOKEN_LENGTH = 512


class TokenSource:
    """Names of the places a token can come from (``ApiToken.source``)."""

    CONFIG = "config"
    ENVIRONMENT = "environment"
    FILE = "file"
    CREATED = "created"


@attrs.frozen
class ApiToken:
    """The bearer token every API path but health requires, and where it came from."""

    value: str = attrs.field(repr=False)
    source: str
    path: Path | None = None


def _checked(value: str, source: str) -> str:
    text = value.strip()
    if len(text) < MIN_TOKEN_LENGTH:
        raise ApiTokenError(source, value, f"a token needs at least {MIN_TOKEN_LENGTH} characters")
    if len(text) > MAX_TOKEN_LENGTH:
        raise ApiTokenError(source, value, f"a token has at most {MAX_TOKEN_LENGTH} characters")
    if not all("!" <= ch <= "~" for ch in text):
        raise ApiTokenError(source, value, "a token is printable ASCII without spaces")
    return text


def _read_token_file(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ApiTokenFileError(
                path, f"other users may read it (mode {stat.S_IMODE(mode):o}); run chmod 600 on it"
            )
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise ApiTokenFileError(path, f"cannot be read: {error.strerror or error}") from error


def _write_new_token(path: Path) -> str:
    value = secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: never overwrite a token another start wrote meanwhile; 0600 from the first byte.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise ApiTokenFileError(path, f"cannot be created: {error.strerror or error}") from error
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def _say_on_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def resolve_api_token(
    *,
    configured: str | None,
    token_file: Path | str,
    environ: Mapping[str, str] | None = None,
    say: Callable[[str], None] = _say_on_stderr,
) -> ApiToken:
    """The API token from the configuration, the environment or ``token_file``; else a new one.

    A new token is written to ``token_file`` (mode 0600, parent folders made) and ``say`` is told
    where. Raises ``ApiTokenError`` for a token that is too short or not printable ASCII, and
    ``ApiTokenFileError`` for a token file that cannot be read or written, or that other users
    may read.
    """
    path = Path(token_file)
    environment = os.environ if environ is None else environ
    if configured is not None:
        return ApiToken(_checked(configured, "api.token"), TokenSource.CONFIG)
    from_environment = environment.get(TOKEN_ENVIRONMENT_VARIABLE)
    if from_environment:
        return ApiToken(_checked(from_environment, TOKEN_ENVIRONMENT_VARIABLE), TokenSource.ENVIRONMENT)
    if path.exists():
        return ApiToken(_checked(_read_token_file(path), str(path)), TokenSource.FILE, path)
    value = _write_new_token(path)
    say(f"made a new API token and wrote it to {path} (readable only by you)")
    return ApiToken(value, TokenSource.CREATED, path)

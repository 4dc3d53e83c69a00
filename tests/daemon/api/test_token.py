"""Where the API token comes from; a first start makes one in a file only its user can read."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from daemon.api import (
    TOKEN_ENVIRONMENT_VARIABLE,
    ApiTokenError,
    ApiTokenFileError,
    resolve_api_token,
)

GOOD = "a-token-of-enough-length"


def test_the_configured_token_comes_first(tmp_path: Path) -> None:
    token = resolve_api_token(
        configured=GOOD, token_file=tmp_path / "token", environ={TOKEN_ENVIRONMENT_VARIABLE: "x" * 20}
    )
    assert (token.value, token.source) == (GOOD, "config")
    assert not (tmp_path / "token").exists()


def test_the_environment_comes_before_the_file(tmp_path: Path) -> None:
    token = resolve_api_token(
        configured=None, token_file=tmp_path / "token", environ={TOKEN_ENVIRONMENT_VARIABLE: GOOD}
    )
    assert (token.value, token.source) == (GOOD, "environment")


def test_a_first_start_makes_a_token_only_its_user_can_read_and_says_where(tmp_path: Path) -> None:
    path = tmp_path / "var" / "api-token"
    said: list[str] = []
    token = resolve_api_token(configured=None, token_file=path, environ={}, say=said.append)
    assert token.source == "created"
    assert len(token.value) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == token.value
    assert said == [f"made a new API token and wrote it to {path} (readable only by you)"]
    assert token.value not in said[0]


def test_the_next_start_reads_the_token_back(tmp_path: Path) -> None:
    path = tmp_path / "api-token"
    made = resolve_api_token(configured=None, token_file=path, environ={}, say=lambda _: None)
    again = resolve_api_token(configured=None, token_file=path, environ={}, say=lambda _: None)
    assert (again.value, again.source, again.path) == (made.value, "file", path)


def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "api-token"
    path.write_text(GOOD)
    path.chmod(0o644)
    with pytest.raises(ApiTokenFileError, match="chmod 600"):
        resolve_api_token(configured=None, token_file=path, environ={})


@pytest.mark.parametrize(
    ("value", "reason"), [("short", "at least 16"), ("has a space in it!!", "printable")]
)
def test_a_weak_or_malformed_token_is_refused_without_showing_it(value: str, reason: str) -> None:
    with pytest.raises(ApiTokenError, match=reason) as caught:
        resolve_api_token(configured=value, token_file="unused", environ={})
    assert caught.value.field == "api.token"
    assert value not in str(caught.value)


def test_the_token_never_shows_in_its_repr() -> None:
    token = resolve_api_token(configured=GOOD, token_file="unused", environ={})
    assert GOOD not in repr(token)

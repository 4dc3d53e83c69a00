"""The daemon's configuration: defaults without a file, every key checked, errors name key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import load_config, parse_config
from daemon.errors import ConfigError
from engine import RateLimit


def test_no_file_gives_the_demo_venue_a_journal_under_var_and_the_api_on_localhost_8080() -> None:
    config = load_config()
    assert config.venue.kind == "simulated"
    assert config.journal.path == Path("var/journal.sqlite3")
    assert (config.api.host, config.api.port) == ("127.0.0.1", 8080)
    assert config.api.token is None
    assert config.shutdown.resting_children == "cancel"


def test_a_full_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "daemon.toml"
    path.write_text(
        """
[venue]
kind = "paper"
address = "127.0.0.1:9000"
account = "main"
[queue]
max_orders_per_minute = 100
limits = [{ limit = 50, period = 10.0 }]
[journal]
path = "state/j.sqlite3"
synchronous = "normal"
[api]
host = "127.0.0.1"
port = 9001
token_file = "state/token"
[logging]
level = "debug"
format = "json"
[shutdown]
resting_children = "leave"
grace_seconds = 5
""",
        encoding="utf-8",
    )
    config = load_config(path, port=9100)
    assert config.venue.address == "127.0.0.1:9000"
    assert config.venue.account == "main"
    assert config.queue.limits == (RateLimit(50, 10.0),)
    assert config.journal.synchronous == "normal"
    assert config.api.port == 9100  # the command line wins
    assert config.shutdown.grace_seconds == 5.0


@pytest.mark.parametrize(
    ("data", "key", "value"),
    [
        ({"venue": {"kind": "ftx"}}, "venue.kind", "ftx"),
        ({"venue": {"kind": "paper"}}, "venue.address", None),
        ({"venue": {"kind": "paper", "address": "nowhere"}}, "venue.address", "nowhere"),
        ({"venue": {"address": "127.0.0.1:1"}}, "venue.address", "127.0.0.1:1"),
        ({"queue": {"max_orders_per_minute": 0}}, "queue.max_orders_per_minute", 0),
        ({"queue": {"max_orders_per_minute": True}}, "queue.max_orders_per_minute", True),
        ({"queue": {"limits": [{"limit": 5}]}}, "queue.limits[0]", {"limit": 5}),
        ({"queue": {"limits": [{"limit": -5, "period": 1}]}}, "queue.limits[0]", {"limit": -5, "period": 1}),
        ({"journal": {"synchronous": "off"}}, "journal.synchronous", "off"),
        ({"journal": {"path": ""}}, "journal.path", ""),
        ({"api": {"port": 70000}}, "api.port", 70000),
        ({"api": {"host": 5}}, "api.host", 5),
        ({"logging": {"level": "loud"}}, "logging.level", "loud"),
        ({"shutdown": {"grace_seconds": float("nan")}}, "shutdown.grace_seconds", None),
        ({"shutdown": {"resting_children": "keep"}}, "shutdown.resting_children", "keep"),
        ({"api": {"prot": 1}}, "api.prot", 1),
        ({"apis": {}}, "config.apis", {}),
        ({"venue": "simulated"}, "venue", "simulated"),
    ],
)
def test_a_bad_key_or_value_names_the_key_and_the_value(
    data: dict[str, object], key: str, value: object
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="daemon.toml")
    assert caught.value.key == key
    if value is not None:
        assert caught.value.value == value
    assert str(caught.value).startswith(f"daemon.toml: {key}=")


def test_a_bad_command_line_port_is_refused_by_name() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(port=-1)
    assert (caught.value.key, caught.value.value) == ("command line.port", -1)


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[venue\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)

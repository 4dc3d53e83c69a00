"""The daemon's configuration: a TOML file (optional) over embedded defaults, every key validated.

::

    [venue]
    kind = "simulated"            # the in-process demo venue (seed = 7); or:
                                  # "served": the paper exchange at url = "http://127.0.0.1:8765"
                                  #   (twap-engine serve-venue), through the ccxt gateway, trading
                                  #   symbols = ["AAPL", "MSFT", "GOOGL"] (its AAPL/USDT, ...);
                                  # "ccxt": exchange = "binance", a real exchange;
                                  # "paper": address = "127.0.0.1:9000" (python -m daemon.paper)
    account = "default"           # served and ccxt keys: BINANCE_API_KEY / BINANCE_API_SECRET
                                  # (or TWAP_ENGINE_API_KEY / TWAP_ENGINE_API_SECRET)

    [queue]
    max_orders_per_minute = 200
    limits = [{ limit = 50, period = 10.0 }]

    [journal]
    path = "var/journal.sqlite3"  # relative paths are relative to the working directory
    synchronous = "normal"        # survives the process's crash (kill -9); "full": the machine's too

    [api]
    host = "127.0.0.1"
    port = 8080
    token_file = "var/api-token"  # token = "..." here, or TWAP_ENGINE_API_TOKEN in the environment

    [logging]
    level = "info"                # debug, info, warning, error
    format = "auto"               # json off a terminal, readable on one; or "json", "console"

    [shutdown]
    resting_children = "cancel"   # or "leave": left at the venue, settled by the next start
    grace_seconds = 20.0
    settle_timeout = 30.0         # recovery: how long to wait for one child to end at the venue

A bad key or value raises ``ConfigError`` naming the key (``section.key``) and the value.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from daemon.errors import ConfigError
from engine import RateLimit

__all__ = [
    "ApiConfig",
    "DaemonConfig",
    "JournalConfig",
    "LoggingConfig",
    "QueueConfig",
    "ShutdownConfig",
    "VenueConfig",
    "load_config",
    "parse_config",
]


DEFAULT_JOURNAL = Path("var/journal.sqlite3")
DEFAULT_TOKEN_FILE = Path("var/api-token")


@attrs.frozen(kw_only=True)
class VenueConfig:
    """Which venue: ``simulated`` (in process; a new venue every start), ``served`` (the paper
    exchange at ``url``), ``ccxt`` (``exchange``) or ``paper`` (at ``address``)."""

    kind: str = "simulated"
    seed: int = 7
    address: str | None = None
    url: str | None = None
    exchange: str | None = None
    symbols: tuple[str, ...] = ("AAPL", "MSFT", "GOOGL")
    account: str = "default"


@attrs.frozen(kw_only=True)
class QueueConfig:
    """The engine queue's limits."""

    max_orders_per_minute: int | None = 200
    limits: tuple[RateLimit, ...] = ()


@attrs.frozen(kw_only=True)
class JournalConfig:
    """Where the journal lives and how hard each commit is flushed.

    ``normal`` (the default): a committed write survives the daemon's crash, ``kill -9`` included
    (it is in the operating system's hands); ``full`` also flushes it to the disk, so it survives
    the machine's crash, at the cost of a disk flush per write (see the README's figures).
    """

    path: Path = attrs.field(factory=lambda: DEFAULT_JOURNAL)
    synchronous: str = "normal"


@attrs.frozen(kw_only=True)
class ApiConfig:
    """Where the control API listens and where its token comes from."""

    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = attrs.field(default=None, repr=False)
    token_file: Path = attrs.field(factory=lambda: DEFAULT_TOKEN_FILE)


@attrs.frozen(kw_only=True)
class LoggingConfig:
    """Log level and format."""

    level: str = "info"
    format: str = "auto"


@attrs.frozen(kw_only=True)
class ShutdownConfig:
    """What a stop does with resting children, and how long it may take."""

    resting_children: str = "cancel"
    grace_seconds: float = 20.0
    settle_timeout: float = 30.0


@attrs.frozen(kw_only=True)
class DaemonConfig:
    """The whole configuration."""

    venue: VenueConfig = VenueConfig()
    queue: QueueConfig = QueueConfig()
    journal: JournalConfig = JournalConfig()
    api: ApiConfig = ApiConfig()
    logging: LoggingConfig = LoggingConfig()
    shutdown: ShutdownConfig = ShutdownConfig()


class _Section:
    """Reads one table's keys, each checked, and refuses keys it does not know."""

    def __init__(self, data: Mapping[str, Any], name: str, source: str | None) -> None:
        self._name = name
        self._source = source
        if not isinstance(data, Mapping):
            raise ConfigError(name, data, "expected a table", source=source)
        self._data = dict(data)

    def error(self, key: str, value: Any, reason: str) -> ConfigError:
        return ConfigError(f"{self._name}.{key}", value, reason, source=self._source)

    def text(self, key: str, default: str | None, choices: tuple[str, ...] = ()) -> Any:
        value = self._data.pop(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, value, "expected a non-empty string")
        if choices and value not in choices:
            raise self.error(key, value, f"expected one of {', '.join(choices)}")
        return value

    def whole(self, key: str, default: int | None, low: int, high: int) -> Any:
        value = self._data.pop(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(key, value, f"expected a whole number from {low} to {high}")
        return value

    def seconds(self, key: str, default: float) -> float:
        value = self._data.pop(key, default)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value <= 0:
            raise self.error(key, value, "expected a positive number of seconds")
        return float(value)

    def path(self, key: str, default: Path) -> Path:
        value = self._data.pop(key, str(default))
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, value, "expected a path")
        return Path(value).expanduser()

    def raw(self, key: str, default: Any) -> Any:
        return self._data.pop(key, default)

    def done(self) -> None:
        for key, value in self._data.items():
            raise self.error(key, value, "not a setting of this section")


def _limits(section: _Section) -> tuple[RateLimit, ...]:
    value = section.raw("limits", [])
    if not isinstance(value, list):
        raise section.error("limits", value, "expected a list of { limit = N, period = SECONDS }")
    limits = []
    for index, item in enumerate(value):
        key = f"limits[{index}]"
        if not isinstance(item, Mapping) or set(item) != {"limit", "period"}:
            raise section.error(key, item, "expected { limit = N, period = SECONDS }")
        try:
            limits.append(RateLimit(item["limit"], item["period"]))
        except ValueError as error:
            raise section.error(key, item, str(error)) from None
    return tuple(limits)


def _symbols(section: _Section) -> tuple[str, ...]:
    value = section.raw("symbols", ["AAPL", "MSFT", "GOOGL"])
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise section.error("symbols", value, "expected a list of symbols")
    return tuple(value)


def _venue(section: _Section) -> VenueConfig:
    kind = section.text("kind", "simulated", ("simulated", "served", "ccxt", "paper"))
    seed = section.whole("seed", 7, 0, 2**63 - 1)
    address = section.text("address", None)
    url = section.text("url", None)
    exchange = section.text("exchange", None)
    symbols = _symbols(section)
    account = section.text("account", "default")
    needs = {"paper": "address", "served": "url", "ccxt": "exchange"}
    for key, value in (("address", address), ("url", url), ("exchange", exchange)):
        if value is not None and needs.get(kind) != key:
            raise section.error(key, value, f"not a setting of a {kind} venue")
    if kind in needs and {"address": address, "url": url, "exchange": exchange}[needs[kind]] is None:
        raise section.error(needs[kind], None, f"a {kind} venue needs its {needs[kind]}")
    if address is not None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise section.error("address", address, "expected host:port")
    if url is not None and not url.startswith(("http://", "https://")):
        raise section.error("url", url, "expected an http:// or https:// URL")
    if exchange is not None:
        from gateways.ccxt import known_exchange_ids

        if exchange not in known_exchange_ids():
            raise section.error("exchange", exchange, "ccxt has no such exchange with REST and WebSocket")
    return VenueConfig(
        kind=kind, seed=seed, address=address, url=url, exchange=exchange, symbols=symbols, account=account
    )


def parse_config(
    data: Mapping[str, Any], *, source: str | None = None, host: str | None = None, port: int | None = None
) -> DaemonConfig:
    """The configuration from TOML data; ``host``/``port`` (the command line) win over the file."""
    root = _Section(data, "config", source)
    sections = {name: _Section(root.raw(name, {}), name, source) for name in DaemonConfig.__annotations__}
    root.done()
    venue = _venue(sections["venue"])
    queue = sections["queue"]
    queue_config = QueueConfig(
        max_orders_per_minute=queue.whole("max_orders_per_minute", 200, 1, 10_000_000), limits=_limits(queue)
    )
    journal = sections["journal"]
    journal_config = JournalConfig(
        path=journal.path("path", DEFAULT_JOURNAL),
        synchronous=journal.text("synchronous", "normal", ("full", "normal")),
    )
    api = sections["api"]
    api_config = ApiConfig(
        host=api.text("host", "127.0.0.1"),
        port=api.whole("port", 8080, 0, 65535),
        token=api.text("token", None),
        token_file=api.path("token_file", DEFAULT_TOKEN_FILE),
    )
    command_line = _Section({"host": host, "port": port}, "command line", None)
    if host is not None:
        api_config = attrs.evolve(api_config, host=command_line.text("host", None))
    if port is not None:
        api_config = attrs.evolve(api_config, port=command_line.whole("port", None, 0, 65535))
    logs = sections["logging"]
    logging_config = LoggingConfig(
        level=logs.text("level", "info", ("debug", "info", "warning", "error")),
        format=logs.text("format", "auto", ("auto", "json", "console")),
    )
    stop = sections["shutdown"]
    shutdown_config = ShutdownConfig(
        resting_children=stop.text("resting_children", "cancel", ("cancel", "leave")),
        grace_seconds=stop.seconds("grace_seconds", 20.0),
        settle_timeout=stop.seconds("settle_timeout", 30.0),
    )
    for section in sections.values():
        section.done()
    return DaemonConfig(
        venue=venue,
        queue=queue_config,
        journal=journal_config,
        api=api_config,
        logging=logging_config,
        shutdown=shutdown_config,
    )


def load_config(
    path: Path | str | None = None, *, host: str | None = None, port: int | None = None
) -> DaemonConfig:
    """Read ``path`` (TOML) over the defaults; without a path, the defaults alone."""
    if path is None:
        return parse_config({}, host=host, port=port)
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError("config", str(path), f"cannot be read: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("config", str(path), f"not valid TOML: {error}") from None
    return parse_config(data, source=str(path), host=host, port=port)

"""Every error the daemon raises, named for what happened.

``DaemonError`` is the root. Bad input (a request, a parent id, a configuration key) raises a
subclass of ``engine.InvalidInputError`` (a ``ValueError``) naming the field and the value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import InvalidInputError

__all__ = [
    "ConfigError",
    "DaemonError",
    "IdempotencyKeyReusedError",
    "JournalError",
    "JournalLockedError",
    "JournalSchemaTooNewError",
    "ServiceClosedError",
    "UnknownParentError",
]


class DaemonError(Exception):
    """Raised for anything that goes wrong in the daemon; the root of its errors."""


class UnknownParentError(DaemonError, InvalidInputError):
    """Raised when a parent id names no parent the service knows."""

    def __init__(self, parent_id: Any, field: str = "parent_id") -> None:
        InvalidInputError.__init__(self, field, parent_id, "no parent with this id")
        self.parent_id = parent_id


class IdempotencyKeyReusedError(DaemonError, InvalidInputError):
    """Raised when an idempotency key comes back with a different request body."""

    def __init__(self, key: str, first_id: str) -> None:
        InvalidInputError.__init__(
            self, "idempotency_key", key, f"already used for another request (it made {first_id})"
        )
        self.key = key
        self.first_id = first_id


class ConfigError(DaemonError, InvalidInputError):
    """Raised when a configuration key or its value is refused; names the key and the value."""

    def __init__(self, key: str, value: Any, reason: str, *, source: str | None = None) -> None:
        InvalidInputError.__init__(self, key, value, reason)
        self.key = key
        self.source = source

    def __str__(self) -> str:
        text = super().__str__()
        return f"{self.source}: {text}" if self.source else text


class ServiceClosedError(DaemonError):
    """Raised when a request reaches a service that is not running or is shutting down."""


class JournalError(DaemonError):
    """Raised when the journal cannot be opened or written."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"journal {path}: {reason}")
        self.path = str(path)
        self.reason = reason


class JournalLockedError(JournalError):
    """Raised when another daemon holds the journal: two daemons must never run on one journal."""


class JournalSchemaTooNewError(JournalError):
    """Raised when the journal was written by a newer schema than this daemon knows."""

    def __init__(self, path: Path | str, found: int, known: int) -> None:
        super().__init__(path, f"schema version {found} is newer than this daemon's {known}; upgrade it")
        self.found = found
        self.known = known

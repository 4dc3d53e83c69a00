"""Every error the control API raises itself, named for what happened.

Errors of the trading service (``daemon.errors``) pass through the API's handlers in
``problems``; the ones here are about the API's own set-up: its token and its server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from daemon.errors import DaemonError
from engine.errors import InvalidInputError

__all__ = ["ApiBindError", "ApiTokenError", "ApiTokenFileError"]


class ApiTokenError(DaemonError, InvalidInputError):
    """Raised when a configured API token is refused (too short, or not printable ASCII)."""

    def __init__(self, source: str, value: Any, reason: str) -> None:
        # The token itself never goes into a message: it is a secret.
        InvalidInputError.__init__(self, source, "<hidden>" if isinstance(value, str) else value, reason)
        self.source = source


class ApiTokenFileError(DaemonError):
    """Raised when the token file cannot be read or written, or other users could read it."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"API token file {path}: {reason}")
        self.path = str(path)
        self.reason = reason


class ApiBindError(DaemonError):
    """Raised when the API cannot listen on its address (in use, not local, not allowed)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"the API cannot listen on {host}:{port}: {reason}")
        self.host = host
        self.port = port
        self.reason = reason

"""The journal's exclusive lock: a lock file held with ``flock`` for the daemon's lifetime.

The operating system releases it when the process ends, however it ends (``kill -9`` too), so a
crashed daemon never leaves a stale lock, and a second daemon on the same journal is refused at
once. Readers (``twap-engine journal show``) take no lock: WAL lets them read while it writes.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from daemon.errors import JournalLockedError

__all__ = ["JournalLock"]


class JournalLock:
    """Holds ``<journal>.lock``; ``release()`` lets it go."""

    def __init__(self, journal_path: Path) -> None:
        self._path = journal_path.with_name(journal_path.name + ".lock")
        descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(descriptor, 64).decode(errors="replace").strip() or "another process"
            os.close(descriptor)
            raise JournalLockedError(
                journal_path, f"locked by a running daemon (pid {holder}); two daemons must not share one"
            ) from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, str(os.getpid()).encode())
        self._descriptor: int | None = descriptor

    def __repr__(self) -> str:
        return f"<JournalLock {self._path} held={self._descriptor is not None}>"

    def release(self) -> None:
        """Let the lock go (idempotent)."""
        if self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)
            os.close(self._descriptor)
            self._descriptor = None

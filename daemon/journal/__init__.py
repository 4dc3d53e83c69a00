"""The write-ahead journal: one SQLite file in WAL mode, with a lock file beside it.

``schema`` holds the versioned schema and its migrations, ``lock`` the exclusive lock (two
daemons never run on one journal), ``store`` the ``Journal`` that writes (each write its own
committed transaction, timed), ``queries`` its reads and ``records`` the frozen rows they give
back. May import ``engine``, ``daemon.errors``, ``daemon.views`` and ``daemon.measures``; nothing
else of the daemon.
"""

from __future__ import annotations

from daemon.journal.records import NEVER_SENT, ChildRow, FillRow, JournalSummary, ParentRow, RunRow
from daemon.journal.schema import SCHEMA_VERSION
from daemon.journal.store import Journal

__all__ = [
    "NEVER_SENT",
    "SCHEMA_VERSION",
    "ChildRow",
    "FillRow",
    "Journal",
    "JournalSummary",
    "ParentRow",
    "RunRow",
]

"""The journal's schema: numbered migrations, applied in order, the version in ``user_version``.

A journal whose version is above ``SCHEMA_VERSION`` was written by a newer daemon: it is refused
and left untouched. Migrations only ever add; each runs in one transaction with its version bump.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from daemon.errors import JournalError, JournalSchemaTooNewError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "schema_version"]

# Quantities and prices are TEXT (exact decimals); times are Unix seconds.
_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    run INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at REAL NOT NULL,
    prefix TEXT NOT NULL,
    venue TEXT NOT NULL,
    account TEXT NOT NULL
);
CREATE TABLE parents (
    parent_id TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    created_at REAL NOT NULL,
    deadline_at REAL NOT NULL,
    state TEXT NOT NULL,
    report TEXT,
    note TEXT,
    venue TEXT NOT NULL,
    account TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE segments (
    segment_id TEXT PRIMARY KEY,
    parent_id TEXT NOT NULL REFERENCES parents (parent_id),
    quantity TEXT NOT NULL,
    run INTEGER NOT NULL,
    started_at REAL NOT NULL
);
CREATE TABLE children (
    client_order_id TEXT PRIMARY KEY,
    segment_id TEXT,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    quantity TEXT NOT NULL,
    limit_price TEXT,
    status TEXT NOT NULL,
    venue_order_id TEXT,
    filled TEXT NOT NULL DEFAULT '0',
    final_filled TEXT,
    reason TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE fills (
    trade_id TEXT PRIMARY KEY,
    client_order_id TEXT NOT NULL,
    quantity TEXT NOT NULL,
    price TEXT NOT NULL,
    fee TEXT NOT NULL,
    is_maker INTEGER NOT NULL,
    venue_time REAL NOT NULL,
    recorded_at REAL NOT NULL
);
CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    result_id TEXT NOT NULL,
    result TEXT
);
"""

# Look-ups recovery and the service make on every start and every fill.
_V2 = """
CREATE INDEX children_by_segment ON children (segment_id);
CREATE INDEX children_open ON children (status)
    WHERE status NOT IN ('filled', 'cancelled', 'rejected', 'expired', 'not_sent');
CREATE INDEX fills_by_child ON fills (client_order_id);
CREATE INDEX segments_by_parent ON segments (parent_id);
CREATE INDEX parents_by_state ON parents (state);
"""

# Every index on children and fills is paid for on each write of the hot path (it doubled a
# write's time); the reads they served run at start and in ``journal show`` only.
_V3 = """
DROP INDEX children_by_segment;
DROP INDEX children_open;
DROP INDEX fills_by_child;
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3)
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(connection: sqlite3.Connection) -> int:
    """The journal's schema version (0 for a new file)."""
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def migrate(connection: sqlite3.Connection, path: Path, *, target: int = SCHEMA_VERSION) -> int:
    """Bring the journal up to ``target``; refuse one written by a newer schema. Returns the
    version found before migrating."""
    found = schema_version(connection)
    if found > SCHEMA_VERSION:
        raise JournalSchemaTooNewError(path, found, SCHEMA_VERSION)
    for version in range(found + 1, target + 1):
        try:
            connection.execute("BEGIN IMMEDIATE")
            for statement in MIGRATIONS[version - 1].split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version}")
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            connection.execute("ROLLBACK")
            raise JournalError(path, f"migration to schema {version} failed: {error}") from error
    return found

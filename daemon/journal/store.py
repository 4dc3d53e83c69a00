"""``Journal``: the daemon's write-ahead record of parents, children, fills and idempotency keys.

Every write is its own committed transaction before the call returns: with ``synchronous=normal``
a commit survives the process's crash (``kill -9``), with ``full`` the machine's too. Fills are
unique by the venue's trade id: a fill journaled twice is kept once. The journal records the venue
and account of each run and parent, so recovery never reconciles against a venue it did not trade
on. Opening takes the exclusive lock, migrates the schema and records a new run, whose ``prefix``
starts every id the run makes (ids are never reissued).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from daemon.errors import JournalError, JournalSchemaTooNewError
from daemon.journal.lock import JournalLock
from daemon.journal.queries import (
    read_children,
    read_fills,
    read_idempotency,
    read_meta,
    read_parents,
    read_summary,
)
from daemon.journal.records import ChildRow, FillRow, JournalSummary, ParentRow, RunRow
from daemon.journal.schema import SCHEMA_VERSION, migrate, schema_version
from daemon.measures import LatencyRecorder
from daemon.views import TwapRequest
from engine import Order, OrderFilled

__all__ = ["Journal"]

ZERO = Decimal(0)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ENDED = ("filled", "cancelled", "rejected", "expired")
_SYNCHRONOUS = ("full", "normal")


def _base62(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 62)
        digits = _ALPHABET[digit] + digits
        if number == 0:
            return digits


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    try:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        connection.execute("PRAGMA busy_timeout = 5000")
    except sqlite3.Error as error:
        raise JournalError(path, f"cannot open: {error}") from error
    return connection


class Journal:
    """An open journal; use ``Journal.open(...)`` and ``close()`` (or ``with``)."""

    def __init__(self, path: Path, connection: sqlite3.Connection, lock: JournalLock | None) -> None:
        self._path = path
        self._db = connection
        self._lock = lock
        self.latency = LatencyRecorder()
        self.venue: str | None = None
        self.account: str | None = None
        self.run: RunRow | None = None

    @classmethod
    def open(
        cls, path: Path | str, *, venue: str, account: str, synchronous: str = "normal"
    ) -> Journal:
        """Lock, migrate and open the journal at ``path`` for a run against ``venue``/``account``.

        Raises ``JournalLockedError`` if another daemon holds it, ``JournalSchemaTooNewError`` if a
        newer daemon wrote it; in both cases nothing is changed.
        """
        if synchronous not in _SYNCHRONOUS:
            raise ValueError(f"synchronous={synchronous!r}: expected one of {', '.join(_SYNCHRONOUS)}")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = JournalLock(path)
        try:
            connection = _connect(path, synchronous)
            try:
                migrate(connection, path)
            except BaseException:
                connection.close()
                raise
        except BaseException:
            lock.release()
            raise
        journal = cls(path, connection, lock)
        journal._start_run(venue, account)
        return journal

    @classmethod
    def open_for_reading(cls, path: Path | str) -> Journal:
        """Open an existing journal to read it, without the lock (a daemon may be writing it)."""
        path = Path(path)
        if not path.exists():
            raise JournalError(path, "no journal here")
        connection = _connect(path, "normal")
        found = schema_version(connection)
        if found > SCHEMA_VERSION:
            connection.close()
            raise JournalSchemaTooNewError(path, found, SCHEMA_VERSION)
        journal = cls(path, connection, None)
        journal.venue = read_meta(connection, "venue")
        journal.account = read_meta(connection, "account")
        return journal

    def __repr__(self) -> str:
        return f"<Journal {self._path} run={None if self.run is None else self.run.run}>"

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def path(self) -> Path:
        """The journal's file."""
        return self._path

    def close(self) -> None:
        """Flush (checkpoint the WAL), close the file and release the lock."""
        try:
            if self._lock is not None:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            self._db.close()
            if self._lock is not None:
                self._lock.release()
                self._lock = None

    # --- writes ----------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        started = time.perf_counter()
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as error:
            raise JournalError(self._path, f"write failed: {error}") from error
        self.latency.observe(time.perf_counter() - started)

    def _start_run(self, venue: str, account: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('venue', ?)", (venue,))
            db.execute("INSERT OR IGNORE INTO meta VALUES ('account', ?)", (account,))
            cursor = db.execute(
                "INSERT INTO runs (started_at, prefix, venue, account) VALUES (?, '', ?, ?)",
                (time.time(), venue, account),
            )
            run = int(cursor.lastrowid or 0)
            prefix = _base62(run)
            if len(prefix) > 6:  # pragma: no cover - needs 62**6 runs
                raise JournalError(self._path, "run counter exhausted")
            db.execute("UPDATE runs SET prefix = ? WHERE run = ?", (prefix, run))
        self.venue = read_meta(self._db, "venue")
        self.account = read_meta(self._db, "account")
        self.run = RunRow(run=run, started_at=time.time(), prefix=prefix, venue=venue, account=account)

    def record_parent(
        self,
        parent_id: str,
        request: TwapRequest,
        *,
        created_at: float,
        deadline_at: float,
        idempotency: tuple[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """A new parent (and its idempotency key), before it is acknowledged to the caller."""
        assert self.run is not None
        with self._transaction() as db:
            db.execute(
                "INSERT INTO parents VALUES (?, ?, ?, ?, 'pending', NULL, NULL, ?, ?, ?)",
                (
                    parent_id,
                    json.dumps(request.to_dict()),
                    created_at,
                    deadline_at,
                    self.run.venue,
                    self.run.account,
                    time.time(),
                ),
            )
            if idempotency is not None:
                key, body = idempotency
                db.execute(
                    "INSERT INTO idempotency VALUES (?, 'twap', ?, ?, NULL)",
                    (key, json.dumps(body, sort_keys=True), parent_id),
                )

    def delete_parent(self, parent_id: str) -> None:
        """Forget a parent that was refused before anything was sent."""
        with self._transaction() as db:
            db.execute("DELETE FROM idempotency WHERE result_id = ?", (parent_id,))
            db.execute("DELETE FROM segments WHERE parent_id = ?", (parent_id,))
            db.execute("DELETE FROM parents WHERE parent_id = ?", (parent_id,))

    def record_segment(self, segment_id: str, parent_id: str, quantity: Decimal) -> None:
        """An engine parent now works ``quantity`` of the parent (before its first child leaves)."""
        assert self.run is not None
        with self._transaction() as db:
            db.execute(
                "INSERT INTO segments VALUES (?, ?, ?, ?, ?)",
                (segment_id, parent_id, str(quantity), self.run.run, time.time()),
            )
            db.execute(
                "UPDATE parents SET state = 'working', updated_at = ?"
                " WHERE parent_id = ? AND state = 'pending'",
                (time.time(), parent_id),
            )

    def record_parent_state(
        self, parent_id: str, state: str, *, report: Mapping[str, Any] | None = None, note: str | None = None
    ) -> None:
        """The parent's state (a final one with its report)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE parents SET state = ?, report = COALESCE(?, report), note = COALESCE(?, note),"
                " updated_at = ? WHERE parent_id = ?",
                (state, None if report is None else json.dumps(report), note, time.time(), parent_id),
            )

    def record_rebalance(self, key: str, body: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        """A rebalance's idempotency key with its result."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO idempotency VALUES (?, 'rebalance', ?, ?, ?)",
                (key, json.dumps(body, sort_keys=True), result["rebalance_id"], json.dumps(result)),
            )

    def record_child(self, order: Order) -> None:
        """A child order, before its request leaves (a retry of the same order changes nothing)."""
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO children (client_order_id, segment_id, symbol, side, quantity,"
                " limit_price, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'sending', ?, ?)",
                (
                    order.client_order_id,
                    order.parent_id,
                    order.symbol,
                    order.side.value,
                    str(order.quantity),
                    None if order.limit_price is None else str(order.limit_price),
                    now,
                    now,
                ),
            )

    def record_ack(self, client_order_id: str, venue_order_id: str) -> None:
        """The venue holds the child."""
        with self._transaction() as db:
            db.execute(
                "UPDATE children SET venue_order_id = ?, updated_at = ?,"
                " status = CASE WHEN status IN ('sending', 'not_sent') THEN 'acked' ELSE status END,"
                " final_filled = CASE WHEN status = 'not_sent' THEN NULL ELSE final_filled END"
                " WHERE client_order_id = ?",
                (venue_order_id, time.time(), client_order_id),
            )

    def record_cancel_requested(self, client_order_id: str) -> None:
        """A cancel of the child is about to leave."""
        with self._transaction() as db:
            db.execute(
                "UPDATE children SET status = 'cancel_requested', updated_at = ?"
                " WHERE client_order_id = ? AND status IN ('sending', 'acked')",
                (time.time(), client_order_id),
            )

    def record_not_sent(self, client_order_id: str, reason: str) -> None:
        """The venue does not know the child: it never left (a later answer may still correct it)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE children SET status = 'not_sent', final_filled = '0', reason = ?, updated_at = ?"
                " WHERE client_order_id = ? AND status NOT IN ('filled', 'cancelled', 'rejected', 'expired')",
                (reason, time.time(), client_order_id),
            )

    def record_final(self, client_order_id: str, status: str, filled_quantity: object, reason: str) -> None:
        """The child ended with ``filled_quantity`` filled in all; the first end recorded stays."""
        with self._transaction() as db:
            db.execute(
                "UPDATE children SET status = ?, final_filled = ?, reason = ?, updated_at = ?"
                " WHERE client_order_id = ? AND status NOT IN ('filled', 'cancelled', 'rejected', 'expired')",
                (status, str(filled_quantity), reason, time.time(), client_order_id),
            )

    def record_fill(self, fill: OrderFilled) -> bool:
        """One fill, by trade id: False (and nothing written) if the trade id is already here."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO fills VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    fill.trade_id,
                    fill.client_order_id,
                    str(fill.quantity),
                    str(fill.price),
                    str(fill.fee),
                    int(fill.is_maker),
                    fill.timestamp,
                    time.time(),
                ),
            )
            if cursor.rowcount != 1:
                return False
            row = db.execute(
                "SELECT filled, quantity, status FROM children WHERE client_order_id = ?",
                (fill.client_order_id,),
            ).fetchone()
            if row is not None:
                filled = Decimal(row[0]) + fill.quantity
                # A child taken for never sent that fills did reach the venue: open again until it ends.
                status = "acked" if row[2] == "not_sent" else row[2]
                if filled >= Decimal(row[1]) and status not in _ENDED:
                    status = "filled"
                db.execute(
                    "UPDATE children SET filled = ?, status = ?, updated_at = ?,"
                    " final_filled = CASE WHEN status = 'not_sent' THEN NULL ELSE final_filled END"
                    " WHERE client_order_id = ?",
                    (str(filled), status, time.time(), fill.client_order_id),
                )
        return True

    # --- reads -----------------------------------------------------------------------------------

    def idempotency(self, key: str) -> tuple[str, dict[str, Any], str, dict[str, Any] | None] | None:
        """(kind, body, result id, result) recorded for ``key``, if any."""
        row = self._db.execute(
            "SELECT kind, body, result_id, result FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        return row[0], json.loads(row[1]), row[2], None if row[3] is None else json.loads(row[3])

    def idempotency_keys(self) -> list[tuple[str, str, dict[str, Any], str, dict[str, Any] | None]]:
        """Every (key, kind, body, result id, result)."""
        return read_idempotency(self._db)

    def parents(self, *, open_only: bool = False) -> list[ParentRow]:
        """Parents (oldest first), each with the sum of its journaled fills."""
        return read_parents(self._db, open_only=open_only)

    def children(self, parent_id: str | None = None, *, unsettled_only: bool = False) -> list[ChildRow]:
        """Children (of one parent, or all), in journal order; ``unsettled_only`` keeps those whose
        end or fills the journal does not fully know."""
        return read_children(self._db, parent_id, unsettled_only=unsettled_only)

    def fills(self, client_order_id: str | None = None) -> list[FillRow]:
        """Fills (of one child, or all), in journal order."""
        return read_fills(self._db, client_order_id)

    def summary(self) -> JournalSummary:
        """Counts of what the journal holds."""
        return read_summary(self._db, self._path)

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
        journal.venue = journal._meta("venue")
        journal.account = journal._meta("account")
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
        self.venue = self._meta("venue")
        self.account = self._meta("account")
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

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

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
        rows = self._db.execute("SELECT key, kind, body, result_id, result FROM idempotency").fetchall()
        return [
            (r[0], r[1], json.loads(r[2]), r[3], None if r[4] is None else json.loads(r[4])) for r in rows
        ]

    def parents(self, *, open_only: bool = False) -> list[ParentRow]:
        """Parents (oldest first), each with the sum of its journaled fills."""
        sums: dict[str, tuple[Decimal, Decimal]] = {}
        for parent_id, quantity, price in self._db.execute(
            "SELECT s.parent_id, f.quantity, f.price FROM fills f"
            " JOIN children c ON c.client_order_id = f.client_order_id"
            " JOIN segments s ON s.segment_id = c.segment_id"
        ):
            filled, notional = sums.get(parent_id, (ZERO, ZERO))
            sums[parent_id] = (filled + Decimal(quantity), notional + Decimal(quantity) * Decimal(price))
        query = "SELECT * FROM parents"
        if open_only:
            query += " WHERE state IN ('pending', 'working', 'completing', 'cancelling')"
        rows = []
        for row in self._db.execute(query + " ORDER BY created_at, parent_id"):
            filled, notional = sums.get(row[0], (ZERO, ZERO))
            rows.append(
                ParentRow(
                    parent_id=row[0],
                    request=TwapRequest.from_dict(json.loads(row[1])),
                    created_at=row[2],
                    deadline_at=row[3],
                    state=row[4],
                    report=None if row[5] is None else json.loads(row[5]),
                    note=row[6],
                    venue=row[7],
                    account=row[8],
                    filled=filled,
                    notional=notional,
                )
            )
        return rows

    def children(self, parent_id: str | None = None, *, unsettled_only: bool = False) -> list[ChildRow]:
        """Children (of one parent, or all), in journal order; ``unsettled_only`` keeps those whose
        end or fills the journal does not fully know."""
        query = (
            "SELECT c.client_order_id, c.segment_id, s.parent_id, c.symbol, c.side, c.quantity, c.status,"
            " c.filled, c.final_filled FROM children c LEFT JOIN segments s ON s.segment_id = c.segment_id"
        )
        arguments: tuple[Any, ...] = ()
        if parent_id is not None:
            query += " WHERE s.parent_id = ?"
            arguments = (parent_id,)
        rows = [
            ChildRow(
                client_order_id=r[0],
                segment_id=r[1],
                parent_id=r[2],
                symbol=r[3],
                side=r[4],
                quantity=Decimal(r[5]),
                status=r[6],
                filled=Decimal(r[7]),
                final_filled=None if r[8] is None else Decimal(r[8]),
            )
            for r in self._db.execute(query + " ORDER BY c.rowid", arguments)
        ]
        return [row for row in rows if not row.is_settled] if unsettled_only else rows

    def fills(self, client_order_id: str | None = None) -> list[FillRow]:
        """Fills (of one child, or all), in journal order."""
        query = "SELECT trade_id, client_order_id, quantity, price, fee FROM fills"
        arguments: tuple[Any, ...] = ()
        if client_order_id is not None:
            query += " WHERE client_order_id = ?"
            arguments = (client_order_id,)
        return [
            FillRow(
                trade_id=r[0],
                client_order_id=r[1],
                quantity=Decimal(r[2]),
                price=Decimal(r[3]),
                fee=Decimal(r[4]),
            )
            for r in self._db.execute(query + " ORDER BY rowid", arguments)
        ]

    def summary(self) -> JournalSummary:
        """Counts of what the journal holds."""
        runs = tuple(
            RunRow(run=r[0], started_at=r[1], prefix=r[2], venue=r[3], account=r[4])
            for r in self._db.execute("SELECT run, started_at, prefix, venue, account FROM runs ORDER BY run")
        )
        parents = dict(self._db.execute("SELECT state, COUNT(*) FROM parents GROUP BY state").fetchall())
        children = dict(self._db.execute("SELECT status, COUNT(*) FROM children GROUP BY status").fetchall())
        fills = int(self._db.execute("SELECT COUNT(*) FROM fills").fetchone()[0])
        return JournalSummary(
            path=str(self._path),
            schema_version=schema_version(self._db),
            venue=self._meta("venue"),
            account=self._meta("account"),
            runs=runs,
            parents_by_state=parents,
            children_by_status=children,
            fills=fills,
        )


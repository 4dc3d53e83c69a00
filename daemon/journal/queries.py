"""The journal's reads: parents with their fills summed, children, fills, idempotency keys, counts.

Plain functions over an open connection; ``Journal`` answers through them.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from daemon.journal.records import ChildRow, FillRow, JournalSummary, ParentRow, RunRow
from daemon.journal.schema import schema_version
from daemon.views import TwapRequest

__all__ = ["read_children", "read_fills", "read_idempotency", "read_meta", "read_parents", "read_summary"]

ZERO = Decimal(0)
OPEN_STATES = "('pending', 'working', 'completing', 'cancelling')"


def read_meta(db: sqlite3.Connection, key: str) -> str | None:
    """One ``meta`` value (the journal's venue, its account)."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def read_idempotency(
    db: sqlite3.Connection,
) -> list[tuple[str, str, dict[str, Any], str, dict[str, Any] | None]]:
    """Every (key, kind, body, result id, result)."""
    rows = db.execute("SELECT key, kind, body, result_id, result FROM idempotency").fetchall()
    return [(r[0], r[1], json.loads(r[2]), r[3], None if r[4] is None else json.loads(r[4])) for r in rows]


def read_parents(db: sqlite3.Connection, *, open_only: bool) -> list[ParentRow]:
    """Parents (oldest first), each with what its children filled.

    A child's fill is the larger of its journaled fills and what the venue said had filled when it
    ended: a venue may report an order's end without itemising its trades (a look-up of an order a
    previous run sent), and the rest of the parent must never be worked twice. The notional is
    the journaled fills' only.
    """
    sums: dict[str, tuple[Decimal, Decimal]] = {}
    for parent_id, filled_text, final_text in db.execute(
        "SELECT s.parent_id, c.filled, c.final_filled FROM children c"
        " JOIN segments s ON s.segment_id = c.segment_id"
    ):
        child = max(Decimal(filled_text), Decimal(final_text or 0))
        filled, notional = sums.get(parent_id, (ZERO, ZERO))
        sums[parent_id] = (filled + child, notional)
    for parent_id, quantity, price in db.execute(
        "SELECT s.parent_id, f.quantity, f.price FROM fills f"
        " JOIN children c ON c.client_order_id = f.client_order_id"
        " JOIN segments s ON s.segment_id = c.segment_id"
    ):
        filled, notional = sums[parent_id]
        sums[parent_id] = (filled, notional + Decimal(quantity) * Decimal(price))
    query = "SELECT * FROM parents"
    if open_only:
        query += f" WHERE state IN {OPEN_STATES}"
    rows = []
    for row in db.execute(query + " ORDER BY created_at, parent_id"):
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


def read_children(db: sqlite3.Connection, parent_id: str | None, *, unsettled_only: bool) -> list[ChildRow]:
    """Children (of one parent, or all), in journal order."""
    query = (
        "SELECT c.client_order_id, c.segment_id, s.parent_id, c.symbol, c.side, c.quantity, c.status,"
        " c.filled, c.final_filled, c.reason"
        " FROM children c LEFT JOIN segments s ON s.segment_id = c.segment_id"
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
            reason=r[9],
        )
        for r in db.execute(query + " ORDER BY c.rowid", arguments)
    ]
    return [row for row in rows if not row.is_settled] if unsettled_only else rows


def read_fills(db: sqlite3.Connection, client_order_id: str | None) -> list[FillRow]:
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
        for r in db.execute(query + " ORDER BY rowid", arguments)
    ]


def read_summary(db: sqlite3.Connection, path: Path) -> JournalSummary:
    """Counts of what the journal holds."""
    runs = tuple(
        RunRow(run=r[0], started_at=r[1], prefix=r[2], venue=r[3], account=r[4])
        for r in db.execute("SELECT run, started_at, prefix, venue, account FROM runs ORDER BY run")
    )
    return JournalSummary(
        path=str(path),
        schema_version=schema_version(db),
        venue=read_meta(db, "venue"),
        account=read_meta(db, "account"),
        runs=runs,
        parents_by_state=dict(db.execute("SELECT state, COUNT(*) FROM parents GROUP BY state").fetchall()),
        children_by_status=dict(
            db.execute("SELECT status, COUNT(*) FROM children GROUP BY status").fetchall()
        ),
        fills=int(db.execute("SELECT COUNT(*) FROM fills").fetchone()[0]),
    )

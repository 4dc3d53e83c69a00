"""The journal: schema and migrations, refusal of a newer schema, the lock, fills once by trade id."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.errors import JournalLockedError, JournalSchemaTooNewError
from daemon.journal import NEVER_SENT, SCHEMA_VERSION, Journal
from daemon.journal.schema import migrate
from daemon.views import TwapRequest
from engine import Order, OrderFilled, OrderSide


def _open(path: Path, venue: str = "venue-a") -> Journal:
    return Journal.open(path, venue=venue, account="acct", synchronous="normal")


def _fill(trade_id: str, client_order_id: str, quantity: int, price: str = "10") -> OrderFilled:
    return OrderFilled(
        client_order_id=client_order_id,
        symbol="AAPL",
        timestamp=1.0,
        trade_id=trade_id,
        side=OrderSide.BUY,
        quantity=Decimal(quantity),
        price=Decimal(price),
        fee=Decimal(0),
    )


def _request(quantity: int = 100) -> TwapRequest:
    return TwapRequest(symbol="AAPL", side="buy", quantity=quantity, num_slices=4, interval_seconds=1)


def test_a_new_journal_has_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    with _open(tmp_path / "j.sqlite3") as journal:
        assert journal.summary().schema_version == SCHEMA_VERSION
    connection = sqlite3.connect(tmp_path / "j.sqlite3")
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_each_start_is_a_new_run_with_a_new_id_prefix(tmp_path: Path) -> None:
    prefixes = []
    for _ in range(3):
        with _open(tmp_path / "j.sqlite3") as journal:
            assert journal.run is not None
            prefixes.append(journal.run.prefix)
    assert len(set(prefixes)) == 3
    with Journal.open_for_reading(tmp_path / "j.sqlite3") as journal:
        assert [run.prefix for run in journal.summary().runs] == prefixes


def test_an_older_journal_is_migrated_and_keeps_what_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    migrate(connection, path, target=1)
    connection.execute("INSERT INTO meta VALUES ('venue', 'venue-a'), ('account', 'acct')")
    connection.execute(
        "INSERT INTO fills VALUES ('t1', 'c1', '5', '10', '0', 0, 1.0, 1.0)",
    )
    connection.close()
    with _open(path) as journal:
        summary = journal.summary()
        assert summary.schema_version == SCHEMA_VERSION > 1
        assert summary.fills == 1
        assert journal.fills()[0].trade_id == "t1"


def test_a_journal_written_by_a_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with _open(path):
        pass
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    before = path.read_bytes()
    with pytest.raises(JournalSchemaTooNewError) as caught:
        _open(path)
    assert (caught.value.found, caught.value.known) == (SCHEMA_VERSION + 1, SCHEMA_VERSION)
    with pytest.raises(JournalSchemaTooNewError):
        Journal.open_for_reading(path)
    assert path.read_bytes() == before
    _open(path.with_name("other.sqlite3")).close()  # the lock was let go: nothing is held


def test_two_daemons_cannot_hold_one_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with _open(path):
        with pytest.raises(JournalLockedError, match="locked by a running daemon"):
            _open(path)
        with Journal.open_for_reading(path) as reader:  # reading while it runs is fine
            assert reader.summary().runs
    with _open(path) as journal:  # released on close
        assert journal.run is not None


def test_a_killed_daemon_leaves_no_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    script = (
        "import sys, time\n"
        "from daemon.journal import Journal\n"
        f"j = Journal.open({str(path)!r}, venue='v', account='a')\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(JournalLockedError, match=f"pid {holder.pid}"):
            _open(path)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
    with _open(path) as journal:
        assert journal.run is not None
        assert journal.run.run == 2


def test_a_fill_journaled_twice_is_kept_once(tmp_path: Path) -> None:
    with _open(tmp_path / "j.sqlite3") as journal:
        journal.record_child(Order("AAPL", "buy", 10, client_order_id="c1"))
        assert journal.record_fill(_fill("t1", "c1", 4)) is True
        assert journal.record_fill(_fill("t1", "c1", 4)) is False
        assert journal.record_fill(_fill("t2", "c1", 6)) is True
        [child] = journal.children()
        assert child.filled == 10
        assert child.status == "filled"
        assert child.is_settled


def test_a_child_is_settled_only_once_its_end_and_every_fill_are_known(tmp_path: Path) -> None:
    with _open(tmp_path / "j.sqlite3") as journal:
        journal.record_child(Order("AAPL", "buy", 10, client_order_id="c1"))
        journal.record_ack("c1", "v1")
        journal.record_final("c1", "cancelled", Decimal(3), "cancelled")
        [child] = journal.children(unsettled_only=True)
        assert (child.status, child.final_filled, child.filled) == ("cancelled", Decimal(3), Decimal(0))
        journal.record_fill(_fill("t1", "c1", 3))
        assert journal.children(unsettled_only=True) == []


def test_parents_sum_the_fills_of_every_segment(tmp_path: Path) -> None:
    with _open(tmp_path / "j.sqlite3") as journal:
        journal.record_parent(
            "P1", _request(), created_at=1.0, deadline_at=5.0, idempotency=("key", {"a": 1})
        )
        for segment, child in (("S1", "c1"), ("S2", "c2")):
            journal.record_segment(segment, "P1", Decimal(100))
            journal.record_child(Order("AAPL", "buy", 50, client_order_id=child, parent_id=segment))
        journal.record_fill(_fill("t1", "c1", 30, "10"))
        journal.record_fill(_fill("t2", "c2", 20, "20"))
        [row] = journal.parents(open_only=True)
        assert (row.state, row.filled, row.notional) == ("working", Decimal(50), Decimal(700))
        assert journal.idempotency("key") == ("twap", {"a": 1}, "P1", None)
        journal.record_parent_state("P1", "completed", report={"x": "1"})
        assert journal.parents(open_only=True) == []
        assert journal.parents()[0].report == {"x": "1"}


@settings(deadline=None, max_examples=60)  # each example opens a journal on disk
@given(
    st.lists(
        st.tuples(st.sampled_from(["c1", "c2"]), st.integers(0, 7), st.integers(1, 5)),
        min_size=1,
        max_size=40,
    )
)
def test_journaled_fills_equal_the_distinct_trades_whatever_repeats(
    deliveries: list[tuple[str, int, int]],
) -> None:
    # (child, trade number, quantity): a trade id repeats with the quantity it first had.
    import tempfile

    with tempfile.TemporaryDirectory() as folder, _open(Path(folder) / "j.sqlite3") as journal:
        for child in ("c1", "c2"):
            journal.record_child(Order("AAPL", "buy", 1000, client_order_id=child))
        first: dict[str, tuple[str, int]] = {}
        for child, number, quantity in deliveries:
            trade_id = f"{child}-t{number}"
            first.setdefault(trade_id, (child, quantity))
            journal.record_fill(_fill(trade_id, child, first[trade_id][1]))
        expected = {child: sum(q for c, q in first.values() if c == child) for child in ("c1", "c2")}
        assert {row.client_order_id: row.filled for row in journal.children()} == expected
        assert sorted(f.trade_id for f in journal.fills()) == sorted(first)


def test_a_child_taken_for_never_sent_that_turns_up_at_the_venue_is_open_again(tmp_path: Path) -> None:
    with _open(tmp_path / "j.sqlite3") as journal:
        for child in ("late-ack", "late-fill"):
            journal.record_child(Order("AAPL", "buy", 10, client_order_id=child))
            journal.record_not_sent(child, NEVER_SENT)
        assert journal.children(unsettled_only=True) == []
        journal.record_ack("late-ack", "v1")
        journal.record_fill(_fill("t1", "late-fill", 4))
        statuses = {child.client_order_id: child.status for child in journal.children(unsettled_only=True)}
        assert statuses == {"late-ack": "acked", "late-fill": "acked"}
        journal.record_final("late-fill", "cancelled", Decimal(4), "cancelled")
        assert [c.client_order_id for c in journal.children(unsettled_only=True)] == ["late-ack"]


def test_a_child_ended_without_itemised_trades_counts_what_the_venue_said_it_filled(tmp_path: Path) -> None:
    # A look-up of an order a previous run sent may give its end and fill without the trades.
    with _open(tmp_path / "j.sqlite3") as journal:
        journal.record_parent("P1", _request(), created_at=1.0, deadline_at=5.0)
        journal.record_segment("S1", "P1", Decimal(100))
        for child in ("c1", "c2"):
            journal.record_child(Order("AAPL", "buy", 10, client_order_id=child, parent_id="S1"))
        journal.record_final("c1", "filled", Decimal(10), "looked up")
        journal.record_fill(_fill("t1", "c2", 4))
        journal.record_final("c2", "cancelled", Decimal(6), "cancelled")  # two trades not seen yet
        assert journal.parents()[0].filled == Decimal(16)
        journal.record_fill(_fill("t2", "c2", 2))
        assert journal.parents()[0].filled == Decimal(16)  # the late trade is not counted twice


def test_a_child_unknown_at_the_venue_during_a_run_is_looked_up_again_next_start(tmp_path: Path) -> None:
    # During a run the venue's "unknown" may precede the request's arrival; after a restart it cannot.
    with _open(tmp_path / "j.sqlite3") as journal:
        journal.record_child(Order("AAPL", "buy", 10, client_order_id="in-flight"))
        journal.record_not_sent("in-flight", "unknown at the venue when looked up")
        assert [c.client_order_id for c in journal.children(unsettled_only=True)] == ["in-flight"]
        journal.record_not_sent("in-flight", NEVER_SENT)
        assert journal.children(unsettled_only=True) == []

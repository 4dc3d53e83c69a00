"""kill -9 at random instants: the daemon in a subprocess, the venue in another, passive TWAPs running.

Each round starts the daemon (which recovers), submits one more parent, lets the parents work for
a random fraction of a second (sends, rests, cancels, re-prices, deadline completions and journal
writes all happen in that window) and kills the daemon with SIGKILL. After the last round the
daemon runs until every parent is final. Then, from the venue's own record and the journal:

- every parent completed, and the venue's fills of its children equal its quantity;
- no client order id was sent twice, and every id the venue received is in the journal;
- the journal's fills equal the venue's, child by child.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from daemon.journal import Journal
from tests.daemon.processes import (
    DaemonProcess,
    VenueProcess,
    running,
    submit_twap,
    wait_until,
    write_config,
)

KILLS = 22
PARENTS_PER_ROUND = 2


def _twap(number: int) -> dict[str, Any]:
    return {
        "symbol": ("AAPL", "MSFT", "GOOGL")[number % 3],
        "side": "buy" if number % 2 == 0 else "sell",
        "quantity": str(40 + 10 * (number % 4)),
        "num_slices": 8,
        "interval_seconds": 0.4,
        "style": "passive",
    }


def test_kill_9_at_random_points_loses_duplicates_and_double_counts_nothing(tmp_path: Path) -> None:
    chooser = random.Random(20261206)
    venue = VenueProcess(tmp_path)
    with running(venue):
        config = write_config(tmp_path, venue.address)
        submitted = 0
        for round_number in range(KILLS):
            daemon = DaemonProcess(tmp_path, config, round_number)
            with running(daemon):
                # A parent may have been cut off while being submitted: the same key again returns it.
                new = submitted + PARENTS_PER_ROUND
                for number in range(max(0, submitted - PARENTS_PER_ROUND), new):
                    submit_twap(daemon, _twap(number), f"parent-{number}")
                submitted = new
                time.sleep(chooser.uniform(0.1, 2.0))  # the kill lands wherever the daemon then is
                daemon.kill()
        final = DaemonProcess(tmp_path, config, KILLS)
        with running(final):
            for number in range(submitted):
                submit_twap(final, _twap(number), f"parent-{number}")

            def all_final() -> bool:
                parents = final.request("GET", "/v1/parents")["parents"]
                return len(parents) == submitted and all(p["is_final"] for p in parents)

            wait_until(all_final, 120, "every parent to be final")
            parents = final.request("GET", "/v1/parents")["parents"]
            assert final.terminate() == 0
        audit = venue.audit()

    assert len(parents) == KILLS * PARENTS_PER_ROUND
    for parent in parents:
        assert parent["state"] == "completed", parent
        assert Decimal(parent["filled"]) == Decimal(parent["quantity"]), parent

    submits: dict[str, int] = audit["submits"]
    assert submits, "the venue received no orders"
    assert max(submits.values()) == 1, "a client order id was sent twice"
    venue_filled = {cid: Decimal(quantity) for cid, quantity in audit["filled"].items()}

    with Journal.open_for_reading(tmp_path / "journal.sqlite3") as journal:
        children = journal.children()
        journal_ids = {child.client_order_id for child in children}
        assert set(submits) <= journal_ids, "the venue holds an order the journal never recorded"
        journal_filled: dict[str, Decimal] = defaultdict(Decimal)
        for fill in journal.fills():
            journal_filled[fill.client_order_id] += fill.quantity
        assert dict(journal_filled) == venue_filled
        assert len(journal.fills()) == audit["fills"]
        by_parent: dict[str, Decimal] = defaultdict(Decimal)
        for child in children:
            if child.parent_id is not None:
                by_parent[child.parent_id] += venue_filled.get(child.client_order_id, Decimal(0))
        for parent in parents:
            assert by_parent[parent["parent_id"]] == Decimal(parent["quantity"]), parent["parent_id"]
        assert len(journal.summary().runs) == KILLS + 1

    # The kills landed in the middle of things: recovery found children resting at the venue.
    recoveries = [
        json.loads(line)
        for log in tmp_path.glob("daemon-*.log")
        for line in log.read_text(encoding="utf-8").splitlines()
        if '"recovery planned"' in line
    ]
    assert len(recoveries) == KILLS + 1
    assert sum(r["cancelled"] for r in recoveries) > 0
    assert sum(r["looked_up"] for r in recoveries) > 0

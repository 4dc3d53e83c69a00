"""kill -9 against the served paper exchange, through the ccxt gateway: the unmodified ccxt client
over HTTP and WebSocket, the exchange in a process of its own (``twap-engine serve-venue``).

Fewer rounds than ``test_crash.py`` (which kills 22 times against the simple paper venue and audits
every submit): here each round kills the daemon while passive parents work, and at the end every
parent has completed, each child's fills in the journal equal the exchange's (looked up by client
order id), and the exchange's fills of each parent's children add up to its quantity.
"""

from __future__ import annotations

import os
import random
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio

from daemon.journal import Journal
from engine import OrderSnapshot, UnknownOrderError
from tests.daemon.processes import (
    VENUE_KEYS,
    DaemonProcess,
    ServedVenueProcess,
    running,
    submit_twap,
    wait_until,
    write_config,
)

KILLS = 6


def _twap(number: int) -> dict[str, Any]:
    return {
        "symbol": ("AAPL", "MSFT", "GOOGL")[number % 3],
        "side": "buy" if number % 2 == 0 else "sell",
        "quantity": str(20 + 10 * (number % 3)),
        "num_slices": 6,
        "interval_seconds": 0.5,
        "style": "passive",
    }


def _venue_snapshots(url: str, client_order_ids: list[str]) -> dict[str, OrderSnapshot | None]:
    from gateways.ccxt import CcxtGateway, CcxtSettings

    async def look_up() -> dict[str, OrderSnapshot | None]:
        environment = {**os.environ, **VENUE_KEYS}
        settings = CcxtSettings.from_environment("binance", base_url=url, environ=environment)
        aliases = {symbol: f"{symbol}/USDT" for symbol in ("AAPL", "MSFT", "GOOGL")}
        found: dict[str, OrderSnapshot | None] = {}
        async with CcxtGateway(settings, aliases=aliases) as gateway:
            for client_order_id in client_order_ids:
                try:
                    found[client_order_id] = await gateway.get_order(client_order_id)
                except UnknownOrderError:
                    found[client_order_id] = None
        return found

    return anyio.run(look_up)


def test_kill_9_against_the_served_exchange_through_ccxt(tmp_path: Path) -> None:
    chooser = random.Random(61206)
    venue = ServedVenueProcess(tmp_path)
    with running(venue):
        config = write_config(tmp_path, venue.url, served=True)
        submitted = 0
        for round_number in range(KILLS):
            daemon = DaemonProcess(tmp_path, config, round_number)
            with running(daemon):
                for number in range(max(0, submitted - 2), submitted + 2):
                    submit_twap(daemon, _twap(number), f"parent-{number}")
                submitted += 2
                time.sleep(chooser.uniform(0.2, 2.0))  # the kill lands wherever the daemon then is
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

        with Journal.open_for_reading(tmp_path / "journal.sqlite3") as journal:
            children = journal.children()
            # What the journal knows each child filled: its itemised fills, or what the exchange
            # said had filled when it ended (a look-up after a restart may not itemise the trades).
            journal_filled = {
                child.client_order_id: max(child.filled, child.final_filled or Decimal(0))
                for child in children
            }
        snapshots = _venue_snapshots(venue.url, [child.client_order_id for child in children])

    assert len(parents) == 2 * KILLS
    for parent in parents:
        assert parent["state"] == "completed", parent
        assert Decimal(parent["filled"]) == Decimal(parent["quantity"]), parent
    by_parent: dict[str, Decimal] = defaultdict(Decimal)
    for child in children:
        snapshot = snapshots[child.client_order_id]
        venue_filled = Decimal(0) if snapshot is None else snapshot.filled_quantity
        assert journal_filled.get(child.client_order_id, Decimal(0)) == venue_filled, child
        if snapshot is not None:
            assert snapshot.status.is_final, child  # nothing left working at the exchange
        if child.parent_id is not None:
            by_parent[child.parent_id] += venue_filled
    for parent in parents:
        assert by_parent[parent["parent_id"]] == Decimal(parent["quantity"]), parent["parent_id"]

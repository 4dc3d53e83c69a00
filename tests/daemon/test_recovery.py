"""Recovery on start, in process, with a venue that outlives the service: children settled by
client order id (never resent), fills folded once, parents resumed, completed, cancelled or held."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio

from daemon.journal import Journal
from daemon.service import TradingService
from daemon.views import ParentView, TwapRequest
from engine import Order
from gateways.simulated import SimulatedVenue


def _request(**changes: Any) -> TwapRequest:
    values: dict[str, Any] = {
        "symbol": "AAPL",
        "side": "buy",
        "quantity": 300,
        "num_slices": 6,
        "interval_seconds": 2,
    }
    return TwapRequest(**{**values, **changes})


def _journal(path: Path, venue: str = "venue-1") -> Journal:
    return Journal.open(path, venue=venue, account="acct", synchronous="normal")


def _service(venue: SimulatedVenue, journal: Journal, venue_id: str = "venue-1") -> TradingService:
    return TradingService(venue, journal=journal, venue=venue_id, account="acct", settle_timeout=20)


async def _wait_final(service: TradingService, parent_id: str) -> ParentView:
    with anyio.fail_after(600):
        while not (view := await service.get_parent(parent_id)).is_final:  # noqa: ASYNC110 - polls the view as a client would
            await anyio.sleep(0.5)
    return view


def _venue_filled(venue: SimulatedVenue, client_order_ids: set[str]) -> Decimal:
    trades = {}
    for event in venue.event_log:
        if getattr(event, "trade_id", None) and event.client_order_id in client_order_ids:
            trades[event.trade_id] = event.quantity  # type: ignore[union-attr]
    return sum(trades.values(), Decimal(0))


def _submits(venue: SimulatedVenue) -> Counter[str | None]:
    return Counter(r.client_order_id for r in venue.request_log if r.kind == "submit")


async def test_a_stopped_parent_resumes_its_rest_and_the_venue_fills_equal_its_quantity(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite3"
    async with SimulatedVenue.demo() as venue:
        with _journal(path) as journal:
            async with _service(venue, journal) as service:
                parent = await service.submit_twap(_request(options={"style": "passive"}))
                await anyio.sleep(5)
            first = journal.parents()[0]
            assert first.state == "working"
            assert first.filled < 300
        with _journal(path) as journal:
            async with _service(venue, journal) as service:
                assert service.recovery is not None
                assert service.recovery.counts() == {"resume": 1}
                final = await _wait_final(service, parent.parent_id)
            assert (final.state, final.filled) == ("completed", Decimal(300))
            children = {child.client_order_id for child in journal.children()}
            assert _venue_filled(venue, children) == 300
            assert sum(fill.quantity for fill in journal.fills()) == 300
            assert journal.children(unsettled_only=True) == []
    assert max(_submits(venue).values()) == 1  # no client order id sent twice


async def test_a_child_journaled_but_never_sent_is_settled_as_never_sent_and_not_resent(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite3"
    async with SimulatedVenue.demo() as venue:
        with _journal(path) as journal:
            journal.record_parent("P1", _request(), created_at=0.0, deadline_at=1e12)
            journal.record_segment("S1", "P1", Decimal(300))
            journal.record_child(Order("AAPL", "buy", 50, client_order_id="lost-in-flight", parent_id="S1"))
        with _journal(path) as journal:
            async with _service(venue, journal) as service:
                assert service.recovery is not None
                assert service.recovery.children_unknown == 1
                final = await _wait_final(service, "P1")
            assert (final.state, final.filled) == ("completed", Decimal(300))
            statuses = {c.client_order_id: c.status for c in journal.children()}
            assert statuses["lost-in-flight"] == "not_sent"
    assert "lost-in-flight" not in _submits(venue)


async def test_a_child_sent_but_never_acknowledged_is_found_cancelled_and_its_fills_folded_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite3"
    async with SimulatedVenue.demo() as venue:
        with _journal(path) as journal:
            journal.record_parent("P1", _request(), created_at=0.0, deadline_at=1e12)
            journal.record_segment("S1", "P1", Decimal(300))
            resting = Order(
                "AAPL", "buy", 40, "limit", limit_price=100, client_order_id="resting", parent_id="S1"
            )
            taken = Order("AAPL", "buy", 60, client_order_id="taken", parent_id="S1")
            for order in (resting, taken):
                journal.record_child(order)
                await venue.submit_order(order)  # the daemon died before it heard the answer
            await anyio.sleep(1)
        with _journal(path) as journal:
            async with _service(venue, journal) as service:
                report = service.recovery
                assert report is not None
                assert report.children_cancelled == 1
                [plan] = report.parents
                assert plan.remaining == 240  # 300 - the 60 that filled at the venue
                final = await _wait_final(service, "P1")
            assert (final.state, final.filled) == ("completed", Decimal(300))
            statuses = {c.client_order_id: c.status for c in journal.children()}
            assert statuses["resting"] == "cancelled"
            assert statuses["taken"] == "filled"
            assert sum(f.quantity for f in journal.fills()) == 300
    assert max(_submits(venue).values()) == 1


async def test_parents_of_another_venue_are_held_for_the_operator_and_nothing_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    async with SimulatedVenue.demo() as venue:
        with _journal(path, venue="venue-old") as journal:
            journal.record_parent("P1", _request(), created_at=0.0, deadline_at=1e12)
            journal.record_segment("S1", "P1", Decimal(300))
            journal.record_child(Order("AAPL", "buy", 50, client_order_id="old-child", parent_id="S1"))
        with _journal(path, venue="venue-new") as journal:
            async with _service(venue, journal, "venue-new") as service:
                held = await service.get_parent("P1")
                assert held.state == "held"
                assert held.is_final
                assert held.note is not None
                assert "venue-old" in held.note
                assert (await service.cancel_parent("P1")).state == "held"
            assert journal.parents(open_only=True)[0].state == "working"  # still open, for its own venue
    assert venue.request_log == () or not [r for r in venue.request_log if r.client_order_id == "old-child"]


async def test_the_restart_policy_completes_or_cancels_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    async with SimulatedVenue.demo() as venue:
        with _journal(path) as journal:
            for parent_id, policy in (
                ("P-complete", "complete"),
                ("P-cancel", "cancel"),
                ("P-late", "resume"),
            ):
                deadline = 0.0 if parent_id == "P-late" else 1e12
                journal.record_parent(
                    parent_id, _request(on_restart=policy), created_at=0.0, deadline_at=deadline
                )
            journal.record_parent_state("P-cancel", "working")
        with _journal(path) as journal:
            async with _service(venue, journal) as service:
                assert service.recovery is not None
                assert service.recovery.counts() == {"complete": 2, "cancel": 1}
                completed = await _wait_final(service, "P-complete")
                late = await _wait_final(service, "P-late")
                cancelled = await service.get_parent("P-cancel")
            assert (completed.state, completed.filled) == ("completed", Decimal(300))
            assert (late.state, late.filled) == ("completed", Decimal(300))
            assert (cancelled.state, cancelled.filled) == ("cancelled", Decimal(0))
            assert {row.parent_id: row.state for row in journal.parents()}["P-cancel"] == "cancelled"


async def test_a_cancel_asked_before_a_crash_is_not_resumed(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    async with SimulatedVenue.demo() as venue:
        with _journal(path) as journal:
            journal.record_parent("P1", _request(), created_at=0.0, deadline_at=1e12)
            journal.record_parent_state("P1", "cancelling")
        with _journal(path) as journal:
            async with _service(venue, journal) as service:
                assert (await service.get_parent("P1")).state == "cancelled"
    assert not [r for r in venue.request_log if r.kind == "submit"]

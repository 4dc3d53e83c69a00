"""The trading service: parents journaled before they are acknowledged, children before they leave,
idempotency keys, cancels, rebalances and errors that name field and value."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from daemon.errors import IdempotencyKeyReusedError, ServiceClosedError, UnknownParentError
from daemon.journal import Journal
from daemon.service import TradingService
from daemon.views import ParentView, RebalanceRequest, TwapRequest
from engine import InvalidInputError, Order, OrderAck, UnknownSymbolError
from gateways.simulated import SimulatedVenue


def _request(**changes: Any) -> TwapRequest:
    values: dict[str, Any] = {
        "symbol": "AAPL",
        "side": "buy",
        "quantity": 100,
        "num_slices": 4,
        "interval_seconds": 1,
    }
    return TwapRequest(**{**values, **changes})


async def _wait_final(service: TradingService, parent_id: str) -> ParentView:
    with anyio.fail_after(300):
        while not (view := await service.get_parent(parent_id)).is_final:  # noqa: ASYNC110 - polls the view as a client would
            await anyio.sleep(0.5)
    return view


class _SpyGateway:
    """The venue, checking at each submit that the journal already holds the child."""

    def __init__(self, venue: SimulatedVenue, journal_path: Path) -> None:
        self._venue = venue
        self._path = journal_path
        self.checked = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._venue, name)

    async def submit_order(self, order: Order) -> OrderAck:
        with Journal.open_for_reading(self._path) as reader:
            statuses = {child.client_order_id: child.status for child in reader.children()}
        assert statuses.get(order.client_order_id) == "sending"
        self.checked += 1
        return await self._venue.submit_order(order)


async def test_a_parent_is_journaled_before_it_is_acknowledged_and_each_child_before_it_leaves(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite3"
    async with SimulatedVenue.demo() as venue:
        spy: Any = _SpyGateway(venue, path)
        with Journal.open(path, venue="v", account="a", synchronous="normal") as journal:
            async with TradingService(spy, journal=journal, venue="v", account="a") as service:
                parent = await service.submit_twap(_request())
                with Journal.open_for_reading(path) as reader:
                    assert [row.parent_id for row in reader.parents()] == [parent.parent_id]
                final = await _wait_final(service, parent.parent_id)
            assert final.state == "completed"
            assert final.filled == 100
            assert final.report is not None
            assert final.report["filled_quantity"] == "100"
            assert spy.checked == 4
            [row] = journal.parents()
            assert (row.state, row.filled) == ("completed", Decimal(100))
            assert sum(fill.quantity for fill in journal.fills()) == 100


async def test_a_repeated_idempotency_key_returns_the_first_parent_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite3"
    async with SimulatedVenue.demo() as venue:
        with Journal.open(path, venue="v", account="a", synchronous="normal") as journal:
            async with TradingService(venue, journal=journal, venue="v", account="a") as service:
                first = await service.submit_twap(_request(), idempotency_key="k-1")
                again = await service.submit_twap(_request(), idempotency_key="k-1")
                assert again.parent_id == first.parent_id
                with pytest.raises(IdempotencyKeyReusedError) as caught:
                    await service.submit_twap(_request(quantity=5), idempotency_key="k-1")
                assert (caught.value.field, caught.value.value) == ("idempotency_key", "k-1")
                await _wait_final(service, first.parent_id)
        with Journal.open(path, venue="v", account="a", synchronous="normal") as journal:
            async with TradingService(venue, journal=journal, venue="v", account="a") as service:
                after_restart = await service.submit_twap(_request(), idempotency_key="k-1")
                assert after_restart.parent_id == first.parent_id
                assert len(await service.list_parents()) == 1
    submits = Counter(r.client_order_id for r in venue.request_log if r.kind == "submit")
    assert sum(submits.values()) == 4


async def test_bad_requests_name_the_field_and_change_nothing(tmp_path: Path) -> None:
    async with SimulatedVenue.demo() as venue:
        with Journal.open(tmp_path / "j.sqlite3", venue="v", account="a", synchronous="normal") as journal:
            async with TradingService(venue, journal=journal, venue="v", account="a") as service:
                with pytest.raises(UnknownSymbolError):
                    await service.submit_twap(_request(symbol="NOPE"))
                with pytest.raises(InvalidInputError) as quantity:
                    await service.submit_twap(_request(quantity="0.5"))  # below the lot size
                assert quantity.value.field.endswith("quantity")
                with pytest.raises(UnknownParentError) as unknown:
                    await service.get_parent("P-nope")
                assert (unknown.value.field, unknown.value.value) == ("parent_id", "P-nope")
                assert await service.list_parents() == []
            assert journal.parents() == []
    assert not [r for r in venue.request_log if r.kind == "submit"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": -1}, "quantity"),
        ({"quantity": "nan"}, "quantity"),
        ({"side": "hold"}, "side"),
        ({"num_slices": 0}, "num_slices"),
        ({"interval_seconds": 0}, "interval_seconds"),
        ({"options": {"style": "sideways"}}, "style"),
        ({"options": {"colour": "red"}}, "colour"),
        ({"on_restart": "forget"}, "on_restart"),
    ],
)
def test_a_bad_twap_request_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        _request(**changes)
    assert caught.value.field == field


def test_a_request_from_json_refuses_unknown_keys_and_round_trips() -> None:
    request = TwapRequest.from_dict(
        {
            "symbol": "AAPL",
            "side": "sell",
            "quantity": "10",
            "num_slices": 2,
            "interval_seconds": 5,
            "style": "passive",
        }
    )
    assert TwapRequest.from_dict(request.to_dict()) == request
    with pytest.raises(InvalidInputError) as caught:
        TwapRequest.from_dict({"symbol": "AAPL", "side": "buy", "quantity": 1, "qty": 2})
    assert caught.value.field == "qty"


async def test_cancel_stops_a_parent_and_a_stopped_service_refuses_new_ones() -> None:
    async with SimulatedVenue.demo() as venue, TradingService(venue) as service:
        parent = await service.submit_twap(_request(num_slices=20, interval_seconds=10))
        await anyio.sleep(25)
        await service.cancel_parent(parent.parent_id)
        final = await _wait_final(service, parent.parent_id)
        assert final.state == "cancelled"
        assert 0 < final.filled < 100
        service.stop_accepting()
        with pytest.raises(ServiceClosedError):
            await service.submit_twap(_request())


async def test_a_dry_run_rebalance_returns_the_plan_with_reasons_and_sends_nothing() -> None:
    async with SimulatedVenue.demo() as venue, TradingService(venue) as service:
        plan = await service.submit_rebalance(
            RebalanceRequest(target_weights={"AAPL": 0.5, "MSFT": 0.3}, cash=100_000, dry_run=True)
        )
        assert plan.dry_run
        assert plan.parent_ids == ()
        assert {trade.symbol for trade in plan.trades} == {"AAPL", "MSFT"}
        assert all(trade.reason for trade in plan.trades)
        assert await service.list_parents() == []
        executed = await service.submit_rebalance(
            RebalanceRequest(
                target_weights={"AAPL": 0.5, "MSFT": 0.3}, cash=100_000, num_slices=2, interval_seconds=1
            ),
            idempotency_key="r-1",
        )
        assert len(executed.parent_ids) == 2
        repeat = await service.submit_rebalance(
            RebalanceRequest(
                target_weights={"AAPL": 0.5, "MSFT": 0.3}, cash=100_000, num_slices=2, interval_seconds=1
            ),
            idempotency_key="r-1",
        )
        assert repeat == executed
        assert len(await service.list_parents()) == 2


async def test_the_progress_stream_shows_creation_fills_and_the_final_state() -> None:
    async with SimulatedVenue.demo() as venue, TradingService(venue) as service:
        async with service.subscribe() as events:
            parent = await service.submit_twap(_request())
            kinds = []
            async for event in events:
                assert event.parent_id == parent.parent_id
                kinds.append(event.kind)
                if event.kind == "parent_final":
                    assert event.parent is not None
                    assert event.parent.state == "completed"
                    break
        assert kinds[0] == "parent_created"
        assert kinds.count("fill") == 4
        statistics = await service.statistics()
        assert statistics.orders_sent == statistics.orders_accepted == statistics.fills == 4
        assert statistics.parents_by_state == {"completed": 1}
        assert statistics.slice_lateness.count == 4

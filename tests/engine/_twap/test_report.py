"""Report maths: a positive cost is worse for buys and sells alike; shortfall has fees and the rest."""

from __future__ import annotations

import json
from decimal import Decimal

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine._twap.child import ChildOrder
from engine._twap.parent import ParentOrder, ParentState
from engine._twap.report import (
    ExecutionReport,
    OrderSlice,
    SliceRecord,
    SliceStatus,
    _total,
    build_report,
    tracking_error,
)
from engine.events import OrderFilled
from engine.instruments import Instrument
from engine.orders import Order, OrderSide


def run(side: OrderSide, prices: list[str], quantity: int = 200, fee: str = "1") -> ParentOrder:
    parent = ParentOrder(
        parent_id="P",
        symbol="AAPL",
        side=side,
        quantity=Decimal(quantity),
        instrument=Instrument("AAPL"),
        created_at=0.0,
    )
    parent.transition(ParentState.WORKING, 0.0)
    for i, price in enumerate(prices):
        child = ChildOrder(order=Order("AAPL", side, 50, client_order_id=f"C{i}"), slice_index=i)
        parent.add_child(child)
        parent.apply_fill(
            child,
            OrderFilled(
                client_order_id=f"C{i}",
                symbol="AAPL",
                timestamp=10.0 * i + 1,
                trade_id=f"T{i}",
                side=side,
                quantity=Decimal(50),
                price=Decimal(price),
                fee=Decimal(fee),
            ),
        )
    return parent


def records(count: int) -> list[SliceRecord]:
    return [
        SliceRecord(index=i, scheduled_at=10.0 * i, quantity=Decimal(50), child_ids=(f"C{i}",), due=True)
        for i in range(count)
    ]


def report_of(parent: ParentOrder, slices: int, end_price: str = "100") -> ExecutionReport:
    return build_report(
        parent,
        records(slices),
        started_at=0.0,
        ended_at=40.0,
        arrival_price=Decimal(100),
        end_price=Decimal(end_price),
        mids=[Decimal(100), Decimal(101)],
        requested_slices=4,
    )


def test_paying_up_is_a_positive_cost_for_a_buy() -> None:
    report = build_report(
        run(OrderSide.BUY, ["101", "101", "101", "101"]),
        records(4),
        started_at=0.0,
        ended_at=40.0,
        arrival_price=Decimal(100),
        end_price=Decimal(100),
        mids=[Decimal(100), Decimal(101)],
        requested_slices=4,
    )
    assert report.avg_price == 101
    assert report.slippage_bps == 100
    assert report.interval_twap == Decimal("100.5")
    assert report.twap_slippage_bps == Decimal("49.7512")
    # 200 × 1 paid over arrival, plus 4 in fees, over a 20,000 arrival notional.
    assert report.implementation_shortfall == 204
    assert report.implementation_shortfall_bps == 102
    assert report.fill_rate == 1
    assert report.fees == 4


def test_selling_below_arrival_is_a_positive_cost_for_a_sell() -> None:
    report = build_report(
        run(OrderSide.SELL, ["99", "99", "99", "99"], fee="0"),
        records(4),
        started_at=0.0,
        ended_at=40.0,
        arrival_price=Decimal(100),
        end_price=Decimal(100),
        mids=[Decimal(100)],
        requested_slices=4,
    )
    assert report.slippage_bps == 100
    assert report.implementation_shortfall == 200


def test_the_unfilled_rest_counts_at_the_end_price_in_the_shortfall() -> None:
    # Half filled at arrival; the market then ran 2 up: the missing 100 cost 200 of opportunity.
    report = build_report(
        run(OrderSide.BUY, ["100", "100"], fee="0"),
        records(2),
        started_at=0.0,
        ended_at=40.0,
        arrival_price=Decimal(100),
        end_price=Decimal(102),
        mids=[Decimal(100)],
        requested_slices=4,
    )
    assert report.filled_quantity == 100
    assert report.unfilled_quantity == 100
    assert report.slippage_bps == 0
    assert report.implementation_shortfall == 200
    assert report.fill_rate == Decimal("0.5")


def test_slices_carry_their_children_fills_and_status() -> None:
    report = report_of(run(OrderSide.BUY, ["101", "102"]), 2)
    slices = report.slices
    assert [s.status for s in slices] == [SliceStatus.FILLED, SliceStatus.FILLED]
    assert [s.avg_price for s in slices] == [Decimal(101), Decimal(102)]
    assert slices[0].child_ids == ("C0",)
    assert [line["child_ids"] for line in report.to_dict()["slices"]] == [["C0"], ["C1"]]
    assert "_child_ids" not in json.loads(report.to_json())["slices"][0]


def test_nothing_filled_gives_no_average_price_and_a_json_ready_dict() -> None:
    parent = run(OrderSide.BUY, [])
    report = build_report(
        parent,
        [],
        started_at=0.0,
        ended_at=5.0,
        arrival_price=Decimal(100),
        end_price=Decimal(100),
        mids=[],
        requested_slices=1,
    )
    assert report.avg_price is None
    assert report.slippage_bps is None
    data = json.loads(report.to_json())
    assert data["filled_quantity"] == "0"
    assert data["final_state"] == "working"
    assert data["duration"] == 5.0


@pytest.mark.parametrize(
    ("fills", "expected"),
    [
        ([(1.0, Decimal(50)), (11.0, Decimal(50))], Decimal(0)),  # filled right after each slice
        ([(25.0, Decimal(100))], Decimal("0.5")),  # at t=20 the first 100 was owed, 0 filled
        ([], Decimal(1)),  # nothing filled: the whole order behind at the end
    ],
)
def test_tracking_error_is_the_largest_gap_before_each_slice_and_at_the_end(
    fills: list[tuple[float, Decimal]], expected: Decimal
) -> None:
    scheduled = [(0.0, Decimal(50)), (10.0, Decimal(50))]
    assert tracking_error(Decimal(100), scheduled, fills, ended_at=30.0) == expected


@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_a_slice_total_of_one_child_is_written_exactly_as_the_sum_would_be(value: Decimal) -> None:
    # Reports share a lone child's Decimal; the JSON must be what summing it would have given.
    assert str(_total([value])) == str(sum([value], Decimal(0)))
    assert str(_total([value, value])) == str(sum([value, value], Decimal(0)))


def test_a_slice_reads_and_writes_its_child_ids_as_a_tuple_whether_it_has_one_or_several() -> None:
    one = OrderSlice(index=0, scheduled_at=0.0, quantity=Decimal(10), child_ids=("C1",))
    several = OrderSlice(index=1, scheduled_at=1.0, quantity=Decimal(10), child_ids=["C2", "C3"])
    assert one.child_ids == ("C1",)
    assert several.child_ids == ("C2", "C3")
    assert OrderSlice(index=2, scheduled_at=2.0, quantity=Decimal(10)).child_ids == ()
    assert one == OrderSlice(index=0, scheduled_at=0.0, quantity=Decimal(10), child_ids="C1")
    assert attrs.evolve(one, child_ids=("C1", "C4")).child_ids == ("C1", "C4")


def test_a_slice_record_keeps_a_lone_child_id_and_reads_every_id_as_a_tuple() -> None:
    record = SliceRecord(index=0, scheduled_at=0.0, quantity=Decimal(10))
    seen = [record.child_ids]
    for client_order_id in ("C1", "C2", "C3"):
        record.add_child_id(client_order_id)
        seen.append(record.child_ids)
        if client_order_id == "C1":
            assert record._child_ids == "C1", "a lone id is kept as it is, not in a tuple of one"
    assert seen == [(), ("C1",), ("C1", "C2"), ("C1", "C2", "C3")]
    given = SliceRecord(index=1, scheduled_at=60.0, quantity=Decimal(10), child_ids=("C3",))
    assert given.child_ids == ("C3",)

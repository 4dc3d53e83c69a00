"""Fault injection on the streams, property-based: whatever the streams lose, repeat or drop, the
gateway's events report every trade exactly once, never past an order's quantity, each order's end
once, numbered 1, 2, 3... without a gap."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import ExecutionEvent, Order, OrderAccepted, OrderCancelled, OrderFilled, run_virtual
from gateways.ccxt import Backoff, CcxtGateway, CcxtSettings
from tests.gateways.ccxt_fake import FakeExchange

ORDERS = 3
QUANTITY = 8  # each order: 8 lots of 0.125

step = st.one_of(
    st.tuples(st.just("fill"), st.integers(0, ORDERS - 1)),
    st.tuples(st.just("cancel"), st.integers(0, ORDERS - 1)),
    st.tuples(st.just("mute"), st.booleans()),
    st.tuples(st.just("drop"), st.just(0)),
    st.tuples(st.just("repeat"), st.just(0)),
    st.tuples(st.just("wait"), st.just(0)),
)


async def scenario(steps: list[tuple[str, object]]) -> tuple[list[ExecutionEvent], FakeExchange]:
    fake = FakeExchange()
    settings_ = CcxtSettings("binance", "key", "secret")
    gateway = CcxtGateway(settings_, exchange_factory=lambda _: fake, backoff=Backoff(0.01, 0.05))
    events: list[ExecutionEvent] = []
    async with gateway:
        ids = []
        for index in range(ORDERS):
            order = Order(
                symbol="BTC/USDT",
                side="buy",
                quantity=QUANTITY / 8,
                order_type="limit",
                limit_price="99",
                client_order_id=f"o{index}",
            )
            await gateway.submit_order(order)
            ids.append(order.client_order_id)
        for action, argument in steps:
            if action == "fill":
                client_order_id = ids[argument if isinstance(argument, int) else 0]
                if fake.orders[client_order_id]["status"] == "open":
                    fake.fill(client_order_id, 0.125, 99.0)
            elif action == "cancel":
                fake.cancel(ids[argument if isinstance(argument, int) else 0])
            elif action == "mute":
                fake.mute_streams(bool(argument))
            elif action == "drop":
                fake.drop_streams()
            elif action == "repeat" and fake.trades:
                fake.trade_stream.push(dict(fake.trades[-1]))
            await anyio.sleep(0.02 if action == "wait" else 0)
        fake.mute_streams(False)
        for client_order_id in ids:  # end every order, then make sure the last of it is reconciled
            fake.cancel(client_order_id)
        fake.drop_streams()
        ended: set[str] = set()
        with anyio.fail_after(60):
            async for event in gateway.events():
                events.append(event)
                filled = sum(
                    e.quantity
                    for e in events
                    if isinstance(e, OrderFilled) and e.client_order_id == event.client_order_id
                )
                venue = fake.orders[event.client_order_id]
                if isinstance(event, OrderCancelled) or (
                    isinstance(event, OrderFilled)
                    and venue["status"] == "closed"
                    and filled == Decimal(str(venue["amount"]))
                ):
                    ended.add(event.client_order_id)
                complete = all(
                    sum(e.quantity for e in events if isinstance(e, OrderFilled) and e.client_order_id == cid)
                    == Decimal(str(fake.orders[cid]["filled"]))
                    for cid in ids
                )
                if len(ended) == ORDERS and complete:
                    break
    return events, fake


@settings(max_examples=40, deadline=None)
@given(st.lists(step, max_size=25))
def test_lost_repeated_and_dropped_stream_updates_still_give_every_fill_once(
    steps: list[tuple[str, object]],
) -> None:
    events, fake = run_virtual(scenario, steps)
    assert [event.sequence for event in events] == list(range(1, len(events) + 1))
    fills = [event for event in events if isinstance(event, OrderFilled)]
    assert Counter(fill.trade_id for fill in fills) == Counter(trade["id"] for trade in fake.trades)
    for client_order_id, order in fake.orders.items():
        mine = [fill for fill in fills if fill.client_order_id == client_order_id]
        assert sum(fill.quantity for fill in mine) == Decimal(str(order["filled"])) <= Decimal(QUANTITY) / 8
        kinds = [type(event) for event in events if event.client_order_id == client_order_id]
        assert kinds[0] is OrderAccepted
        assert kinds.count(OrderAccepted) == 1
        assert kinds.count(OrderCancelled) <= 1

"""ccxt.pro's WebSocket streams against the served venue: the ws-api user-data stream
(``watch_orders``, ``watch_my_trades``) and the market streams (``watch_bids_asks``,
``watch_ticker``)."""

from __future__ import annotations

from typing import Any

import anyio

from gateways.served import ServedEndpoints
from tests.gateways.served.harness import Clients, run_served


def test_watch_orders_and_my_trades_see_each_execution_of_an_order_once() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        pro = await clients.pro()
        updates: list[tuple[str, str, float]] = []
        trades: list[Any] = []

        async def watch_orders() -> None:
            while not updates or updates[-1][1] != "closed":
                orders = await pro.watch_orders("AAPL/USDT")
                updates.extend((order["clientOrderId"], order["status"], order["filled"]) for order in orders)

        async def watch_trades() -> None:
            while not trades:
                trades.extend(await pro.watch_my_trades("AAPL/USDT"))

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch_orders)
            task_group.start_soon(watch_trades)
            with anyio.fail_after(5):
                await served.exchange.wait_user_stream()  # the stream is subscribed
            await exchange.create_order("AAPL/USDT", "market", "buy", 4, params={"clientOrderId": "ws-1"})
        assert updates == [("ws-1", "open", 0.0), ("ws-1", "closed", 4.0)]
        venue_fills = (await served.exchange.venue.get_order("ws-1")).fills
        assert [(trade["amount"], trade["price"]) for trade in trades] == [
            (float(fill.quantity), float(fill.price)) for fill in venue_fills
        ]

    run_served(scenario)


def test_watch_bids_asks_and_ticker_follow_the_venue_quote() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        pro = await clients.pro()
        venue = served.exchange.venue
        first = (await pro.watch_bids_asks(["GOOGL/USDT"]))["GOOGL/USDT"]
        assert first["bid"] < first["ask"]
        venue.set_quote("GOOGL", bid="141.50", ask="141.60")
        with anyio.fail_after(5):
            while True:
                quote = (await pro.watch_bids_asks(["GOOGL/USDT"]))["GOOGL/USDT"]
                if (quote["bid"], quote["ask"]) == (141.5, 141.6):
                    break
        ticker = await pro.watch_ticker("GOOGL/USDT")
        assert ticker["symbol"] == "GOOGL/USDT"
        assert ticker["close"] is not None

    run_served(scenario)

"""ccxt.pro's WebSocket streams against the served venue: the ws-api user-data stream
(``watch_orders``, ``watch_my_trades``) and the market streams (``watch_bids_asks``,
``watch_ticker``)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import anyio
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
import pytest

from engine.events import OrderFilled
from gateways.served import ServedEndpoints, serve_venue
from gateways.simulated import FaultPlan
from tests.gateways.served.harness import Clients, quiet_venue, run_served


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


def test_watch_balance_follows_each_fill() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        pro = await clients.pro()
        balances: list[Any] = []

        async def watch() -> None:
            balances.append(await pro.watch_balance())

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch)
            with anyio.fail_after(5):
                await served.exchange.wait_user_stream()
            await exchange.create_order("MSFT/USDT", "market", "buy", 2, params={"clientOrderId": "bal-1"})
        venue = served.exchange.venue
        assert balances[0]["MSFT"]["free"] == 2
        assert Decimal(str(balances[0]["USDT"]["free"])) == venue.cash

    run_served(scenario)


def test_a_user_data_subscription_with_a_bad_signature_is_refused() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        pro = await clients.pro(secret="not-the-secret")
        # ccxt 4.5.90 drops the refused subscription twice, so the AuthenticationError it raises
        # surfaces as a KeyError('spot') with the AuthenticationError as its context.
        with anyio.fail_after(5), pytest.raises((ccxt_async.AuthenticationError, KeyError)) as refused:
            await pro.watch_orders("AAPL/USDT")
        error = refused.value
        cause = error if isinstance(error, ccxt_async.AuthenticationError) else error.__context__
        assert isinstance(cause, ccxt_async.AuthenticationError)
        assert "-1022" in str(cause)
        assert served.statistics().user_streams == 0

    run_served(scenario)


def test_each_fill_is_reported_once_though_the_venue_duplicates_reorders_and_drops_its_events() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        pro = await clients.pro()
        seen: list[Any] = []

        async def watch() -> None:
            while len(seen) < 6:
                seen.extend(await pro.watch_my_trades("AAPL/USDT"))

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch)
            with anyio.fail_after(5):
                await served.exchange.wait_user_stream()
            for number in range(6):
                await exchange.create_order(
                    "AAPL/USDT", "market", "buy", 1, params={"clientOrderId": f"f-{number}"}
                )
        venue = served.exchange.venue
        venue_trades = {event.trade_id for event in venue.event_log if isinstance(event, OrderFilled)}
        assert len(venue_trades) == 6
        assert sorted(int(trade["id"]) for trade in seen) == [1, 2, 3, 4, 5, 6]
        rest_trades = await exchange.fetch_my_trades("AAPL/USDT")
        assert len(rest_trades) == 6
        fired = venue.statistics().faults_injected
        assert fired["duplicate_fill"] + fired["reorder_events"] + fired["drop_stream"] > 0

    faults = FaultPlan(duplicate_fill=0.5, reorder_events=0.3, drop_stream=0.3)
    run_served(scenario, quiet_venue(faults=faults, seed=3))


def test_stopping_the_server_ends_open_streams_and_their_watchers_hear_of_it() -> None:
    async def main() -> None:
        failures: list[BaseException] = []
        pro: Any = None
        try:
            with anyio.fail_after(20):
                async with anyio.create_task_group() as task_group:  # noqa: SIM117 (outlives the server)
                    async with serve_venue(quiet_venue()) as served:
                        pro = ccxt_pro.binance(served.ccxt_config())
                        await pro.load_markets()

                        async def watch() -> None:
                            try:
                                while True:
                                    await pro.watch_orders("AAPL/USDT")
                            except ccxt_async.NetworkError as error:
                                failures.append(error)

                        task_group.start_soon(watch)
                        await served.exchange.wait_user_stream()
                    # the server has stopped; the watcher's connection is gone
        finally:
            if pro is not None:
                await pro.close()
        assert len(failures) == 1

    anyio.run(main)


def test_raw_and_combined_market_streams_as_binance_names_them() -> None:
    from websockets.asyncio.client import connect

    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        base = f"ws://{served.authority}"
        async with connect(f"{base}/ws/aaplusdt@bookTicker") as raw:
            payload = json.loads(await raw.recv())
            assert payload["s"] == "AAPLUSDT"
            assert float(payload["b"]) < float(payload["a"])
        names = {"aaplusdt@bookTicker", "msftusdt@bookTicker"}
        async with connect(f"{base}/stream?streams=" + "/".join(sorted(names))) as combined:
            seen: set[str] = set()
            with anyio.fail_after(5):
                while seen != names:
                    message = json.loads(await combined.recv())
                    seen.add(message["stream"])
                    assert message["data"]["s"] == message["stream"].split("@")[0].upper()
            await combined.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 7}))
            while True:
                answer = json.loads(await combined.recv())
                if answer.get("id") == 7:
                    break
            assert set(answer["result"]) == names

    run_served(scenario)

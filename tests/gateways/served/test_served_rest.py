"""An unmodified ccxt REST client trades against the served venue as against Binance Spot."""

from __future__ import annotations

from decimal import Decimal

import ccxt.async_support as ccxt_async
import pytest

from gateways.served import ServedEndpoints
from tests.gateways.served.harness import Clients, quiet_venue, run_served


def test_load_markets_maps_each_symbol_to_a_usdt_market_with_its_filters() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        assert sorted(exchange.markets) == ["AAPL/USDT", "GOOGL/USDT", "MSFT/USDT"]
        market = exchange.market("AAPL/USDT")
        assert market["id"] == "AAPLUSDT"
        assert (market["base"], market["quote"], market["spot"]) == ("AAPL", "USDT", True)
        assert market["precision"]["price"] == 0.01  # the instrument's tick
        assert market["precision"]["amount"] == 1.0  # its lot
        assert market["limits"]["amount"]["min"] == 1.0

    run_served(scenario)


def test_fetch_ticker_and_server_time_come_from_the_venue() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        ticker = await exchange.fetch_ticker("MSFT/USDT")
        quote = served.exchange.venue.quote_nowait("MSFT")
        assert Decimal(str(ticker["bid"])) <= quote.ask
        assert ticker["bid"] < ticker["ask"]
        assert abs(await exchange.fetch_time() - exchange.milliseconds()) < 5_000
        book = await exchange.fetch_order_book("MSFT/USDT")
        assert len(book["bids"]) == 1
        assert len(book["asks"]) == 1

    run_served(scenario)


def test_a_market_order_with_a_client_order_id_fills_and_shows_in_trades_and_balance() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        order = await exchange.create_order(
            "AAPL/USDT", "market", "buy", 3, params={"clientOrderId": "mkt-1"}
        )
        assert order["clientOrderId"] == "mkt-1"
        assert order["status"] == "closed"
        assert order["filled"] == 3
        fetched = await exchange.fetch_order(None, "AAPL/USDT", params={"clientOrderId": "mkt-1"})
        assert fetched["id"] == order["id"]
        assert fetched["status"] == "closed"
        trades = await exchange.fetch_my_trades("AAPL/USDT")
        assert [(trade["order"], trade["amount"]) for trade in trades] == [(order["id"], 3)]
        balance = await exchange.fetch_balance()
        venue = served.exchange.venue
        assert Decimal(str(balance["AAPL"]["free"])) == venue.positions["AAPL"] == 3
        assert Decimal(str(balance["USDT"]["free"])) == venue.cash

    run_served(scenario)


def test_a_resting_limit_order_is_open_then_cancelled_by_id() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        order = await exchange.create_order(
            "AAPL/USDT", "limit", "buy", 2, 100, params={"clientOrderId": "lim-1"}
        )
        assert order["status"] == "open"
        assert [o["clientOrderId"] for o in await exchange.fetch_open_orders("AAPL/USDT")] == ["lim-1"]
        cancelled = await exchange.cancel_order(order["id"], "AAPL/USDT")
        assert cancelled["status"] == "canceled"
        assert await exchange.fetch_open_orders("AAPL/USDT") == []
        snapshot = await served.exchange.venue.get_order("lim-1")
        assert snapshot.status.value == "cancelled"

    run_served(scenario)


def test_cancel_by_client_order_id_and_unknown_orders() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        await exchange.create_order("MSFT/USDT", "limit", "sell", 1, 400, params={"clientOrderId": "lim-2"})
        cancelled = await exchange.cancel_order(None, "MSFT/USDT", params={"clientOrderId": "lim-2"})
        assert cancelled["status"] == "canceled"
        with pytest.raises(ccxt_async.OrderNotFound):
            await exchange.fetch_order(None, "MSFT/USDT", params={"clientOrderId": "never-sent"})
        with pytest.raises(ccxt_async.ExchangeError) as refused:
            await exchange.cancel_order(None, "MSFT/USDT", params={"clientOrderId": "lim-2"})
        assert '"code":-2011' in str(refused.value)

    run_served(scenario)


def test_a_duplicate_client_order_id_is_refused_and_changes_nothing() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        await exchange.create_order("AAPL/USDT", "limit", "buy", 1, 100, params={"clientOrderId": "dup-1"})
        before = served.exchange.venue.statistics().orders
        with pytest.raises(ccxt_async.InvalidOrder) as refused:
            await exchange.create_order(
                "AAPL/USDT", "limit", "buy", 1, 101, params={"clientOrderId": "dup-1"}
            )
        assert "Duplicate order sent." in str(refused.value)
        assert served.exchange.venue.statistics().orders == before
        assert len(await exchange.fetch_open_orders("AAPL/USDT")) == 1

    run_served(scenario)


def test_all_orders_book_tickers_and_last_prices() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        await exchange.create_order("GOOGL/USDT", "limit", "buy", 1, 100, params={"clientOrderId": "all-1"})
        await exchange.create_order("GOOGL/USDT", "market", "sell", 1, params={"clientOrderId": "all-2"})
        orders = await exchange.fetch_orders("GOOGL/USDT")
        assert [(o["clientOrderId"], o["status"]) for o in orders] == [("all-1", "open"), ("all-2", "closed")]
        books = await exchange.fetch_bids_asks(["GOOGL/USDT", "AAPL/USDT"])
        assert set(books) == {"GOOGL/USDT", "AAPL/USDT"}
        assert all(book["bid"] < book["ask"] for book in books.values())
        prices = await exchange.fetch_last_prices(["MSFT/USDT"])
        assert prices["MSFT/USDT"]["price"] > 0
        assert await exchange.fetch_open_orders("MSFT/USDT") == []

    run_served(scenario)


def test_resting_orders_lock_funds_in_the_balance() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        await exchange.create_order("AAPL/USDT", "market", "buy", 10, params={"clientOrderId": "lock-0"})
        await exchange.create_order("AAPL/USDT", "limit", "buy", 3, 100, params={"clientOrderId": "lock-1"})
        await exchange.create_order("AAPL/USDT", "limit", "sell", 4, 200, params={"clientOrderId": "lock-2"})
        balance = await exchange.fetch_balance()
        venue = served.exchange.venue
        assert (balance["USDT"]["used"], balance["AAPL"]["used"]) == (300, 4)
        assert Decimal(str(balance["USDT"]["free"])) == venue.cash - 300
        assert balance["AAPL"]["free"] == 6
        assert balance["AAPL"]["total"] == 10

    run_served(scenario)


def test_with_balance_checks_an_order_beyond_the_free_funds_is_refused() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        with pytest.raises(ccxt_async.InsufficientFunds):
            await exchange.create_order("AAPL/USDT", "market", "sell", 1, params={"clientOrderId": "short-1"})
        await exchange.create_order("AAPL/USDT", "limit", "buy", 90, 100, params={"clientOrderId": "big-1"})
        with pytest.raises(ccxt_async.InsufficientFunds):  # 9,000 of the 10,000 are locked
            await exchange.create_order(
                "AAPL/USDT", "limit", "buy", 20, 100, params={"clientOrderId": "big-2"}
            )
        assert served.exchange.venue.statistics().orders == 1

    run_served(scenario, quiet_venue(cash=10_000), check_balances=True)

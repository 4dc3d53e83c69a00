"""A plain ccxt bot paper trading against ``twap-engine serve-venue`` (no twap-engine import).

Start the paper exchange, then run the bot::

    export TWAP_ENGINE_API_KEY=paper-key TWAP_ENGINE_API_SECRET=paper-secret
    twap-engine serve-venue --dialect binance --port 8765 &
    python examples/paper_trading_bot.py --port 8765

It does what a small bot does on Binance Spot: load markets, read the book, rest a limit order
below the bid, buy at market while watching its own orders on the user-data stream, cancel the
resting order, and print its trades and balances. Only the ccxt settings point it at the paper
exchange instead of Binance.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro


def paper_exchange_settings(host: str, port: int) -> dict[str, Any]:
    """The ccxt settings that send a Binance Spot client to the paper exchange."""
    rest = f"http://{host}:{port}/api/v3"
    return {
        "apiKey": os.environ["TWAP_ENGINE_API_KEY"],
        "secret": os.environ["TWAP_ENGINE_API_SECRET"],
        "enableRateLimit": False,  # the paper exchange enforces Binance's limits itself
        "urls": {
            "api": {
                "public": rest,
                "private": rest,
                "ws": {
                    "spot": f"ws://{host}:{port}/ws",
                    "ws-api": {"spot": f"ws://{host}:{port}/ws-api/v3"},
                },
            },
        },
        "options": {
            "defaultType": "spot",
            "fetchMarkets": {"types": ["spot"]},  # spot markets only
            "fetchCurrencies": False,  # a wallet endpoint the paper exchange does not serve
            "fetchMargins": False,  # likewise the margin pairs
        },
    }


async def trade(host: str, port: int, symbol: str) -> None:
    settings = paper_exchange_settings(host, port)
    rest = ccxt_async.binance(settings)
    streams = ccxt_pro.binance(settings)
    try:
        await rest.load_markets()
        await streams.load_markets()
        ticker = await rest.fetch_ticker(symbol)
        print(f"{symbol}: bid {ticker['bid']} ask {ticker['ask']}")

        bid_below = rest.price_to_precision(symbol, ticker["bid"] * 0.95)
        resting = await rest.create_order(
            symbol, "limit", "buy", 5, bid_below, {"clientOrderId": "bot-rest-1"}
        )
        print(f"resting {resting['clientOrderId']}: {resting['status']} at {resting['price']}")

        async def watch_until_filled() -> None:
            while True:
                for order in await streams.watch_orders(symbol):
                    print(f"stream: {order['clientOrderId']} {order['status']} filled {order['filled']}")
                    if order["clientOrderId"] == "bot-market-1" and order["status"] == "closed":
                        return

        async with asyncio.timeout(10), asyncio.TaskGroup() as tasks:
            tasks.create_task(watch_until_filled())
            await streams.authenticate()  # returns once the user-data stream is subscribed
            bought = await rest.create_order(
                symbol, "market", "buy", 10, None, {"clientOrderId": "bot-market-1"}
            )
            print(f"market buy: {bought['status']}, {bought['filled']} at {bought['average']}")

        cancelled = await rest.cancel_order(resting["id"], symbol)
        print(f"cancelled {resting['clientOrderId']}: {cancelled['status']}")
        for fill in await rest.fetch_my_trades(symbol):
            fee = fill["fee"]["cost"]
            print(f"trade {fill['id']}: {fill['side']} {fill['amount']} at {fill['price']} fee {fee}")
        balance = await rest.fetch_balance()
        base, quote = symbol.split("/")
        print(f"balance: {base} {balance[base]['free']}, {quote} {balance[quote]['free']}")
    finally:
        await rest.close()
        await streams.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--symbol", default="AAPL/USDT")
    arguments = parser.parse_args()
    asyncio.run(trade(arguments.host, arguments.port, arguments.symbol))


if __name__ == "__main__":
    main()

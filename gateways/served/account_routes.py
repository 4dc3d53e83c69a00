"""Signed REST routes of the account: ``account``, ``allOrders`` and ``myTrades``.

Balances: the quote asset holds the venue's cash, each base asset the venue's position in that
symbol, less what open orders lock (balances.py).
"""

from __future__ import annotations

from starlette.routing import Route

from gateways.served.balances import balances
from gateways.served.dispatch import endpoint
from gateways.served.encoding import decimal_text, trade_fields
from gateways.served.exchange import PaperExchange
from gateways.served.params import Params

__all__ = ["account_routes"]


async def account(exchange: PaperExchange, params: Params) -> object:
    shown = [
        {"asset": balance.asset, "free": decimal_text(balance.free), "locked": decimal_text(balance.locked)}
        for balance in balances(exchange.venue, exchange.ledger, exchange.symbols)
        if params.text("omitZeroBalances") != "true" or balance.free or balance.locked
    ]
    return {
        "makerCommission": 0,
        "takerCommission": 0,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {"maker": "0.00000000", "taker": "0.00000000", "buyer": "0.00000000",
                            "seller": "0.00000000"},
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": exchange.clock.now_ms(),
        "accountType": "SPOT",
        "balances": shown,
        "permissions": ["SPOT"],
        "uid": 1,
    }


async def all_orders(exchange: PaperExchange, params: Params) -> object:
    market = params.market(exchange.symbols)
    from_id = params.integer("orderId")
    start = params.integer("startTime")
    end = params.integer("endTime")
    limit = params.limit(500, 1000)
    ledger = exchange.ledger
    clock = exchange.clock
    chosen = []
    for entry in ledger.entries(market.symbol):
        created = clock.ms(entry.created)
        if from_id is not None and entry.order_id < from_id:
            continue
        if (start is not None and created < start) or (end is not None and created > end):
            continue
        chosen.append(entry)
    if from_id is None:
        chosen = chosen[-limit:]  # the most recent, oldest first, as Binance answers
    return [ledger.fields(entry) for entry in chosen[:limit]]


async def my_trades(exchange: PaperExchange, params: Params) -> object:
    market = params.market(exchange.symbols)
    from_id = params.integer("fromId")
    order_id = params.integer("orderId")
    start = params.integer("startTime")
    end = params.integer("endTime")
    limit = params.limit(500, 1000)
    clock = exchange.clock
    chosen = []
    for trade in exchange.ledger.trades(market.symbol):
        time = clock.ms(trade.time)
        if from_id is not None and trade.trade_id < from_id:
            continue
        if order_id is not None and trade.order_id != order_id:
            continue
        if (start is not None and time < start) or (end is not None and time > end):
            continue
        chosen.append(trade)
    if from_id is None and start is None:
        chosen = chosen[-limit:]  # the most recent, oldest first
    return [trade_fields(market, trade, clock) for trade in chosen[:limit]]


def account_routes() -> list[Route]:
    """The account routes, with Binance's request weights."""
    return [
        Route("/api/v3/account", endpoint(account, weight=20, signed=True)),
        Route("/api/v3/allOrders", endpoint(all_orders, weight=20, signed=True)),
        Route("/api/v3/myTrades", endpoint(my_trades, weight=20, signed=True)),
    ]

"""Public REST routes under ``/api/v3``: ping, time, exchangeInfo, tickers and depth.

The simulated venue has a top of book, not a full book: ``depth`` answers one level a side (the
quote and its displayed sizes). The 24-hour ticker's window is the time since the server started;
its volume counts the served venue's own trades.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from starlette.routing import Route

from gateways.served.dispatch import endpoint
from gateways.served.encoding import book_ticker, decimal_text, exchange_symbol
from gateways.served.errors import invalid_symbol
from gateways.served.exchange import PaperExchange
from gateways.served.params import Params
from gateways.served.symbols import Market

__all__ = ["market_routes"]


async def ping(exchange: PaperExchange, params: Params) -> object:
    return {}


async def server_time(exchange: PaperExchange, params: Params) -> object:
    return {"serverTime": exchange.clock.now_ms()}


def _selected(exchange: PaperExchange, params: Params) -> list[Market]:
    market = params.optional_market(exchange.symbols)
    if market is not None:
        return [market]
    listed = params.text("symbols")
    if listed is None:
        return list(exchange.symbols)
    markets = []
    for market_id in listed.strip("[]").replace('"', "").split(","):
        found = exchange.symbols.by_market_id(market_id.strip())
        if found is None:
            raise invalid_symbol()
        markets.append(found)
    return markets


def _one_or_all(params: Params, answers: list[dict[str, object]]) -> object:
    return answers[0] if params.text("symbol") is not None else answers


async def exchange_info(exchange: PaperExchange, params: Params) -> object:
    venue = exchange.venue
    return {
        "timezone": "UTC",
        "serverTime": exchange.clock.now_ms(),
        "rateLimits": exchange.limiter.limits.published(),
        "exchangeFilters": [],
        "symbols": [
            exchange_symbol(market, venue.instrument(market.symbol)) for market in _selected(exchange, params)
        ],
    }


async def ticker_book(exchange: PaperExchange, params: Params) -> object:
    markets = _selected(exchange, params)
    return _one_or_all(params, [book_ticker(market, exchange.quote(market.symbol)) for market in markets])


async def ticker_price(exchange: PaperExchange, params: Params) -> object:
    answers: list[dict[str, object]] = []
    for market in _selected(exchange, params):
        quote = exchange.quote(market.symbol)
        price = quote.last if quote.last is not None else quote.mid
        answers.append({"symbol": market.market_id, "price": decimal_text(price)})
    return _one_or_all(params, answers)


async def ticker_24hr(exchange: PaperExchange, params: Params) -> object:
    return _one_or_all(params, [_day_ticker(exchange, market) for market in _selected(exchange, params)])


def _day_ticker(exchange: PaperExchange, market: Market) -> dict[str, object]:
    quote = exchange.quote(market.symbol)
    day = exchange.day(market.symbol)
    last = quote.last if quote.last is not None else quote.mid
    trades = list(exchange.ledger.trades(market.symbol))
    volume = sum((trade.quantity for trade in trades), Decimal(0))
    quote_volume = sum((trade.quantity * trade.price for trade in trades), Decimal(0))
    change = last - day.open
    return {
        "symbol": market.market_id,
        "priceChange": decimal_text(change),
        "priceChangePercent": f"{(change / day.open * 100).quantize(Decimal('0.001'))}",
        "weightedAvgPrice": decimal_text(quote_volume / volume if volume else last),
        "prevClosePrice": decimal_text(day.open),
        "lastPrice": decimal_text(last),
        "lastQty": decimal_text(trades[-1].quantity if trades else Decimal(0)),
        "bidPrice": decimal_text(quote.bid),
        "bidQty": decimal_text(quote.bid_size),
        "askPrice": decimal_text(quote.ask),
        "askQty": decimal_text(quote.ask_size),
        "openPrice": decimal_text(day.open),
        "highPrice": decimal_text(day.high),
        "lowPrice": decimal_text(day.low),
        "volume": decimal_text(volume),
        "quoteVolume": decimal_text(quote_volume),
        "openTime": day.opened_ms,
        "closeTime": exchange.clock.now_ms(),
        "firstId": trades[0].trade_id if trades else -1,
        "lastId": trades[-1].trade_id if trades else -1,
        "count": len(trades),
    }


async def depth(exchange: PaperExchange, params: Params) -> object:
    market = params.market(exchange.symbols)
    quote = exchange.quote(market.symbol)
    return {
        "lastUpdateId": int(quote.timestamp * 1000),
        "bids": [[decimal_text(quote.bid), decimal_text(quote.bid_size)]],
        "asks": [[decimal_text(quote.ask), decimal_text(quote.ask_size)]],
    }


def _per_symbol(one: int, every: int) -> Callable[[Params], int]:
    def weight(params: Params) -> int:
        return one if params.text("symbol") is not None else every

    return weight


def market_routes() -> list[Route]:
    """The public routes, with Binance's request weights."""
    return [
        Route("/api/v3/ping", endpoint(ping, weight=1)),
        Route("/api/v3/time", endpoint(server_time, weight=1)),
        Route("/api/v3/exchangeInfo", endpoint(exchange_info, weight=20)),
        Route("/api/v3/ticker/bookTicker", endpoint(ticker_book, weight=_per_symbol(2, 4))),
        Route("/api/v3/ticker/price", endpoint(ticker_price, weight=_per_symbol(2, 4))),
        Route("/api/v3/ticker/24hr", endpoint(ticker_24hr, weight=_per_symbol(2, 80))),
        Route("/api/v3/depth", endpoint(depth, weight=5)),
    ]

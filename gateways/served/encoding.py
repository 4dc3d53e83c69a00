"""Our values in Binance's JSON: numbers as strings, times in epoch milliseconds, the field names.

The venue's clock is the event loop's (monotonic) clock; Binance speaks epoch milliseconds.
``WallClock`` converts, with one offset taken when the server starts. Numbers are fixed-point
strings with 8 decimals, as Binance writes them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from decimal import Decimal

import anyio
import attrs

from engine.instruments import Instrument
from engine.market import Quote
from engine.orders import Order, OrderType
from gateways.served.symbols import Market

__all__ = [
    "ORDER_STATUS",
    "TradeRecord",
    "WallClock",
    "book_ticker",
    "decimal_text",
    "exchange_symbol",
    "order_fields",
    "trade_fields",
]

# Our statuses by the names Binance gives them.
ORDER_STATUS = {
    "new": "NEW",
    "partially_filled": "PARTIALLY_FILLED",
    "filled": "FILLED",
    "cancelled": "CANCELED",
    "rejected": "REJECTED",
    "expired": "EXPIRED",
}
_MAX_PRICE = Decimal(1_000_000)
_MAX_QUANTITY = Decimal(9_000_000)
_EIGHT = Decimal("1E-8")


def decimal_text(value: Decimal) -> str:
    """``Decimal("150.5")`` as Binance writes it: ``"150.50000000"``."""
    return f"{value.quantize(_EIGHT):f}"


@attrs.frozen
class WallClock:
    """Converts the venue clock (the loop's) to epoch milliseconds."""

    offset: float  # epoch seconds minus loop seconds

    @classmethod
    def start(cls) -> WallClock:
        """The conversion as of now, on the running loop."""
        return cls(time.time() - anyio.current_time())

    def ms(self, loop_time: float) -> int:
        """Epoch milliseconds of a venue timestamp."""
        return int((loop_time + self.offset) * 1000)

    def now_ms(self) -> int:
        """Epoch milliseconds now."""
        return self.ms(anyio.current_time())


@attrs.frozen
class TradeRecord:
    """One fill as the served venue numbers it: ``trade_id`` is Binance's integer trade id."""

    trade_id: int
    venue_trade_id: str
    order_id: int
    order: Order
    price: Decimal
    quantity: Decimal
    commission: Decimal
    time: float
    is_maker: bool


def exchange_symbol(market: Market, instrument: Instrument) -> dict[str, object]:
    """One market of ``exchangeInfo``, its filters from the instrument."""
    min_quantity = max(instrument.min_quantity, instrument.lot_size)
    return {
        "symbol": market.market_id,
        "status": "TRADING",
        "baseAsset": market.base,
        "baseAssetPrecision": 8,
        "quoteAsset": market.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": False,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": decimal_text(instrument.tick_size),
             "maxPrice": decimal_text(_MAX_PRICE), "tickSize": decimal_text(instrument.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": decimal_text(min_quantity),
             "maxQty": decimal_text(_MAX_QUANTITY), "stepSize": decimal_text(instrument.lot_size)},
            {"filterType": "NOTIONAL", "minNotional": decimal_text(instrument.min_notional),
             "applyMinToMarket": True, "maxNotional": decimal_text(_MAX_PRICE * _MAX_QUANTITY),
             "applyMaxToMarket": False, "avgPriceMins": 0},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "NONE",
        "allowedSelfTradePreventionModes": ["NONE"],
    }


def book_ticker(market: Market, quote: Quote) -> dict[str, object]:
    """``ticker/bookTicker`` of one market."""
    return {
        "symbol": market.market_id,
        "bidPrice": decimal_text(quote.bid),
        "bidQty": decimal_text(quote.bid_size),
        "askPrice": decimal_text(quote.ask),
        "askQty": decimal_text(quote.ask_size),
    }


def order_fields(
    market: Market,
    order_id: int,
    order: Order,
    status: str,
    executed: Decimal,
    quote_quantity: Decimal,
    created_ms: int,
    updated_ms: int,
    working: bool,
) -> dict[str, object]:
    """An order as ``GET /api/v3/order`` answers it."""
    limit = order.order_type is OrderType.LIMIT
    return {
        "symbol": market.market_id,
        "orderId": order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "price": decimal_text(order.limit_price if order.limit_price is not None else Decimal(0)),
        "origQty": decimal_text(order.quantity),
        "executedQty": decimal_text(executed),
        "cummulativeQuoteQty": decimal_text(quote_quantity),
        "status": status,
        "timeInForce": order.time_in_force.name if limit else "GTC",
        "type": order.order_type.name,
        "side": order.side.name,
        "stopPrice": "0.00000000",
        "icebergQty": "0.00000000",
        "time": created_ms,
        "updateTime": updated_ms,
        "isWorking": working,
        "workingTime": created_ms,
        "origQuoteOrderQty": "0.00000000",
        "selfTradePreventionMode": "NONE",
    }


def fill_fields(trades: Iterable[TradeRecord], quote_asset: str) -> list[dict[str, object]]:
    """The ``fills`` of a FULL order answer."""
    return [
        {"price": decimal_text(trade.price), "qty": decimal_text(trade.quantity),
         "commission": decimal_text(trade.commission), "commissionAsset": quote_asset,
         "tradeId": trade.trade_id}
        for trade in trades
    ]


def trade_fields(market: Market, trade: TradeRecord, clock: WallClock) -> dict[str, object]:
    """One trade of ``myTrades``."""
    return {
        "symbol": market.market_id,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": decimal_text(trade.price),
        "qty": decimal_text(trade.quantity),
        "quoteQty": decimal_text(trade.price * trade.quantity),
        "commission": decimal_text(trade.commission),
        "commissionAsset": market.quote,
        "time": clock.ms(trade.time),
        "isBuyer": trade.order.side.name == "BUY",
        "isMaker": trade.is_maker,
        "isBestMatch": True,
    }

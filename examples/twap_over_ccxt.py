"""A bot that trades through ``CcxtGateway``: a TWAP buy on the paper exchange, over ccxt.

Start the paper exchange, then run the bot (both from the project folder)::

    export TWAP_ENGINE_API_KEY=paper-key TWAP_ENGINE_API_SECRET=paper-secret
    .venv/bin/twap-engine serve-venue --dialect binance --port 8765 &
    .venv/bin/python examples/twap_over_ccxt.py --url http://127.0.0.1:8765

The engine is the same one that runs backtests; only the gateway differs. ``CcxtGateway`` speaks to
the paper exchange exactly as to Binance Spot (ccxt REST for orders, ccxt.pro's user-data stream
for fills, the published limits for the queue); ``--url`` is the only thing that points it there.
Keys come from ``BINANCE_API_KEY``/``BINANCE_API_SECRET`` or ``TWAP_ENGINE_API_KEY``/
``TWAP_ENGINE_API_SECRET``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anyio
import structlog

from engine import ExecutionEngine
from gateways.ccxt import CcxtGateway, CcxtSettings


async def main(url: str, symbol: str, quantity: int, slices: int, interval: float) -> None:
    settings = CcxtSettings.from_environment("binance", base_url=url)
    async with CcxtGateway(settings) as gateway, ExecutionEngine(gateway, limits=gateway.limits) as engine:
        quote = await gateway.get_quote(symbol)
        print(f"{symbol}: bid {quote.bid} ask {quote.ask}")
        report = await engine.twap(
            symbol, quantity, "buy", num_slices=slices, interval_seconds=interval, style="passive"
        )
        statistics = gateway.statistics()
    print(f"filled {report.filled_quantity} of {report.quantity} {symbol} @ {report.avg_price:.2f}")
    print(f"child orders: {report.child_orders}, fees: {report.fees}")
    print(f"events: {statistics.last_sequence}, stream drops: {statistics.stream_drops}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="TWAP buy through CcxtGateway on the paper exchange")
    parser.add_argument("--url", required=True, help="the paper exchange, e.g. http://127.0.0.1:8765")
    parser.add_argument("--symbol", default="AAPL/USDT")
    parser.add_argument("--quantity", type=int, default=20)
    parser.add_argument("--slices", type=int, default=4)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between slices")
    arguments = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    anyio.run(main, arguments.url, arguments.symbol, arguments.quantity, arguments.slices, arguments.interval)

"""``PaperExchange``: the simulated venue with what the Binance dialect adds around it.

It composes the venue (opened by its owner), the symbol map, the ledger of order ids and trades,
the rate limiter, the credentials and the wire faults, and runs one task: the event pump, which
feeds the venue's execution events into the ledger (resubscribing from the last sequence after a
dropped stream). Routes and sockets read and change the exchange only through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import anyio
import anyio.abc
import attrs
import structlog

from engine.errors import EventStreamDroppedError
from engine.market import Quote
from gateways.served.auth import Credentials
from gateways.served.encoding import WallClock
from gateways.served.faults import WireFaultInjector, WireFaults
from gateways.served.ledger import Ledger
from gateways.served.limits import BinanceLimits, LimitStatistics, RequestLimiter
from gateways.served.symbols import SymbolMap
from gateways.simulated import SimulatedVenue

__all__ = ["DayStats", "PaperExchange", "PaperExchangeStatistics"]


@attrs.frozen
class PaperExchangeStatistics:
    """A snapshot of the served venue: requests, limits, faults fired, orders and trades."""

    limits: LimitStatistics
    faults: Mapping[str, int]
    orders: int
    trades: int
    reports: int
    user_streams: int

    @property
    def rate_limit_violations(self) -> int:
        """Requests refused with 429 or 418."""
        return self.limits.violations


@attrs.define
class DayStats:
    """Open, high and low of one symbol since the server started (the 24-hour ticker's window)."""

    open: Decimal
    high: Decimal
    low: Decimal
    opened_ms: int

    def see(self, price: Decimal) -> None:
        self.high = max(self.high, price)
        self.low = min(self.low, price)


class PaperExchange:
    """The served venue's state, shared by its routes and sockets."""

    def __init__(
        self,
        venue: SimulatedVenue,
        credentials: Credentials,
        *,
        limits: BinanceLimits,
        faults: WireFaults,
        seed: int,
        quote_asset: str,
        stream_interval: float,
        check_balances: bool = False,
    ) -> None:
        self.venue = venue
        self.credentials = credentials
        self.symbols = SymbolMap(venue.instruments, quote_asset)
        self.clock = WallClock.start()
        origin = anyio.current_time()
        self.limiter = RequestLimiter(limits, origin, origin + self.clock.offset)
        self.faults = WireFaultInjector(faults, seed)
        self.ledger = Ledger(self.symbols, self.clock)
        self.stream_interval = stream_interval
        self.check_balances = check_balances
        self.stopping = anyio.Event()
        self.user_streams = 0
        self._user_stream_opened = anyio.Event()
        self._pump_scope: anyio.CancelScope | None = None
        self._day: dict[str, DayStats] = {}
        now_ms = self.clock.now_ms()
        for market in self.symbols:
            price = self._price(venue.quote_nowait(market.symbol))
            self._day[market.symbol] = DayStats(price, price, price, now_ms)
        self._log = structlog.get_logger(__name__).bind(venue="served")

    def __repr__(self) -> str:
        return f"<PaperExchange {self.symbols!r} {self.ledger!r} {self.limiter!r} {self.faults!r}>"

    def statistics(self) -> PaperExchangeStatistics:
        """A frozen snapshot of the counters."""
        ledger = self.ledger
        return PaperExchangeStatistics(
            limits=self.limiter.statistics(), faults=self.faults.counts,
            orders=sum(1 for _ in ledger.entries()), trades=sum(
                len(entry.trades) for entry in ledger.entries()
            ), reports=ledger.reports, user_streams=self.user_streams,
        )

    def quote(self, symbol: str) -> Quote:
        """The venue's quote now, also noted for the 24-hour ticker."""
        quote = self.venue.quote_nowait(symbol)
        self._day[symbol].see(self._price(quote))
        return quote

    def day(self, symbol: str) -> DayStats:
        """Open, high and low of ``symbol`` since the server started."""
        return self._day[symbol]

    @staticmethod
    def _price(quote: Quote) -> Decimal:
        return quote.last if quote.last is not None else quote.mid

    def user_stream_subscribed(self) -> None:
        """A client subscribed to the user-data stream (counted; wakes ``wait_user_stream``)."""
        self.user_streams += 1
        self._user_stream_opened.set()
        self._user_stream_opened = anyio.Event()

    async def wait_user_stream(self, count: int = 1) -> None:
        """Wait until ``count`` user-data subscriptions were made in all."""
        while self.user_streams < count:
            await self._user_stream_opened.wait()

    def set_wire_faults(self, faults: WireFaults) -> None:
        """Change the wire faults from now on (the generator and the counts carry on)."""
        self.faults.faults = faults

    def stop(self) -> None:
        """Begin the shutdown: held answers and sockets end, the event pump stops."""
        self.stopping.set()
        self.ledger.close()
        if self._pump_scope is not None:
            self._pump_scope.cancel()

    async def run_event_pump(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Feed the venue's events into the ledger until ``stop`` (or the venue closes)."""
        with anyio.CancelScope() as scope:
            self._pump_scope = scope
            task_status.started()
            last = 0
            while True:
                try:
                    async for event in self.venue.events(after_sequence=last):
                        self.ledger.apply(event)
                        last = max(last, event.sequence)
                except EventStreamDroppedError as error:
                    self._log.info("venue event stream dropped; resubscribing", last=error.last_sequence)
                    last = error.last_sequence
                else:
                    return  # the venue closed

"""``CcxtGateway``: ``engine.TradingGateway`` over any ccxt exchange, composed of this package's parts.

::

    settings = CcxtSettings.from_environment("binance")          # BINANCE_API_KEY / _SECRET
    async with CcxtGateway(settings) as gateway, ExecutionEngine(gateway, limits=gateway.limits) as engine:
        ...

Entering loads the instruments (``markets``), subscribes the user-data stream, and starts, in a
task group the gateway owns, one consumer per ccxt.pro stream (``streams``) and the resync task
that reconciles by REST after a drop (``reconcile``). Every REST call goes through ``calls`` (usage
check, headers, error translation); every observation through the ``tracker``, which numbers the
events in the ``journal`` that ``events()`` serves. Leaving stops the tasks and closes the exchange.

Bad input is refused before anything is sent, naming the field and the value: an unknown exchange
id or missing keys when the settings are made or the gateway entered (``InvalidInputError``); a
symbol the venue does not list, an id its rules refuse, or an order below its filters at
``submit_order`` (``OrderRejectedError`` whose reason names them, as the simulated venue does).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any, Self

import anyio
import anyio.abc
import attrs

from engine.clock import now
from engine.errors import (
    GatewayUnavailableError,
    InvalidInputError,
    OrderRejectedError,
    UnknownOrderError,
    UnknownSymbolError,
)
from engine.events import ExecutionEvent, OrderAck, OrderSnapshot
from engine.fields import whole_number
from engine.instruments import Instrument
from engine.market import Quote
from engine.orders import Order, OrderSide
from engine.rate_limits import RateLimit, RequestKind
from gateways.ccxt.calls import VenueCalls
from gateways.ccxt.client_ids import client_id_rule
from gateways.ccxt.exchange import make_exchange
from gateways.ccxt.journal import EventJournal
from gateways.ccxt.markets import SymbolNames, instruments_from_markets, to_decimal
from gateways.ccxt.reconcile import Reconciler, ReconcileStatistics
from gateways.ccxt.settings import CcxtSettings
from gateways.ccxt.streams import Backoff, Resync, StreamConsumer
from gateways.ccxt.tracker import OrderTracker, TrackerStatistics
from gateways.ccxt.translation import (
    create_order_arguments,
    order_from_ccxt,
    order_seen,
    quote_from_ticker,
    status_of,
    trade_from_report,
    trade_seen,
)
from gateways.ccxt.usage import ResponseHeaders, UsageStatistics, VenueUsage, limits_for

__all__ = ["CcxtGateway", "CcxtGatewayStatistics"]

_CLOSE_SECONDS = 5.0
#: What reading a malformed venue record raises.
_MALFORMED = (InvalidInputError, KeyError, TypeError, ValueError, AttributeError)
#: The most symbols asked, one by one, for an order this gateway never sent (after a restart).
_MAX_SEARCH = 50


def _holds_only(raised: BaseException, error: BaseException | None) -> bool:
    """True if ``raised`` is a group holding only ``error`` (in nested groups of one)."""
    while isinstance(raised, BaseExceptionGroup) and len(raised.exceptions) == 1:
        raised = raised.exceptions[0]
    return error is not None and raised is error


@attrs.frozen
class CcxtGatewayStatistics:
    """A snapshot of the gateway: events, streams, reconciliation, orders and venue usage."""

    last_sequence: int
    stream_batches: int
    stream_drops: int
    reconcile: ReconcileStatistics
    reconcile_failures: int
    orders: TrackerStatistics
    usage: UsageStatistics
    requests: int


class CcxtGateway:
    """A connection to one venue through ccxt: orders out by REST, events in by WebSocket.

    ``settings`` say which venue and keys; ``aliases`` name the venue's markets our way
    (``{"AAPL": "AAPL/USDT"}``; only those are then tradable); ``exchange_factory`` makes the
    ccxt exchange object (tests pass a fake); ``backoff`` paces reconnects and reconciliation;
    ``report_drop_after`` failed reconciliation passes in a row end the event readers with
    ``EventStreamDroppedError``; ``header_limits`` give the limit of each count the venue reports
    in its headers (``{"X-MBX-ORDER-COUNT-10S": 50, ...}``, Binance's by default; see ``usage``).
    """

    def __init__(
        self,
        settings: CcxtSettings,
        *,
        aliases: Mapping[str, str] | None = None,
        exchange_factory: Callable[[CcxtSettings], Any] = make_exchange,
        backoff: Backoff | None = None,
        report_drop_after: int = 3,
        header_limits: Mapping[str, int] | None = None,
    ) -> None:
        if not isinstance(settings, CcxtSettings):
            raise InvalidInputError("settings", settings, "expected CcxtSettings")
        if backoff is not None and not isinstance(backoff, Backoff):
            raise InvalidInputError("backoff", backoff, "expected a Backoff")
        self._settings = settings
        self._names = SymbolNames(aliases)
        self._exchange_factory = exchange_factory
        self._backoff = backoff or Backoff()
        self._report_drop_after = whole_number(report_drop_after, "report_drop_after", minimum=1)
        self._rule = client_id_rule(settings.exchange_id)
        self._usage = VenueUsage(header_limits)
        self._headers = ResponseHeaders(self._usage.observe)
        self._journal = EventJournal()
        self._tracker = OrderTracker(self._journal, now)
        self._instruments: dict[str, Instrument] = {}
        self._quotes: dict[str, Quote] = {}
        self._exchange: Any = None
        self._calls: VenueCalls | None = None
        self._consumers: tuple[StreamConsumer, ...] = ()
        self._resync: Resync | None = None
        self._reconciler: Reconciler | None = None
        self._task_group: anyio.abc.TaskGroup | None = None

    def __repr__(self) -> str:
        state = "open" if self._task_group is not None else "closed"
        return (
            f"<CcxtGateway {self._settings.exchange_id} {state} "
            f"[instruments: {len(self._instruments)}, last sequence: {self._journal.last_sequence}]>"
        )

    # -- lifetime ------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        exchange = self._exchange = self._exchange_factory(self._settings)
        try:
            self._settings.check_credentials(dict(getattr(exchange, "requiredCredentials", {}) or {}))
            self._headers.install(exchange)
            calls = self._calls = VenueCalls(exchange, self._usage)
            markets = await calls.load_markets()
            self._names.check(markets)
            self._instruments = instruments_from_markets(
                markets, self._settings.market_types, int(getattr(exchange, "precisionMode", 4)), self._names
            )
            start_ms = int(time.time() * 1000)
            self._reconciler = Reconciler(calls, self._tracker, self._names, start_ms)
            self._resync = Resync(
                self._reconciler,
                self._journal,
                self._ensure_subscribed,
                self._backoff,
                self._report_drop_after,
            )
            await self._ensure_subscribed()
            task_group = anyio.create_task_group()
            await task_group.__aenter__()
        except BaseException:
            await self._close_exchange()
            raise
        self._task_group = task_group
        try:
            self._consumers = (
                StreamConsumer(
                    "orders",
                    exchange.watch_orders,
                    self._fold_orders,
                    self._on_drop,
                    self._backoff,
                    self._connection,
                ),
                StreamConsumer(
                    "my_trades",
                    exchange.watch_my_trades,
                    self._fold_trades,
                    self._on_drop,
                    self._backoff,
                    self._connection,
                ),
            )
            await task_group.start(self._resync.run)
            for consumer in self._consumers:
                await task_group.start(consumer.run)
        except BaseException as error:
            # a task that failed to start, or a cancellation: stop what started, close, then raise
            await self.__aexit__(type(error), error, error.__traceback__)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        task_group, self._task_group = self._task_group, None
        self._journal.close()
        try:
            if task_group is not None:
                task_group.cancel_scope.cancel()
                await task_group.__aexit__(exc_type, exc, traceback)
        except BaseExceptionGroup as group:
            if not _holds_only(group, exc):
                raise
            # the block's own error comes out as itself (returning lets it propagate)
        finally:
            await self._close_exchange()

    async def _close_exchange(self) -> None:
        exchange = self._exchange
        if exchange is None:
            return
        # closing is best effort: the sockets go with the process anyway
        with anyio.move_on_after(_CLOSE_SECONDS, shield=True), contextlib.suppress(Exception):
            await exchange.close()

    async def _ensure_subscribed(self) -> None:
        """Subscribe the user-data stream now (so no event of a first order is missed)."""
        authenticate = getattr(self._exchange, "authenticate", None)
        if authenticate is None:
            return
        try:
            await authenticate({"type": self._settings.market_types[0]})
        except Exception as error:
            raise GatewayUnavailableError(f"user-data stream: {type(error).__name__}: {error}") from error

    # -- the protocol --------------------------------------------------------------------------

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        """The venue's tradable symbols (of the asked-for market types) and their rules."""
        return self._instruments

    @property
    def limits(self) -> tuple[RateLimit, ...]:
        """The venue's published limits, for the engine's queue (empty when not known)."""
        return limits_for(self._settings.exchange_id)

    def instrument(self, symbol: str) -> Instrument:
        """The rules of ``symbol``; raises ``UnknownSymbolError`` if the venue does not list it."""
        instrument = self._instruments.get(symbol)
        if instrument is None:
            raise UnknownSymbolError(symbol, known=tuple(sorted(self._instruments)))
        return instrument

    def _open_calls(self) -> VenueCalls:
        if self._calls is None or self._task_group is None:
            raise GatewayUnavailableError("the gateway is not open: use it inside 'async with'")
        return self._calls

    def _refuse(self, order: Order) -> None:
        try:
            instrument = self.instrument(order.symbol)
            self._rule.check(order.client_order_id, self._settings.exchange_id)
            quote = self._quotes.get(order.symbol)
            reference = None if quote is None else (quote.ask if order.side is OrderSide.BUY else quote.bid)
            instrument.check_order(order, reference_price=reference)
        except InvalidInputError as error:
            raise OrderRejectedError(str(error), client_order_id=order.client_order_id) from None

    async def submit_order(self, order: Order) -> OrderAck:
        """Send ``order`` under its client order id; see ``engine.gateway`` for what errors mean."""
        if not isinstance(order, Order):
            raise InvalidInputError("order", order, "expected an Order")
        calls = self._open_calls()
        self._refuse(order)
        arguments, params = create_order_arguments(order, self._names.venue(order.symbol))
        # refused here (the venue's reported usage leaves no room): never sent, so never tracked
        calls.check("create_order", RequestKind.SUBMIT, order.client_order_id)
        self._tracker.submit_started(order)
        refused = False
        try:
            answer = await calls.create_order(arguments, params, order.client_order_id)
        except (OrderRejectedError, GatewayUnavailableError):
            refused = True  # known not to be held by the venue
            raise
        finally:
            # Anything else keeps the order tracked until it is known final or known never to
            # have arrived (a look-up answering not found): a 429 (RateLimitedError) may come
            # after the venue took the order, and a duplicate id means the venue holds one.
            self._tracker.submit_ended(order.client_order_id, refused=refused)
        venue_order_id = str(answer.get("id"))
        self._tracker.acknowledged(order.client_order_id, venue_order_id)
        self._fold_answer(answer, order.client_order_id)
        return OrderAck(order.client_order_id, venue_order_id, now())

    async def cancel_order(self, client_order_id: str) -> None:
        """Ask the venue to cancel; a no-op for an order already final."""
        calls = self._open_calls()
        order = self._tracker.order(client_order_id)
        if order is None:
            await self.get_order(client_order_id)  # learns its symbol, or raises UnknownOrderError
            order = self._tracker.order(client_order_id)
            assert order is not None
        if self._tracker.is_ended(client_order_id):
            return
        try:
            answer = await calls.cancel_order(client_order_id, self._names.venue(order.symbol))
        except UnknownOrderError:
            # Binance says "Unknown order" (-2011) for an order that already ended: ask which
            await self.get_order(client_order_id)
            return
        self._fold_answer(answer, client_order_id)

    def _fold_answer(self, answer: Mapping[str, Any], client_order_id: str) -> None:
        """Fold the order in a submit's or cancel's answer in; a malformed one asks for a resync
        (the request succeeded: the stream or a look-up will tell its state)."""
        if answer.get("status") is None:
            return
        try:
            self._tracker.order_seen(
                order_seen({**answer, "clientOrderId": client_order_id}, self._names.ours)
            )
        except _MALFORMED:
            self._resync_later(answer.get("symbol"))

    async def get_order(self, client_order_id: str) -> OrderSnapshot:
        """The venue's state of the order, with the fills seen (read by REST if some are missing)."""
        calls = self._open_calls()
        known = self._tracker.order(client_order_id)
        symbols = [known.symbol] if known is not None else sorted(self._instruments)
        if len(symbols) > _MAX_SEARCH:
            # venues look orders up per symbol: asking hundreds would spend the request weight
            raise GatewayUnavailableError(
                f"order {client_order_id} was not sent through this gateway, and finding it would ask "
                f"{len(symbols)} symbols; narrow the instruments with 'aliases'",
                client_order_id=client_order_id,
            )
        answer: dict[str, Any] | None = None
        for symbol in symbols:
            try:
                answer = await calls.fetch_order(client_order_id, self._names.venue(symbol))
            except UnknownOrderError:
                continue
            break
        if answer is None:
            self._tracker.forget(client_order_id)  # known never to have arrived (unless still out)
            raise UnknownOrderError(client_order_id)
        symbol = self._names.ours(str(answer.get("symbol")))
        try:
            venue_order = order_from_ccxt(answer, client_order_id, symbol)
            seen = order_seen({**answer, "clientOrderId": client_order_id}, self._names.ours)
            average = to_decimal(answer["average"], "average") if answer.get("average") else None
        except _MALFORMED as error:
            raise GatewayUnavailableError(
                f"the venue's answer to a look-up was malformed: {error}", client_order_id=client_order_id
            ) from error
        if known is None:
            self._tracker.register(venue_order)
        self._tracker.order_seen(seen)
        if self._tracker.missing_fills(client_order_id) > 0 and self._reconciler is not None:
            await self._reconciler.read_trades(symbol)
        fills = self._tracker.fills(client_order_id)
        timestamp = now()
        return OrderSnapshot(
            order=known if known is not None else venue_order,
            venue_order_id=seen.venue_order_id or "",
            status=status_of(answer),
            filled_quantity=seen.filled,
            average_price=average,
            fees=sum((fill.fee for fill in fills), start=to_decimal(0, "fee")),
            fills=fills,
            created_at=timestamp,
            updated_at=timestamp,
        )

    async def get_quote(self, symbol: str) -> Quote:
        """The top of book of ``symbol`` (``fetch_ticker``)."""
        calls = self._open_calls()
        self.instrument(symbol)
        ticker = await calls.fetch_ticker(self._names.venue(symbol))
        quote = quote_from_ticker(symbol, ticker, now())
        self._quotes[symbol] = quote
        return quote

    def events(self, *, after_sequence: int = 0) -> AsyncIterator[ExecutionEvent]:
        """Execution events numbered above ``after_sequence``, replayed from our journal, then live."""
        return self._journal.read(after_sequence)

    # -- streams -------------------------------------------------------------------------------

    def _fold_orders(self, orders: list[Any]) -> None:
        for order in orders:
            try:
                self._tracker.order_seen(order_seen(order, self._names.ours))
                info = order.get("info") or {}
                if info.get("x") == "TRADE" and info.get("t") not in (None, -1):
                    # Binance's execution report carries the trade: take it now (deduped)
                    self._tracker.fill_seen(trade_seen(trade_from_report(order, info), self._names.ours))
            except _MALFORMED:
                self._resync_later(order.get("symbol"))

    def _fold_trades(self, trades: list[Any]) -> None:
        for trade in trades:
            try:
                self._tracker.fill_seen(trade_seen(trade, self._names.ours))
            except (InvalidInputError, KeyError, TypeError, ValueError):
                self._resync_later(trade.get("symbol"))

    def _resync_later(self, venue_symbol: Any) -> None:
        if self._resync is not None:
            self._resync.request([self._names.ours(str(venue_symbol))] if venue_symbol else [])

    def _connection(self) -> frozenset[object]:
        """Which WebSocket connections ccxt holds now (a reconnect makes a new client object)."""
        clients = getattr(self._exchange, "clients", None) or {}
        return frozenset(clients.values())

    def _on_drop(self) -> None:
        if self._resync is not None:
            self._resync.request()

    # -- inspection ----------------------------------------------------------------------------

    def statistics(self) -> CcxtGatewayStatistics:
        """A snapshot of what the gateway has done and what the venue reports."""
        reconciler = self._reconciler
        return CcxtGatewayStatistics(
            last_sequence=self._journal.last_sequence,
            stream_batches=sum(consumer.batches for consumer in self._consumers),
            stream_drops=sum(consumer.drops for consumer in self._consumers),
            reconcile=reconciler.statistics() if reconciler else ReconcileStatistics(0, 0, 0),
            reconcile_failures=self._resync.passes_failed if self._resync else 0,
            orders=self._tracker.statistics(),
            usage=self._usage.statistics(),
            requests=self._calls.requests if self._calls else 0,
        )

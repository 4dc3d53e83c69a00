"""``SimulatedVenue``: a venue model that runs anywhere, on the engine clock (virtual in backtests).

Inside ``async with venue`` three tasks run in the venue's task group: the market (price steps
and resting-order fills), the inbox (requests executed at their arrival time, one at a time, in
sending order) and the event wire (delivery with latency and faults). A request travels for the
request latency, is checked against the rate limits on arrival, executed, and its answer
travels back for another request latency. Requests never overtake each other: each arrives no
earlier than the one sent before it.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import anyio
import structlog

from engine.clock import now
from engine.errors import (
    DuplicateClientOrderIdError,
    GatewayError,
    GatewayUnavailableError,
    InvalidInputError,
    OrderRejectedError,
    OrderStateUnknownError,
    RateLimitedError,
    UnknownOrderError,
    UnknownSymbolError,
)
from engine.events import (
    ExecutionEvent,
    OrderAccepted,
    OrderAck,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSnapshot,
    OrderStatus,
)
from engine.ids import validate_client_order_id
from engine.instruments import Instrument
from engine.market import Quote
from engine.numbers import to_positive
from engine.orders import Order, OrderType, TimeInForce
from gateways.simulated.account import Account
from gateways.simulated.config import (
    FaultPlan,
    FeeSchedule,
    LatencyModel,
    SymbolSpec,
    VenueRateLimit,
    check_seconds,
)
from gateways.simulated.faults import FaultInjector
from gateways.simulated.limits import RateLimiter, RequestOutcome, VenueRequest
from gateways.simulated.market import SimulatedMarket
from gateways.simulated.matching import FillIntent, OrderRecord, SymbolBook
from gateways.simulated.prices import PriceSource, RandomWalk
from gateways.simulated.replay import PriceReplay
from gateways.simulated.requests import PendingRequest
from gateways.simulated.statistics import VenueStatistics
from gateways.simulated.wire import EventWire

__all__ = ["SimulatedVenue"]


def _participation(value: Any) -> Decimal:
    share = to_positive(value, "participation")
    if share > 1:
        raise InvalidInputError("participation", value, "a share of volume must be at most 1")
    return share


class SimulatedVenue:
    """A simulated trading venue implementing ``engine.TradingGateway``; see the package docstring."""

    def __init__(
        self,
        symbols: Sequence[SymbolSpec] | PriceReplay,
        *,
        seed: int = 0,
        latency: LatencyModel | None = None,
        fees: FeeSchedule | None = None,
        rate_limits: Sequence[VenueRateLimit] = (),
        faults: FaultPlan | None = None,
        cash: Any = 0,
        positions: Mapping[str, Any] | None = None,
        request_timeout: Any = 5.0,
        step: Any = 1.0,
        participation: Any = Decimal("0.1"),
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidInputError("seed", seed, "expected a whole number")
        self._latency = _typed(latency, LatencyModel, "latency") or LatencyModel()
        self._fees = _typed(fees, FeeSchedule, "fees") or FeeSchedule()
        self._limiter = RateLimiter(rate_limits)
        self._faults = FaultInjector(_typed(faults, FaultPlan, "faults") or FaultPlan(), seed)
        self._request_timeout = check_seconds(request_timeout, "request_timeout", positive=True)
        self._step = check_seconds(step, "step", positive=True)
        share = _participation(participation)
        source: PriceSource
        if isinstance(symbols, PriceReplay):
            specs = list(symbols.specs)
            source = symbols.source()
        else:
            specs = _specs(symbols)
            source = RandomWalk(specs, seed=seed, step=self._step)
        self._specs = {spec.symbol: spec for spec in specs}
        self._instruments = {spec.symbol: spec.instrument for spec in specs}
        self._market = SimulatedMarket(source, self._specs, share, self._fill)
        self._account = Account(cash, positions)
        self._seed = seed
        self._rng = random.Random(f"{seed}:requests")
        self._wire = EventWire(self._latency, self._faults, seed)
        self._orders: dict[str, OrderRecord] = {}
        self._request_log: list[VenueRequest] = []
        self._inbox: deque[PendingRequest] = deque()
        self._inbox_wake = anyio.Event()
        self._last_arrival = -math.inf
        self._opened_at: float | None = None
        self._closed = False
        self._task_group: anyio.abc.TaskGroup | None = None
        self._counts = dict.fromkeys(
            ("requests", "orders", "fills", "cancels", "rejects", "expired", "rate_limit_violations"), 0
        )
        self._trade_ids = 0
        self._log = structlog.get_logger(__name__).bind(venue="simulated", seed=seed)

    @classmethod
    def demo(cls, seed: int = 7, **overrides: Any) -> SimulatedVenue:
        """A ready venue for demos and backtests: AAPL, MSFT and GOOGL around 150, 300 and 140,
        one million in cash, default latency and fees, and 200 orders per rolling minute."""
        symbols = overrides.pop("symbols", None) or [
            SymbolSpec(symbol="AAPL", price=150, volume_per_second=200),
            SymbolSpec(symbol="MSFT", price=300, volume_per_second=100),
            SymbolSpec(symbol="GOOGL", price=140, volume_per_second=150),
        ]
        options: dict[str, Any] = {
            "seed": seed,
            "cash": 1_000_000,
            "rate_limits": [VenueRateLimit(limit=200, period=60.0)],
            **overrides,
        }
        return cls(symbols, **options)

    # --- lifetime -------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Open the venue: start its market, inbox and event delivery on the running loop."""
        if self._opened_at is not None:
            raise RuntimeError("a SimulatedVenue can be opened once")
        self._opened_at = now()
        self._market.open()
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        task_group.start_soon(self._market.run)
        task_group.start_soon(self._run_inbox)
        task_group.start_soon(self._wire.run)
        self._log.info("venue opened", symbols=list(self._specs))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the venue: stop its tasks; unanswered requests fail as not sent."""
        self._closed = True
        self._market.stop()
        self._wire.close()
        for request in self._inbox:
            request.fail(GatewayUnavailableError("the venue closed before the request arrived"))
        self._inbox.clear()
        assert self._task_group is not None
        self._task_group.cancel_scope.cancel()
        await self._task_group.__aexit__(exc_type, exc, traceback)
        self._log.info("venue closed", statistics=str(self.statistics()))

    # --- inspection -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        clock = f"{now():.3f}" if self._opened_at is not None and not self._closed else "closed"
        open_orders = sum(1 for record in self._orders.values() if record.status.is_open)
        positions = {symbol: str(quantity) for symbol, quantity in self._account.positions.items()}
        return (
            f"<SimulatedVenue clock={clock} open_orders={open_orders} positions={positions} "
            f"cash={self._account.cash} violations={self._counts['rate_limit_violations']}>"
        )

    def statistics(self) -> VenueStatistics:
        """A frozen snapshot of the venue's counters."""
        return VenueStatistics(
            requests=self._counts["requests"],
            orders=self._counts["orders"],
            fills=self._counts["fills"],
            cancels=self._counts["cancels"],
            rejects=self._counts["rejects"],
            expired=self._counts["expired"],
            rate_limit_violations=self._counts["rate_limit_violations"],
            faults_injected=self._faults.counts,
            open_orders=sum(1 for record in self._orders.values() if record.status.is_open),
            events_published=self._wire.last_sequence,
            events_delivered=self._wire.delivered,
            fees_paid=self._account.fees_paid,
        )

    @property
    def request_log(self) -> Sequence[VenueRequest]:
        """Every request that reached the venue, in arrival order (refused ones included)."""
        return tuple(self._request_log)

    @property
    def event_log(self) -> Sequence[ExecutionEvent]:
        """Every event the venue published, in sequence order (what it would replay)."""
        return self._wire.journal

    @property
    def cash(self) -> Decimal:
        """The account's cash after every fill and fee so far."""
        return self._account.cash

    @property
    def positions(self) -> Mapping[str, Decimal]:
        """The account's position per symbol, read-only."""
        return self._account.positions

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        """The venue's symbols and their rules."""
        return dict(self._instruments)

    @property
    def symbols(self) -> Mapping[str, SymbolSpec]:
        """The venue's symbols and their simulated market settings."""
        return dict(self._specs)

    def instrument(self, symbol: str) -> Instrument:
        """The rules of ``symbol``; raises ``UnknownSymbolError`` if the venue does not list it."""
        try:
            return self._instruments[symbol]
        except (KeyError, TypeError):
            raise UnknownSymbolError(symbol, known=tuple(self._instruments)) from None

    def quote_nowait(self, symbol: str) -> Quote:
        """The current quote of ``symbol`` as the venue sees it, without any latency."""
        self.instrument(symbol)
        return self._market.quote(symbol)

    def set_quote(self, symbol: str, *, bid: Any, ask: Any) -> None:
        """Move ``symbol``'s market to this quote now (a test hook); the price path continues from
        it, and resting orders fill at the next price step if that step trades through them."""
        instrument = self.instrument(symbol)
        new_bid = to_positive(bid, "bid")
        new_ask = to_positive(ask, "ask")
        instrument.check_price(new_bid, "bid")
        instrument.check_price(new_ask, "ask")
        if new_bid >= new_ask:
            raise InvalidInputError("bid", bid, f"must be below the ask {new_ask}")
        self._market.set_quote(symbol, new_bid, new_ask)

    # --- the gateway protocol -------------------------------------------------------------------

    async def submit_order(self, order: Order) -> OrderAck:
        """Send a new order; answers its ``OrderAck`` once the venue holds it.

        Raises ``OrderRejectedError`` (rule broken or a simulated reject; nothing stored),
        ``DuplicateClientOrderIdError``, ``RateLimitedError``, ``GatewayUnavailableError`` (not
        sent) or ``OrderStateUnknownError`` (sent, no answer within ``request_timeout``).
        """
        if not isinstance(order, Order):
            raise InvalidInputError("order", order, "expected an Order")
        result = await self._request("submit", order.client_order_id, order)
        assert isinstance(result, OrderAck)
        return result

    async def cancel_order(self, client_order_id: str) -> None:
        """Ask the venue to cancel; ``OrderCancelled`` follows on the stream. A final order is left
        as it is; an id the venue never received raises ``UnknownOrderError``."""
        validate_client_order_id(client_order_id)
        await self._request("cancel", client_order_id, None)

    async def get_order(self, client_order_id: str) -> OrderSnapshot:
        """The venue's snapshot of an order (also one whose ack was lost); ``UnknownOrderError``
        if the venue never received it."""
        validate_client_order_id(client_order_id)
        result = await self._request("get_order", client_order_id, None)
        assert isinstance(result, OrderSnapshot)
        return result

    async def get_quote(self, symbol: str) -> Quote:
        """The top-of-book quote of ``symbol`` when the request reaches the venue."""
        self.instrument(symbol)
        result = await self._request("get_quote", None, symbol)
        assert isinstance(result, Quote)
        return result

    def events(self, *, after_sequence: int = 0) -> AsyncIterator[ExecutionEvent]:
        """Execution events with sequence above ``after_sequence``: the ones already delivered
        first (replayed in sequence order), then live. See ``gateways.simulated.wire`` for what to
        pass after ``EventStreamDroppedError``. The iterator ends when the venue closes."""
        if isinstance(after_sequence, bool) or not isinstance(after_sequence, int) or after_sequence < 0:
            raise InvalidInputError("after_sequence", after_sequence, "expected a whole number ≥ 0")
        return self._wire.subscribe(after_sequence)

    # --- requests: travel, arrival, execution ---------------------------------------------------

    def _draw_request_latency(self) -> float:
        return self._latency.request + self._rng.uniform(0.0, self._latency.request_jitter)

    async def _request(self, kind: str, client_order_id: str | None, payload: object) -> object:
        if self._opened_at is None or self._closed:
            raise GatewayUnavailableError("the venue is not open; use `async with venue:`")
        if self._faults.fire("unavailable"):
            raise GatewayUnavailableError(
                f"simulated connection failure before sending {kind}", client_order_id=client_order_id
            )
        sent_at = now()
        arrival = max(sent_at + self._draw_request_latency(), self._last_arrival)
        self._last_arrival = arrival
        request = PendingRequest(kind=kind, client_order_id=client_order_id, payload=payload, arrival=arrival)
        self._inbox.append(request)
        self._inbox_wake.set()
        with anyio.CancelScope(deadline=anyio.current_time() + self._request_timeout) as scope:
            await request.wait_answered()
            if not request.dropped:
                await anyio.sleep_until(request.reply_at)
                return request.result()
            await anyio.sleep_forever()
        assert scope.cancelled_caught
        raise OrderStateUnknownError(
            f"no answer to {kind} within {self._request_timeout}s", client_order_id=client_order_id
        )

    async def _run_inbox(self) -> None:
        while True:
            while not self._inbox:
                self._inbox_wake = anyio.Event()
                await self._inbox_wake.wait()
            request = self._inbox[0]
            await anyio.sleep_until(request.arrival)
            self._inbox.popleft()
            self._execute(request)

    def _execute(self, request: PendingRequest) -> None:
        """Run one request at the venue now: rate limits, then its kind's handler."""
        arrived = now()
        self._market.catch_up()
        self._counts["requests"] += 1
        retry_after = self._limiter.try_admit(request.kind, arrived)
        result: object = None
        error: GatewayError | None = None
        if retry_after is not None:
            self._counts["rate_limit_violations"] += 1
            outcome = RequestOutcome.RATE_LIMITED
            error = RateLimitedError(retry_after=retry_after, client_order_id=request.client_order_id)
            self._log.warning("rate limited", kind=request.kind, retry_after=retry_after)
        else:
            outcome, result, error = self._handle(request)
        self._request_log.append(
            VenueRequest(
                timestamp=arrived, kind=request.kind, client_order_id=request.client_order_id,
                weight=self._limiter.primary_weight(request.kind), outcome=outcome,
                weights=self._limiter.weights(request.kind),
            )
        )
        reply_at = arrived + self._draw_request_latency()
        if outcome is RequestOutcome.ACK_DROPPED:
            request.drop()
        elif error is not None:
            request.answer_error(error, reply_at)
        else:
            request.answer(result, reply_at)

    def _handle(self, request: PendingRequest) -> tuple[RequestOutcome, object, GatewayError | None]:
        client_order_id = request.client_order_id
        if request.kind == "submit":
            assert isinstance(request.payload, Order)
            return self._submit(request.payload)
        if request.kind == "get_quote":
            assert isinstance(request.payload, str)
            return RequestOutcome.OK, self.quote_nowait(request.payload), None
        assert client_order_id is not None
        record = self._orders.get(client_order_id)
        if record is None:
            return RequestOutcome.UNKNOWN_ORDER, None, UnknownOrderError(client_order_id)
        if request.kind == "get_order":
            return RequestOutcome.OK, record.snapshot(), None
        self._cancel(record)
        return RequestOutcome.OK, None, None

    def _reject(self, order: Order, reason: str) -> tuple[RequestOutcome, object, GatewayError]:
        self._counts["rejects"] += 1
        self._log.info("order rejected", client_order_id=order.client_order_id, reason=reason)
        error = OrderRejectedError(reason, client_order_id=order.client_order_id)
        return RequestOutcome.REJECTED, None, error

    def _submit(self, order: Order) -> tuple[RequestOutcome, object, GatewayError | None]:
        if order.client_order_id in self._orders:
            self._counts["rejects"] += 1
            return RequestOutcome.DUPLICATE, None, DuplicateClientOrderIdError(order.client_order_id)
        if order.symbol not in self._instruments:
            return self._reject(order, f"symbol={order.symbol!r}: unknown symbol")
        book = self._market.book(order.symbol)
        try:
            self._instruments[order.symbol].check_order(order, reference_price=book.touch(order.side))
        except InvalidInputError as error:
            return self._reject(order, str(error))
        if self._faults.fire("reject"):
            return self._reject(order, "simulated venue reject")
        time = now()
        self._counts["orders"] += 1
        record = OrderRecord(order, f"V{self._counts['orders']}", created_at=time, updated_at=time)
        self._orders[order.client_order_id] = record
        self._wire.publish(
            OrderAccepted(
                client_order_id=order.client_order_id, symbol=order.symbol, timestamp=time,
                venue_order_id=record.venue_order_id,
            )
        )
        if self._faults.fire("reject_after_accept"):
            self._finish(record, OrderStatus.REJECTED, "simulated reject after accept")
        else:
            self._work(record, book)
        outcome = RequestOutcome.ACK_DROPPED if self._faults.fire("drop_ack") else RequestOutcome.OK
        return outcome, OrderAck(order.client_order_id, record.venue_order_id, time), None

    def _work(self, record: OrderRecord, book: SymbolBook) -> None:
        """Fill what is marketable now; rest or expire the remainder."""
        order = record.order
        if book.is_marketable(order):
            for intent in book.take(record):
                self._fill(intent)
        if record.status.is_final:
            return
        if order.order_type is OrderType.MARKET:
            self._finish(record, OrderStatus.EXPIRED, "no more liquidity for the market order")
        elif order.time_in_force is TimeInForce.IOC:
            self._finish(record, OrderStatus.EXPIRED, "immediate-or-cancel remainder")
        else:
            book.rest(record)
            self._market.order_rested()

    def _fill(self, intent: FillIntent) -> None:
        """Book one fill: the order, the account, the event; the one place fills happen."""
        record = intent.record
        order = record.order
        self._trade_ids += 1
        fill = OrderFilled(
            client_order_id=order.client_order_id, symbol=order.symbol, timestamp=now(),
            trade_id=f"T{self._trade_ids}", side=order.side, quantity=intent.quantity,
            price=intent.price, fee=self._fees.fee(intent.quantity * intent.price, is_maker=intent.is_maker),
            is_maker=intent.is_maker,
        )
        published = self._wire.publish(fill)
        assert isinstance(published, OrderFilled)
        record.apply_fill(published)
        self._account.apply_fill(published)
        self._counts["fills"] += 1
        if record.status is OrderStatus.FILLED:
            self._market.book(order.symbol).remove(record)

    def _finish(self, record: OrderRecord, status: OrderStatus, reason: str) -> None:
        order = record.order
        time = now()
        record.finish(status, time)
        self._market.book(order.symbol).remove(record)
        event: ExecutionEvent
        cid, symbol, filled = order.client_order_id, order.symbol, record.filled_quantity
        if status is OrderStatus.CANCELLED:
            self._counts["cancels"] += 1
            event = OrderCancelled(
                client_order_id=cid, symbol=symbol, timestamp=time, filled_quantity=filled, reason=reason
            )
        elif status is OrderStatus.EXPIRED:
            self._counts["expired"] += 1
            event = OrderExpired(
                client_order_id=cid, symbol=symbol, timestamp=time, filled_quantity=filled, reason=reason
            )
        else:
            self._counts["rejects"] += 1
            event = OrderRejected(client_order_id=cid, symbol=symbol, timestamp=time, reason=reason)
        self._wire.publish(event)

    def _cancel(self, record: OrderRecord) -> None:
        if record.status.is_open:
            self._finish(record, OrderStatus.CANCELLED, "cancelled")


def _typed(value: Any, kind: type[Any], field: str) -> Any:
    if value is not None and not isinstance(value, kind):
        raise InvalidInputError(field, value, f"expected a {kind.__name__}")
    return value


def _specs(symbols: Any) -> list[SymbolSpec]:
    if isinstance(symbols, str | SymbolSpec) or not isinstance(symbols, Sequence) or not symbols:
        raise InvalidInputError(
            "symbols", symbols, "expected a non-empty sequence of SymbolSpec or a PriceReplay"
        )
    specs = []
    for index, spec in enumerate(symbols):
        if not isinstance(spec, SymbolSpec):
            raise InvalidInputError(f"symbols[{index}]", spec, "expected a SymbolSpec")
        specs.append(spec)
    names = [spec.symbol for spec in specs]
    if len(set(names)) != len(names):
        raise InvalidInputError("symbols", names, "each symbol may appear once")
    return specs

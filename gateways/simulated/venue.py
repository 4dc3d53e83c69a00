"""``SimulatedVenue``: a venue model that runs anywhere, on the engine clock (virtual in backtests).

Inside ``async with venue`` three tasks run in the venue's task group: the market (price steps
and resting-order fills, market.py), the request channel (requests executed at their arrival, one
at a time, in sending order, requests.py) and the event wire (delivery with latency and faults,
wire.py). On arrival a request is checked against the rate limits, then the order desk (desk.py)
executes it.
"""

from __future__ import annotations

from array import array
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import anyio
import structlog

from engine.clock import now
from engine.errors import (
    GatewayError,
    InvalidInputError,
    RateLimitedError,
    UnknownSymbolError,
)
from engine.events import (
    ExecutionEvent,
    OrderAck,
    OrderSnapshot,
)
from engine.ids import validate_client_order_id
from engine.instruments import Instrument
from engine.market import Quote
from engine.numbers import to_positive
from engine.orders import Order, OrderSide
from gateways.simulated.account import Account
from gateways.simulated.config import (
    REQUEST_KINDS,
    FaultPlan,
    FeeSchedule,
    LatencyModel,
    SymbolSpec,
    VenueRateLimit,
    check_seconds,
)
from gateways.simulated.desk import OrderDesk
from gateways.simulated.faults import FaultInjector
from gateways.simulated.journal import EventJournal
from gateways.simulated.limits import RateLimiter, RequestOutcome, VenueRequest
from gateways.simulated.liquidity import LiquiditySnapshot
from gateways.simulated.market import SimulatedMarket
from gateways.simulated.matching import FillIntent
from gateways.simulated.model_book import ImpactBook
from gateways.simulated.prices import PriceSource, RandomWalk
from gateways.simulated.replay import PriceReplay
from gateways.simulated.requests import Answer, RequestChannel
from gateways.simulated.statistics import VenueStatistics
from gateways.simulated.sweep import sweep_price
from gateways.simulated.wire import EventWire

__all__ = ["SimulatedVenue"]


# A request's kind and outcome in one byte of the request log: kind index × 8 + outcome index.
_OUTCOMES = tuple(RequestOutcome)
_OUTCOME_BITS = 3
_OUTCOME_MASK = (1 << _OUTCOME_BITS) - 1
_OUTCOME_CODES = {outcome: index for index, outcome in enumerate(_OUTCOMES)}
_KIND_CODES = {kind: index << _OUTCOME_BITS for index, kind in enumerate(REQUEST_KINDS)}
assert _OUTCOMES[0] is RequestOutcome.OK
assert len(_OUTCOMES) <= 1 << _OUTCOME_BITS
assert len(REQUEST_KINDS) << _OUTCOME_BITS <= 256


def _participation(value: Any) -> Decimal:
    share = to_positive(value, "participation")
    if share > 1:
        raise InvalidInputError("participation", value, "a share of volume must be at most 1")
    return share


class SimulatedVenue:
    """A simulated trading venue implementing ``engine.TradingGateway``.

    - ``symbols``: ``SymbolSpec``s (a seeded random walk each) or a ``PriceReplay``.
    - ``seed``: every random draw (prices, latency, faults) comes from it; same seed, same run.
    - ``latency``: a ``LatencyModel`` (default 20 ms + up to 10 ms each way for requests, 5 ms +
      up to 2 ms for events); ``LatencyModel.zero()`` for none.
    - ``fees``: a ``FeeSchedule`` (default maker 1 bp, taker 5 bp).
    - ``rate_limits``: ``VenueRateLimit``s, all enforced (default none).
    - ``faults``: a ``FaultPlan`` of probabilities (default none).
    - ``cash``, ``positions``: the account at the start (default 0 and none).
    - ``request_timeout``: seconds a caller waits for an answer before
      ``OrderStateUnknownError`` (default 5).
    - ``step``: seconds between price steps of the random walk (default 1).
    - ``participation``: share of a step's volume resting orders may fill (default 0.1).
    - ``bootstrap_block``: with a ``PriceReplay``, rows per block of a bootstrap of its returns
      that the seed draws (bootstrap.py); 0 (the default) replays the data as it is.

    Each symbol's market follows its ``SymbolSpec.impact_model`` (``legacy`` by default;
    ``square_root``: impact.py, liquidity.py, queue_position.py).
    """

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
        bootstrap_block: int = 0,
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
        if isinstance(bootstrap_block, bool) or not isinstance(bootstrap_block, int) or bootstrap_block < 0:
            raise InvalidInputError("bootstrap_block", bootstrap_block, "expected a whole number ≥ 0")
        source: PriceSource
        if isinstance(symbols, PriceReplay):
            specs = list(symbols.specs)
            source = symbols.source(seed=seed, bootstrap_block=bootstrap_block)
        else:
            specs = _specs(symbols)
            source = RandomWalk(specs, seed=seed, step=self._step)
        self._specs = {spec.symbol: spec for spec in specs}
        self._instruments = {spec.symbol: spec.instrument for spec in specs}
        self._market = SimulatedMarket(source, self._specs, share, self._fill, seed)
        self._account = Account(cash, positions)
        self._journal = EventJournal()
        self._wire = EventWire(self._latency, self._faults, seed, self._journal)
        self._desk = OrderDesk(
            self._instruments, self._market, self._wire, self._journal, self._account, self._fees,
            self._faults,
        )
        self._channel = RequestChannel(
            self._latency, self._faults, seed, self._request_timeout, self._execute
        )
        # The request log in columns: arrival time, client order id, and kind and outcome in one
        # byte per request (a weight follows from the kind). ``request_log`` builds the
        # ``VenueRequest``s on access.
        self._request_times = array("d")
        self._request_ids: list[str | None] = []
        self._request_codes = bytearray()
        self._opened_at: float | None = None
        self._closed = False
        self._task_group: anyio.abc.TaskGroup | None = None
        self._rate_limit_violations = 0
        self._limited = self._limiter.enabled  # without limits, nothing to count per request
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
        self._channel.open()
        task_group = anyio.create_task_group()
        await task_group.__aenter__()
        self._task_group = task_group
        task_group.start_soon(self._market.run)
        task_group.start_soon(self._channel.run)
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
        self._channel.close()
        assert self._task_group is not None
        self._task_group.cancel_scope.cancel()
        try:
            await self._task_group.__aexit__(exc_type, exc, traceback)
        except BaseExceptionGroup as group:
            if not _holds_only(group, exc):
                raise
            # The block's own error comes out as itself (returning lets it go on unwrapped).
        finally:
            self._log.info("venue closed", statistics=str(self.statistics()))

    # --- inspection -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        clock = f"{now():.3f}" if self._opened_at is not None and not self._closed else "closed"
        open_orders = self._desk.open_orders
        positions = {symbol: str(quantity) for symbol, quantity in self._account.positions.items()}
        return (
            f"<SimulatedVenue clock={clock} open_orders={open_orders} positions={positions} "
            f"cash={self._account.cash} violations={self._rate_limit_violations}>"
        )

    def statistics(self) -> VenueStatistics:
        """A frozen snapshot of the venue's counters."""
        desk = self._desk.counts
        # Every request answered is in the log (one whose handler raised, an internal error, is not).
        return VenueStatistics(
            requests=len(self._request_codes),
            orders=desk["orders"],
            fills=desk["fills"],
            cancels=desk["cancels"],
            rejects=desk["rejects"],
            expired=desk["expired"],
            rate_limit_violations=self._rate_limit_violations,
            faults_injected=self._faults.counts,
            open_orders=self._desk.open_orders,
            events_published=self._wire.last_sequence,
            events_delivered=self._wire.delivered,
            fees_paid=self._account.fees_paid,
        )

    @property
    def request_log(self) -> Sequence[VenueRequest]:
        """Every request that reached the venue, in arrival order (refused ones included)."""
        limiter = self._limiter
        weights = {kind: (limiter.primary_weight(kind), limiter.weights(kind)) for kind in REQUEST_KINDS}
        requests = []
        for timestamp, client_order_id, code in zip(
            self._request_times, self._request_ids, self._request_codes, strict=True
        ):
            kind = REQUEST_KINDS[code >> _OUTCOME_BITS]
            requests.append(
                VenueRequest(
                    timestamp=timestamp, kind=kind, client_order_id=client_order_id,
                    weight=weights[kind][0], outcome=_OUTCOMES[code & _OUTCOME_MASK],
                    weights=weights[kind][1],
                )
            )
        return tuple(requests)

    @property
    def event_log(self) -> Sequence[ExecutionEvent]:
        """Every event the venue published, in sequence order (what it would replay)."""
        return self._journal.events()

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

    def liquidity_nowait(self, symbol: str) -> LiquiditySnapshot | None:
        """What ``symbol``'s book holds now (depth per side, impact state, the last step's volume
        and the typical volume rate), for clip sizing; ``None`` under the legacy model."""
        self.instrument(symbol)
        self._market.catch_up()
        book = self._market.book(symbol)
        return book.liquidity() if isinstance(book, ImpactBook) else None

    def sweep_price_nowait(self, symbol: str, side: OrderSide, quantity: Any) -> Decimal:
        """The average price a market order for ``quantity`` on ``side`` would pay now, beyond the
        shown depth too (sweep.py); values an unfilled remainder. Nothing is traded."""
        self.instrument(symbol)
        amount = to_positive(quantity, "quantity")
        self._market.catch_up()
        return sweep_price(self._market.book(symbol), OrderSide.parse(side), amount)

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
        result = await self._channel.send("submit", order.client_order_id, order)
        assert isinstance(result, OrderAck)
        return result

    async def cancel_order(self, client_order_id: str) -> None:
        """Ask the venue to cancel; ``OrderCancelled`` follows on the stream. A final order is left
        as it is; an id the venue never received raises ``UnknownOrderError``."""
        validate_client_order_id(client_order_id)
        await self._channel.send("cancel", client_order_id, None)

    async def get_order(self, client_order_id: str) -> OrderSnapshot:
        """The venue's snapshot of an order (also one whose ack was lost); ``UnknownOrderError``
        if the venue never received it."""
        validate_client_order_id(client_order_id)
        result = await self._channel.send("get_order", client_order_id, None)
        assert isinstance(result, OrderSnapshot)
        return result

    async def get_quote(self, symbol: str) -> Quote:
        """The top-of-book quote of ``symbol`` when the request reaches the venue."""
        self.instrument(symbol)
        result = await self._channel.send("get_quote", None, symbol)
        assert isinstance(result, Quote)
        return result

    def events(self, *, after_sequence: int = 0) -> AsyncIterator[ExecutionEvent]:
        """Execution events with sequence above ``after_sequence``: those the venue had already
        delivered come first (replayed in sequence order, once each), then the live stream, with
        whatever latency, duplicates and reordering the venue injects. The iterator ends when the
        venue closes.

        After ``EventStreamDroppedError`` subscribe again with
        ``after_sequence=error.last_sequence``: the highest sequence up to which this subscription
        had yielded every event. Events above it that arrived early (reordered) come again, so
        consumers ignore sequences or trade ids they have already seen; nothing is lost."""
        if isinstance(after_sequence, bool) or not isinstance(after_sequence, int) or after_sequence < 0:
            raise InvalidInputError("after_sequence", after_sequence, "expected a whole number ≥ 0")
        return self._wire.subscribe(after_sequence)

    def _fill(self, intent: FillIntent) -> None:
        """A resting order filled as the market stepped."""
        self._desk.fill(intent)

    # --- requests: executed at the venue on arrival -----------------------------------------------

    def _execute(self, kind: str, client_order_id: str | None, payload: object, arrived: float) -> Answer:
        """Run one request at the venue at its arrival (now): rate limits, then its kind's handler."""
        self._market.catch_up(arrived)
        retry_after = self._limiter.try_admit(kind, arrived) if self._limited else None
        result: object = None
        error: GatewayError | None
        if retry_after is not None:
            self._rate_limit_violations += 1
            outcome = RequestOutcome.RATE_LIMITED
            error = RateLimitedError(retry_after=retry_after, client_order_id=client_order_id)
            self._log.warning("rate limited", kind=kind, retry_after=retry_after)
        else:
            outcome, result, error = self._desk.handle(kind, client_order_id, payload, arrived)
        self._request_times.append(arrived)
        self._request_ids.append(client_order_id)
        self._request_codes.append(
            _KIND_CODES[kind] | (0 if outcome is RequestOutcome.OK else _OUTCOME_CODES[outcome])
        )
        return result, error, outcome is RequestOutcome.ACK_DROPPED


def _holds_only(raised: BaseException, error: BaseException | None) -> bool:
    """True if ``raised`` is ``error`` or a group holding only ``error`` (at any depth): as in
    anyio's own context managers, the error of the ``async with`` block comes out as itself."""
    while isinstance(raised, BaseExceptionGroup) and len(raised.exceptions) == 1:
        raised = raised.exceptions[0]
    return error is not None and raised is error


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

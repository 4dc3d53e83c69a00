"""``PaperVenueGateway``: the ``TradingGateway`` of a venue served by ``daemon.paper.server``.

Each request opens its own connection to 127.0.0.1 and reads one answer. A connection that
cannot be made means the request never left (``GatewayUnavailableError``); one that breaks or
times out after a submit left means its state is unknown (``OrderStateUnknownError``: look the
client order id up, never resend). The venue's own errors come back as the engine's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType, TracebackType
from typing import Any, Self

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

from daemon.paper.codec import (
    decode_ack,
    decode_error,
    decode_event,
    decode_instrument,
    decode_quote,
    decode_snapshot,
    encode_order,
)
from engine import (
    EventStreamDroppedError,
    ExecutionEvent,
    GatewayError,
    GatewayUnavailableError,
    Instrument,
    Order,
    OrderAck,
    OrderSnapshot,
    OrderStateUnknownError,
    Quote,
    UnknownSymbolError,
)

__all__ = ["PaperVenueGateway"]

MAX_LINE = 1 << 22
_BROKEN = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.IncompleteRead, anyio.ClosedResourceError)


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` as a pair."""
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


class PaperVenueGateway:
    """A gateway to a paper venue at ``address`` (``host:port``); use inside ``async with``."""

    def __init__(self, address: str, *, request_timeout: float = 5.0) -> None:
        self._host, self._port = parse_address(address)
        self._timeout = request_timeout
        self._instruments: Mapping[str, Instrument] = MappingProxyType({})
        self.venue_id: str | None = None

    def __repr__(self) -> str:
        return f"<PaperVenueGateway {self._host}:{self._port} venue={self.venue_id}>"

    async def __aenter__(self) -> Self:
        hello = await self._request({"op": "hello"})
        self.venue_id = hello["venue_id"]
        self._instruments = MappingProxyType(
            {data["symbol"]: decode_instrument(data) for data in hello["instruments"]}
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        """The venue's instruments."""
        return self._instruments

    def instrument(self, symbol: str) -> Instrument:
        """The rules of ``symbol``."""
        try:
            return self._instruments[symbol]
        except (KeyError, TypeError):
            raise UnknownSymbolError(symbol, known=tuple(self._instruments)) from None

    async def _connect(self) -> anyio.abc.SocketStream:
        try:
            with anyio.fail_after(self._timeout):
                return await anyio.connect_tcp(self._host, self._port)
        except (OSError, TimeoutError) as error:
            raise GatewayUnavailableError(f"paper venue unreachable: {error}") from error

    async def _request(self, request: dict[str, Any], *, sent_means_unknown: bool = False) -> Any:
        stream = await self._connect()
        async with stream:
            try:
                await stream.send(json.dumps(request).encode() + b"\n")
            except _BROKEN as error:
                raise GatewayUnavailableError(f"paper venue connection lost: {error!r}") from error
            try:
                with anyio.fail_after(self._timeout):
                    line = await BufferedByteReceiveStream(stream).receive_until(b"\n", MAX_LINE)
            except (*_BROKEN, TimeoutError) as error:
                message = f"no answer from the paper venue: {error!r}"
                if sent_means_unknown:
                    raise OrderStateUnknownError(message) from error
                raise GatewayError(message) from error
        answer = json.loads(line)
        if "error" in answer:
            raise decode_error(answer["error"])
        return answer["ok"]

    async def submit_order(self, order: Order) -> OrderAck:
        """Send a new order."""
        data = await self._request({"op": "submit", "order": encode_order(order)}, sent_means_unknown=True)
        return decode_ack(data)

    async def cancel_order(self, client_order_id: str) -> None:
        """Ask the venue to cancel."""
        await self._request({"op": "cancel", "client_order_id": client_order_id})

    async def get_order(self, client_order_id: str) -> OrderSnapshot:
        """Look an order up by client order id."""
        return decode_snapshot(await self._request({"op": "get_order", "client_order_id": client_order_id}))

    async def get_quote(self, symbol: str) -> Quote:
        """The venue's quote."""
        self.instrument(symbol)
        return decode_quote(await self._request({"op": "get_quote", "symbol": symbol}))

    async def audit(self) -> dict[str, Any]:
        """The venue's record of submits per client order id and fills (for tests)."""
        result: dict[str, Any] = await self._request({"op": "audit"})
        return result

    async def events(self, *, after_sequence: int = 0) -> AsyncIterator[ExecutionEvent]:
        """The venue's events above ``after_sequence``; ``EventStreamDroppedError`` if it drops."""
        last = after_sequence
        stream = await self._connect()
        async with stream:
            try:
                await stream.send(json.dumps({"op": "subscribe", "after": after_sequence}).encode() + b"\n")
                reader = BufferedByteReceiveStream(stream)
                while True:
                    event = decode_event(json.loads(await reader.receive_until(b"\n", MAX_LINE)))
                    yield event
                    if event.sequence == last + 1:
                        last = event.sequence
            except _BROKEN as error:
                raise EventStreamDroppedError(last) from error

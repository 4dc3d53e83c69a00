"""Serve one ``SimulatedVenue`` over TCP on 127.0.0.1: one JSON line per request, events streamed.

Requests (one per connection, answered with one line ``{"ok": ...}`` or ``{"error": ...}``):
``hello`` (the venue's id and instruments), ``submit``, ``cancel``, ``get_order``, ``get_quote``,
and ``audit`` (every client order id the venue received a submit for, with its count, and the
filled quantity per client order id: what the crash tests check). ``subscribe`` (with ``after``)
turns the connection into the venue's event stream.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

from daemon.paper.codec import (
    decode_order,
    encode_ack,
    encode_error,
    encode_event,
    encode_instrument,
    encode_quote,
    encode_snapshot,
)
from engine import EngineError, OrderFilled
from gateways.simulated import SimulatedVenue

__all__ = ["serve_venue"]

MAX_LINE = 1 << 20
_BROKEN = (anyio.EndOfStream, anyio.BrokenResourceError, anyio.IncompleteRead, anyio.ClosedResourceError)


def _audit(venue: SimulatedVenue) -> dict[str, Any]:
    submits: dict[str, int] = {}
    for request in venue.request_log:
        if request.kind == "submit" and request.client_order_id is not None:
            submits[request.client_order_id] = submits.get(request.client_order_id, 0) + 1
    filled: dict[str, Decimal] = {}
    seen: set[str] = set()
    for event in venue.event_log:
        if isinstance(event, OrderFilled) and event.trade_id not in seen:
            seen.add(event.trade_id)
            filled[event.client_order_id] = filled.get(event.client_order_id, Decimal(0)) + event.quantity
    return {"submits": submits, "filled": {cid: str(q) for cid, q in filled.items()}, "fills": len(seen)}


async def _answer(venue: SimulatedVenue, venue_id: str, request: dict[str, Any]) -> Any:
    op = request.get("op")
    if op == "hello":
        instruments = [encode_instrument(i) for i in venue.instruments.values()]
        return {"venue_id": venue_id, "instruments": instruments}
    if op == "submit":
        return encode_ack(await venue.submit_order(decode_order(request["order"])))
    if op == "cancel":
        await venue.cancel_order(request["client_order_id"])
        return None
    if op == "get_order":
        return encode_snapshot(await venue.get_order(request["client_order_id"]))
    if op == "get_quote":
        return encode_quote(await venue.get_quote(request["symbol"]))
    if op == "audit":
        return _audit(venue)
    raise ValueError(f"unknown op {op!r}")


async def _send(stream: anyio.abc.ByteStream, data: Any) -> None:
    await stream.send(json.dumps(data).encode() + b"\n")


async def _handle(venue: SimulatedVenue, venue_id: str, stream: anyio.abc.ByteStream) -> None:
    async with stream:
        try:
            request = json.loads(await BufferedByteReceiveStream(stream).receive_until(b"\n", MAX_LINE))
            if request.get("op") == "subscribe":
                async for event in venue.events(after_sequence=int(request.get("after", 0))):
                    await _send(stream, encode_event(event))
                return
            try:
                # The venue finishes a request it has begun even if the caller goes away (a
                # killed daemon): the answer is then simply not read.
                with anyio.CancelScope(shield=True):
                    result = await _answer(venue, venue_id, request)
            except (EngineError, ValueError, KeyError, TypeError) as error:
                await _send(stream, {"error": encode_error(error)})
            else:
                await _send(stream, {"ok": result})
        except _BROKEN:
            return  # the caller went away


async def serve_venue(
    venue: SimulatedVenue,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    task_status: anyio.abc.TaskStatus[int] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the (open) ``venue`` until cancelled; ``task_status.started`` gets the port."""
    venue_id = f"paper-{uuid.uuid4().hex[:12]}"
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port)
    async with listener:
        bound = listener.extra(anyio.abc.SocketAttribute.local_port)
        task_status.started(bound)

        async def handle(stream: anyio.abc.SocketStream) -> None:
            await _handle(venue, venue_id, stream)

        await listener.serve(handle)

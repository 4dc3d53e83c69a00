"""``GET /v1/events``: the live progress stream as server-sent events.

A stream opens with one ``snapshot`` event (every parent now), then passes on each
``ProgressEvent`` of the trading service as an event named for its kind (``parent_created``,
``parent_progress``, ``fill``, ``parent_final``) whose data is the event as JSON. A comment line
every ``KEEPALIVE_SECONDS`` keeps idle proxies from closing it. When the server shuts down, every
open stream ends (``EventStreams.close``) instead of holding the shutdown up.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse

from daemon.api.dependencies import Service
from daemon.api.schemas import ErrorOut
from daemon.errors import ServiceClosedError
from daemon.progress import Subscription
from daemon.service import TradingService

__all__ = ["KEEPALIVE_SECONDS", "EventStreams", "format_event", "router"]

KEEPALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2000

router = APIRouter(tags=["events"])


def format_event(name: str, data: Any, event_id: int | None = None) -> str:
    """One server-sent event: its id, its name, and its data as one line of JSON."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class EventStreams:
    """The open streams of one app, so that a shutting-down server can end them all."""

    def __init__(self) -> None:
        self._open: set[Subscription] = set()
        self._closed = False

    def __repr__(self) -> str:
        return f"<EventStreams open={len(self._open)} closed={self._closed}>"

    @property
    def closed(self) -> bool:
        """True once ``close`` was called: new streams are refused."""
        return self._closed

    @property
    def open_count(self) -> int:
        """How many streams are open now."""
        return len(self._open)

    def track(self, subscription: Subscription) -> None:
        """A stream opened."""
        self._open.add(subscription)

    def untrack(self, subscription: Subscription) -> None:
        """A stream ended."""
        self._open.discard(subscription)

    async def close(self) -> None:
        """End every open stream (each sends what it holds, then finishes) and refuse new ones."""
        self._closed = True
        for subscription in list(self._open):
            await subscription.aclose()


async def _stream(service: TradingService, streams: EventStreams) -> AsyncIterator[str]:
    subscription = service.subscribe()
    streams.track(subscription)
    try:
        # Subscribed before the snapshot: nothing falls between the two (an event may show twice,
        # and each carries the whole parent, so applying it again changes nothing).
        parents = [view.to_dict() for view in await service.list_parents()]
        yield f"retry: {RETRY_MILLISECONDS}\n" + format_event("snapshot", {"parents": parents}, 0)
        number = 0
        while True:
            event = None
            with anyio.move_on_after(KEEPALIVE_SECONDS):
                try:
                    event = await subscription.__anext__()
                except StopAsyncIteration:
                    return
            if event is None:
                yield ": keepalive\n\n"
                continue
            number += 1
            yield format_event(event.kind, event.to_dict(), number)
    finally:
        streams.untrack(subscription)
        with anyio.CancelScope(shield=True):
            await subscription.aclose()


@router.get(
    "/v1/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "Server-sent events: ``snapshot`` first, then every progress event.",
        },
        503: {"model": ErrorOut, "description": "The server is shutting down."},
    },
    summary="The live progress stream",
)
async def events(request: Request, service: Service) -> StreamingResponse:
    """Server-sent events: ``snapshot`` (every parent now), then ``parent_created``,
    ``parent_progress``, ``fill`` and ``parent_final`` as they happen, each with the parent's view."""
    streams: EventStreams = request.app.state.event_streams
    if streams.closed:
        raise ServiceClosedError("the API is shutting down")
    return StreamingResponse(
        _stream(service, streams),
        status_code=status.HTTP_200_OK,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )

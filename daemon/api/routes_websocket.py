"""``/v1/events/ws``: the live progress stream over a WebSocket, for clients that prefer one.

The same events as ``/v1/events``, each one JSON text message ``{"event", "id", "data"}``:
``snapshot`` first, then every ``ProgressEvent``. The token comes in the handshake's
``Authorization: Bearer`` header or, since a browser's ``WebSocket`` cannot send headers, as the
first message ``{"token": "..."}`` within ``LOGIN_SECONDS``; a wrong or missing token closes the
socket with code 1008 (policy violation). The server's shutdown closes it with 1001 (going away).
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status

from daemon.api.auth import TokenCheck
from daemon.api.routes_events import EventStreams
from daemon.progress import Subscription
from daemon.service import TradingService

__all__ = ["LOGIN_SECONDS", "router"]

LOGIN_SECONDS = 10.0

router = APIRouter()


def _message(name: str, data: Any, event_id: int) -> str:
    return json.dumps({"event": name, "id": event_id, "data": data}, separators=(",", ":"))


def _token_in_header(websocket: WebSocket) -> str | None:
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _token_in_first_message(websocket: WebSocket) -> str | None:
    with anyio.move_on_after(LOGIN_SECONDS):
        try:
            login = json.loads(await websocket.receive_text())
        except (ValueError, KeyError):
            return None
        token = login.get("token") if isinstance(login, dict) else None
        return token if isinstance(token, str) else None
    return None


async def _forward(websocket: WebSocket, service: TradingService, subscription: Subscription) -> None:
    parents = [view.to_dict() for view in await service.list_parents()]
    await websocket.send_text(_message("snapshot", {"parents": parents}, 0))
    number = 0
    async for event in subscription:
        number += 1
        await websocket.send_text(_message(event.kind, event.to_dict(), number))


async def _until_client_leaves(websocket: WebSocket) -> None:
    try:
        while True:
            await websocket.receive_text()  # the stream is one-way: anything sent is ignored
    except (WebSocketDisconnect, KeyError):
        return


@router.websocket("/v1/events/ws")
async def events_websocket(websocket: WebSocket) -> None:
    """The progress stream as JSON messages; see the module docstring for the token."""
    check: TokenCheck = websocket.app.state.token_check
    streams: EventStreams = websocket.app.state.event_streams
    service: TradingService = websocket.app.state.service
    await websocket.accept()
    token = _token_in_header(websocket) or await _token_in_first_message(websocket)
    if token is None or not check.matches(token):
        await websocket.close(
            code=status.WS_1008_POLICY_VIOLATION, reason="the API token is missing or wrong"
        )
        return
    if streams.closed:
        await websocket.close(code=status.WS_1001_GOING_AWAY, reason="the API is shutting down")
        return
    subscription = service.subscribe()
    streams.track(subscription)
    ended_by_server = False
    try:
        async with anyio.create_task_group() as task_group:

            async def forward_then_stop() -> None:
                nonlocal ended_by_server
                await _forward(websocket, service, subscription)
                ended_by_server = True  # the subscription ended: the server or service is stopping
                task_group.cancel_scope.cancel()

            async def watch_then_stop() -> None:
                await _until_client_leaves(websocket)
                task_group.cancel_scope.cancel()

            task_group.start_soon(forward_then_stop)
            task_group.start_soon(watch_then_stop)
    except WebSocketDisconnect:
        return
    finally:
        streams.untrack(subscription)
        with anyio.CancelScope(shield=True):
            await subscription.aclose()
    if ended_by_server:
        await websocket.close(code=status.WS_1001_GOING_AWAY, reason="the API is shutting down")

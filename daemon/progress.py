"""The progress stream: every subscriber gets every ``ProgressEvent`` published after it subscribed.

A subscriber that falls ``buffer`` events behind is dropped (its iteration ends) rather than
holding up the service: the stream is for watching, the journal and the views are the record.
"""

from __future__ import annotations

from types import TracebackType

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from daemon.views import ProgressEvent

__all__ = ["ProgressBroadcaster", "Subscription"]


class Subscription:
    """An async iterator of ``ProgressEvent``; use it in ``async with`` or ``aclose()`` it when done."""

    def __init__(
        self,
        broadcaster: ProgressBroadcaster,
        send: MemoryObjectSendStream[ProgressEvent],
        receive: MemoryObjectReceiveStream[ProgressEvent],
    ) -> None:
        self._broadcaster = broadcaster
        self._send = send
        self._receive = receive

    def __repr__(self) -> str:
        return f"<Subscription buffered={self._receive.statistics().current_buffer_used}>"

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> ProgressEvent:
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop receiving."""
        self._broadcaster._drop(self._send)
        self._receive.close()


class ProgressBroadcaster:
    """Fans published events out to the current subscribers, without waiting."""

    def __init__(self, buffer: int = 1000) -> None:
        self._buffer = buffer
        self._subscribers: set[MemoryObjectSendStream[ProgressEvent]] = set()

    def __repr__(self) -> str:
        return f"<ProgressBroadcaster subscribers={len(self._subscribers)}>"

    @property
    def has_subscribers(self) -> bool:
        """True while anyone listens (the service skips building events for nobody)."""
        return bool(self._subscribers)

    def subscribe(self) -> Subscription:
        """A new subscription that sees every event published from now on."""
        send, receive = anyio.create_memory_object_stream[ProgressEvent](self._buffer)
        self._subscribers.add(send)
        return Subscription(self, send, receive)

    def publish(self, event: ProgressEvent) -> None:
        """Hand ``event`` to every subscriber; one that cannot keep up is dropped."""
        for send in list(self._subscribers):
            try:
                send.send_nowait(event)
            except (anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._drop(send)

    def close(self) -> None:
        """End every subscription (their iterations stop once they have read what is buffered)."""
        for send in list(self._subscribers):
            self._drop(send)

    def _drop(self, send: MemoryObjectSendStream[ProgressEvent]) -> None:
        self._subscribers.discard(send)
        send.close()

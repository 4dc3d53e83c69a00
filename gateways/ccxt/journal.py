"""Our own sequence numbers for a venue's events, kept so that a reader who lost its place replays.

Real venues number nothing the engine can resubscribe from, so every event the gateway makes gets
the next number here (1, 2, 3, ...) and is kept; ``read(after_sequence=n)`` yields everything above
``n`` and then waits for more. The newest ``retain`` events are kept (a reader further behind than
that gets ``InvalidInputError`` naming ``after_sequence``). ``fail`` ends every reader waiting now
with ``EventStreamDroppedError`` (the gateway calls it only when its reconciliation could not cover
a dropped stream); readers who subscribe again wait for what comes next. ``close`` ends the readers
(when the gateway closes) once they have read everything kept.
"""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator

import anyio
import attrs

from engine.errors import EventStreamDroppedError, InvalidInputError
from engine.events import ExecutionEvent

__all__ = ["EventJournal"]


class EventJournal:
    """Numbers events, keeps the newest ``retain`` of them and serves readers from any point."""

    def __init__(self, retain: int = 100_000) -> None:
        if isinstance(retain, bool) or not isinstance(retain, int) or retain < 1:
            raise InvalidInputError("retain", retain, "expected a whole number of events, at least 1")
        self._events: collections.deque[ExecutionEvent] = collections.deque(maxlen=retain)
        self._last = 0
        self._changed = anyio.Event()
        self._failures = 0
        self._closed = False

    def __repr__(self) -> str:
        return f"<EventJournal [last sequence: {self._last}, kept: {len(self._events)}]>"

    @property
    def last_sequence(self) -> int:
        """The number of the newest event (0 before the first)."""
        return self._last

    def append(self, event: ExecutionEvent) -> ExecutionEvent:
        """Give ``event`` the next sequence number, keep it and wake the readers; return it numbered."""
        self._last += 1
        numbered: ExecutionEvent = attrs.evolve(event, sequence=self._last)
        self._events.append(numbered)
        self._wake()
        return numbered

    def close(self) -> None:
        """End every reader once it has what was kept (the gateway closed)."""
        self._closed = True
        self._wake()

    def fail(self) -> None:
        """End the readers waiting now with ``EventStreamDroppedError``."""
        self._failures += 1
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def _first_kept(self) -> int:
        return self._last - len(self._events) + 1

    async def read(self, after_sequence: int = 0) -> AsyncIterator[ExecutionEvent]:
        """Events numbered above ``after_sequence``, then each new one as it comes."""
        if isinstance(after_sequence, bool) or not isinstance(after_sequence, int) or after_sequence < 0:
            raise InvalidInputError("after_sequence", after_sequence, "expected a whole number ≥ 0")
        if self._events and after_sequence + 1 < self._first_kept():
            raise InvalidInputError(
                "after_sequence", after_sequence, f"older than the {len(self._events)} events kept"
            )
        position = after_sequence
        failures = self._failures
        while True:
            while position < self._last:
                index = position + 1 - self._first_kept()
                if index < 0:  # this reader fell further behind than the journal keeps
                    raise EventStreamDroppedError(position)
                event = self._events[index]
                position += 1
                yield event
            if self._failures != failures:
                raise EventStreamDroppedError(position)
            if self._closed:
                return
            await self._changed.wait()

"""The venue's event stream: a sequenced journal, delivery with latency, faults and replay.

Every event the venue publishes gets the next sequence number in the journal (the venue's own
record, in sequence order, journal.py). It is delivered on the wire after the event latency, in
publish order unless a fault says otherwise. The wire's delivered entries form one feed that every
subscription reads, so all subscribers see the same thing. The wire carries sequence numbers; a
subscription writes each event from the journal as it yields it. Without faults the feed is
sequences 1, 2, 3, ... and is kept as a count.

Resubscribing after ``EventStreamDroppedError(last_sequence)``: pass
``after_sequence=error.last_sequence``. ``last_sequence`` is the subscription's *watermark*: the
highest sequence ``n`` such that it yielded every event from the start (or its own
``after_sequence``) up to ``n``. With reordering, a consumer may have seen events above it, and
the replay delivers those again: consumers must ignore sequences (or trade ids) they have seen.
A new subscription first replays, in sequence order and without duplicates, every event above
``after_sequence`` that the wire had already delivered, then continues live.
"""

from __future__ import annotations

import math
import random
from array import array
from collections import deque
from collections.abc import AsyncIterator

import anyio
import attrs

from engine.clock import now
from engine.errors import EventStreamDroppedError
from engine.events import ExecutionEvent
from gateways.simulated.config import LatencyModel
from gateways.simulated.faults import FaultInjector
from gateways.simulated.journal import EventJournal

__all__ = ["EventWire"]

# How long a held-back event waits for a successor to overtake it before it goes out anyway.
_REORDER_WINDOW = 1.0


# A marker in the feed (where sequences start at 1): the connection dropped here.
_DROP = 0


@attrs.define
class _Held:
    deadline: float
    entries: list[int]


class _InOrderFeed:
    """The feed of a wire without faults: every event is delivered once, in sequence order, so
    entry ``i`` is sequence ``i + 1`` and only their count, ``length``, is kept."""

    __slots__ = ("length",)

    def __init__(self) -> None:
        self.length = 0

    def extend_to(self, sequence: int) -> None:
        """Every sequence up to ``sequence`` is delivered."""
        assert sequence > self.length, (sequence, self.length)
        self.length = sequence


class _Watermark:
    """The highest sequence below which everything has been seen."""

    def __init__(self, start: int) -> None:
        self.value = start
        self._above: set[int] = set()

    def see(self, sequence: int) -> None:
        if sequence == self.value + 1 and not self._above:  # in order: the common case
            self.value = sequence
        elif sequence > self.value:
            self._above.add(sequence)
            while self.value + 1 in self._above:
                self.value += 1
                self._above.discard(self.value)


class EventWire:
    """Journal, delivery task and subscriptions of one venue's execution events."""

    def __init__(
        self, latency: LatencyModel, faults: FaultInjector, seed: int, journal: EventJournal
    ) -> None:
        self._latency = latency
        self._faults = faults
        self._rng = random.Random(f"{seed}:events")
        self._journal = journal
        # Deliveries on their way: (time, sequence) per entry; without faults, (time, the last
        # sequence due then) per run of sequences published for one delivery time; without
        # latency either, none (see ``_due_at_once``).
        self._pending: deque[tuple[float, int]] = deque()
        self._held: _Held | None = None
        self._last_delivery = -math.inf
        # Delivered sequences, and drop markers; without faults, only how many were delivered.
        self._in_order: _InOrderFeed | None = None if faults.enabled else _InOrderFeed()
        self._feed = array("q")  # with faults (unused without)
        # Made when a subscriber first waits on it, so deliveries nobody waits for cost no event.
        self._feed_changed: anyio.Event | None = None
        self._wake = anyio.Event()
        self._woken = False  # the wake is set and the run loop has not taken it yet
        self._subscriptions: list[int] = []  # the feed index each live subscription started at
        self._last_drop = -1  # feed index of the latest drop marker
        self._delivered = 0
        self._closed = False
        # Without event latency every delay is 0: no draws (this generator serves nothing else).
        self._instant = latency.event == 0 and latency.event_jitter == 0
        # Without faults as well, every event is due as it is published: nothing is kept pending,
        # and the wire delivers up to the journal's last sequence whenever it runs.
        self._due_at_once = self._instant and self._in_order is not None

    def __repr__(self) -> str:
        return (
            f"<EventWire published={len(self._journal)} delivered={self._delivered} "
            f"in_flight={self._in_flight()} subscribers={len(self._subscriptions)}>"
        )

    def _in_flight(self) -> int:
        if self._in_order is not None:
            return len(self._journal) - self._in_order.length
        return len(self._pending)

    @property
    def last_sequence(self) -> int:
        """The sequence of the latest published event (0 before any)."""
        return len(self._journal)

    @property
    def delivered(self) -> int:
        """How many events (duplicates included) the wire delivered."""
        return self._delivered

    def publish(self, sequence: int, time: float) -> None:
        """Schedule the delivery of the journal's event ``sequence``, published at ``time``."""
        if self._due_at_once:
            # The first event published since the wire last ran wakes it; it takes the later ones
            # along (whatever the journal holds by then, so nothing waits on one event's wake).
            if not self._woken:
                self._woken = True
                self._wake.set()
            return
        if self._instant:
            deliver_at = time
        else:
            delay = self._latency.event + self._rng.uniform(0.0, self._latency.event_jitter)
            deliver_at = max(time + delay, self._last_delivery)
        self._last_delivery = deliver_at
        if self._in_order is not None:
            pending = self._pending
            if pending and pending[-1][0] == deliver_at:
                pending[-1] = (deliver_at, sequence)  # due with the run ahead of it
            else:
                pending.append((deliver_at, sequence))
            self._wake.set()
            return
        entries = [sequence]
        if self._journal.is_fill(sequence) and self._faults.fire("duplicate_fill"):
            entries.append(sequence)
        if self._held is not None:
            # The held event goes out right behind this one: that is the reordering.
            entries.extend(self._held.entries)
            self._held = None
            self._faults.count("reorder_events")
            self._pending.extend((deliver_at, entry) for entry in entries)
        elif self._faults.roll("reorder_events"):
            self._held = _Held(deliver_at + _REORDER_WINDOW, entries)
        else:
            self._pending.extend((deliver_at, entry) for entry in entries)
        self._wake.set()

    def close(self) -> None:
        """End every subscription once it has read what was delivered."""
        self._closed = True
        self._notify()

    def _notify(self) -> None:
        if self._feed_changed is not None:
            self._feed_changed.set()
            self._feed_changed = None

    def _changed(self) -> anyio.Event:
        """The event the next feed change (or the close) sets."""
        if self._feed_changed is None:
            self._feed_changed = anyio.Event()
        return self._feed_changed

    def _deliver(self, entries: list[int]) -> None:
        feed = self._feed
        for entry in entries:
            feed.append(entry)
            self._delivered += 1
            # Only a subscription that started after the last drop is still connected; with
            # none, there is no connection to drop.
            connected = any(start > self._last_drop for start in self._subscriptions)
            if connected and self._faults.fire("drop_stream"):
                self._last_drop = len(feed)
                feed.append(_DROP)
        self._notify()

    async def run(self) -> None:
        """Deliver pending events at their times; runs in the venue's task group."""
        while True:
            if self._wake.is_set():
                self._wake = anyio.Event()
                self._woken = False
            current = now()
            pending = self._pending
            in_order = self._in_order
            if in_order is not None:
                last = len(self._journal) if self._due_at_once else 0
                while pending and pending[0][0] <= current:
                    last = pending.popleft()[1]
                if last > in_order.length:
                    self._delivered += last - in_order.length
                    in_order.extend_to(last)
                    self._notify()
            due = []
            while pending and pending[0][0] <= current:
                due.append(pending.popleft()[1])
            if self._held is not None and self._held.deadline <= current:
                due.extend(self._held.entries)
                self._held = None
            if due:
                self._deliver(due)
            times = [self._pending[0][0]] if self._pending else []
            if self._held is not None:
                times.append(self._held.deadline)
            if times:
                with anyio.move_on_after(min(times) - current):
                    await self._wake.wait()
            else:
                await self._wake.wait()

    def subscribe(self, after_sequence: int) -> AsyncIterator[ExecutionEvent]:
        """Replay delivered events above ``after_sequence``, then follow the feed live."""
        if self._in_order is not None:
            return self._follow_in_order(self._in_order, after_sequence)
        return self._follow(after_sequence)

    async def _follow_in_order(
        self, feed: _InOrderFeed, after_sequence: int
    ) -> AsyncIterator[ExecutionEvent]:
        """``subscribe`` without faults: the feed is sequences 1, 2, ... and never drops, so the
        replay and the live stream are one count (and no watermark is needed)."""
        start = feed.length
        self._subscriptions.append(start)
        event = self._journal.event
        try:
            sequence = after_sequence
            while True:
                # Replayed (up to ``start``) or live, every delivered sequence above the last yielded.
                while sequence < feed.length:
                    sequence += 1
                    yield event(sequence)
                if self._closed:
                    return
                await self._changed().wait()
        finally:
            self._subscriptions.remove(start)

    async def _follow(self, after_sequence: int) -> AsyncIterator[ExecutionEvent]:
        """``subscribe`` with faults: the feed may hold duplicates, reordered entries and drops."""
        start = len(self._feed)
        watermark = _Watermark(after_sequence)
        replay = sorted({entry for entry in self._feed[:start] if entry > after_sequence})
        self._subscriptions.append(start)
        journal = self._journal
        try:
            for sequence in replay:
                watermark.see(sequence)
                yield journal.event(sequence)
            index = start
            while True:
                if index < len(self._feed):
                    entry = self._feed[index]
                    index += 1
                    if entry == _DROP:
                        raise EventStreamDroppedError(watermark.value)
                    if entry > after_sequence:
                        watermark.see(entry)
                        yield journal.event(entry)
                    continue
                if self._closed:
                    return
                await self._changed().wait()
        finally:
            self._subscriptions.remove(start)

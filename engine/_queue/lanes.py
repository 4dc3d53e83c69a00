"""The order queue's bookkeeping: priority lanes, the room line, back-off and deadline timers.

Each lane is a FIFO of fresh requests plus a small heap of requests put back after a failed
attempt, ordered by when they were first taken out (so a retry keeps its place at the front). Removal is
lazy: a withdrawn request stays in its container and is skipped when it reaches the front, which
keeps every operation O(1) or O(log n) and a queued request down to one deque slot.
"""

from __future__ import annotations

import collections
import heapq
import itertools
from collections.abc import Iterator

import anyio

from engine._queue.handle import HandleState, Lane, OrderHandle
from engine.rate_limits import RequestKind

__all__ = ["Lanes"]


_UNSENT = (HandleState.QUEUED, HandleState.DELAYED, HandleState.WAITING_FOR_ROOM)
_LANES = tuple(Lane)
_PERMITS = (RequestKind.LOOKUP, RequestKind.QUOTE)


class Lanes:
    """Where every request that is not in flight waits; see the module docstring."""

    def __init__(self, max_queued: int) -> None:
        self._max_queued = max_queued
        self._fresh: list[collections.deque[OrderHandle]] = [collections.deque() for _ in _LANES]
        self._returned: list[list[tuple[int, OrderHandle]]] = [[] for _ in _LANES]
        self._queued = [0] * len(_LANES)
        self._queued_total = 0
        # look-up and quote permits wait in the lanes too (for their priority), but they are not
        # orders: they never count toward ``max_queued``, so they cannot refuse a submit
        self._permits = [0] * len(_LANES)
        self._permits_total = 0
        self._held: collections.deque[OrderHandle] = collections.deque()
        self._held_count = 0
        self._delayed: list[tuple[float, int, OrderHandle]] = []
        self._delayed_count = 0
        self._deadlines: list[tuple[float, int, OrderHandle]] = []
        self._sequence = itertools.count()
        self._tiebreak = itertools.count()
        self._room: anyio.Event | None = None
        self._head_source: collections.deque[OrderHandle] | list[tuple[int, OrderHandle]] | None = None

    # -- sizes ---------------------------------------------------------------------------------

    def is_full(self) -> bool:
        """True when the lanes hold ``max_queued`` orders and cancels (permits do not count)."""
        return self._queued_total - self._permits_total >= self._max_queued

    def has_no_room(self) -> bool:
        """True when a new order must wait for a place: the lanes are full, or others wait already."""
        return bool(self._held_count) or self._queued_total - self._permits_total >= self._max_queued

    @property
    def waiting_for_room(self) -> int:
        """Requests accepted while the queue was full, not yet in their lane."""
        return self._held_count

    @property
    def delayed(self) -> int:
        """Requests backing off before their next attempt."""
        return self._delayed_count

    @property
    def permits_waiting(self) -> int:
        """Look-up and quote permits waiting in the lanes for their capacity."""
        return self._permits_total

    def queued_per_lane(self) -> tuple[tuple[str, int], ...]:
        """``(lane name, orders and cancels waiting in it)`` for every lane; permits not counted."""
        return tuple((lane.name, self._queued[lane] - self._permits[lane]) for lane in _LANES)

    async def wait_for_room(self) -> None:
        """Wait until the next time room appears."""
        if self._room is None:
            self._room = anyio.Event()
        await self._room.wait()

    # -- entering ------------------------------------------------------------------------------

    def _watch_deadline(self, handle: OrderHandle) -> None:
        if handle._deadline is not None:
            heapq.heappush(self._deadlines, (handle._deadline, next(self._tiebreak), handle))

    def push(self, handle: OrderHandle) -> None:
        """Put a new request at the back of its lane."""
        handle._move_to(HandleState.QUEUED)
        self._fresh[handle._lane].append(handle)
        self._queued[handle._lane] += 1
        self._queued_total += 1
        if handle._request in _PERMITS:
            self._count_permit(handle, 1)
        self._watch_deadline(handle)

    def _count_permit(self, handle: OrderHandle, change: int) -> None:
        self._permits[handle._lane] += change
        self._permits_total += change

    def hold(self, handle: OrderHandle) -> None:
        """Keep a request that found the queue full in line for a place."""
        handle._move_to(HandleState.WAITING_FOR_ROOM)
        self._held.append(handle)
        self._held_count += 1
        self._watch_deadline(handle)

    def put_back(self, handle: OrderHandle) -> None:
        """Return a request after a failed attempt, at its original place in its lane."""
        handle._move_to(HandleState.QUEUED)
        heapq.heappush(self._returned[handle._lane], (handle._sequence, handle))
        self._queued[handle._lane] += 1
        self._queued_total += 1
        if handle._request in _PERMITS:  # never happens today: permits are not retried
            self._count_permit(handle, 1)
        self._watch_deadline(handle)

    def delay(self, handle: OrderHandle, due: float) -> None:
        """Hold a request back until ``due``, then put it back in its lane."""
        handle._move_to(HandleState.DELAYED)
        heapq.heappush(self._delayed, (due, next(self._tiebreak), handle))
        self._delayed_count += 1
        self._watch_deadline(handle)

    # -- leaving -------------------------------------------------------------------------------

    def forget(self, handle: OrderHandle) -> None:
        """Stop counting an unsent request that is about to be finished (it is skipped later)."""
        state = handle._state
        if state is HandleState.QUEUED:
            self._queued[handle._lane] -= 1
            self._queued_total -= 1
            if handle._request in _PERMITS:
                self._count_permit(handle, -1)
        elif state is HandleState.DELAYED:
            self._delayed_count -= 1
        elif state is HandleState.WAITING_FOR_ROOM:
            self._held_count -= 1
        handle._move_to(HandleState.DONE)
        self._admit()

    def peek(self) -> OrderHandle | None:
        """The next request to send: the front of the highest-priority non-empty lane."""
        for lane in _LANES:
            returned = self._returned[lane]
            while returned and returned[0][1]._state is not HandleState.QUEUED:
                heapq.heappop(returned)
            if returned:
                self._head_source = returned
                return returned[0][1]
            fresh = self._fresh[lane]
            while fresh and fresh[0]._state is not HandleState.QUEUED:
                fresh.popleft()
            if fresh:
                self._head_source = fresh
                return fresh[0]
        return None

    def pop(self, handle: OrderHandle) -> None:
        """Remove the request ``peek`` just returned; it is going out."""
        source = self._head_source
        if isinstance(source, collections.deque):
            source.popleft()
        elif source is not None:
            heapq.heappop(source)
        self._head_source = None
        handle._sequence = next(self._sequence)  # its place, should it come back for another attempt
        self._queued[handle._lane] -= 1
        self._queued_total -= 1
        if handle._request in _PERMITS:
            self._count_permit(handle, -1)
        handle._move_to(HandleState.IN_FLIGHT)
        self._admit()

    def take_direct(self, handle: OrderHandle) -> None:
        """A request that goes out at once, the lanes being empty: give it its place all the same."""
        handle._sequence = next(self._sequence)
        handle._move_to(HandleState.IN_FLIGHT)

    def is_idle(self, now: float) -> bool:
        """True when nothing waits in a lane and no back-off or deadline is due."""
        if self._queued_total or self._held_count:
            return False
        # no timer at all is the common case: skip the heaps' clean-up
        return (not self._delayed and not self._deadlines) or self.next_timer() > now

    def _admit(self) -> None:
        held = self._held
        while held and not self.is_full():
            handle = held.popleft()
            if handle._state is HandleState.WAITING_FOR_ROOM:
                self._held_count -= 1
                self.push(handle)
        if self._room is not None and not self.is_full() and not self._held_count:
            self._room.set()
            self._room = None

    # -- timers --------------------------------------------------------------------------------

    def promote_due(self, now: float) -> None:
        """Put every delayed request whose back-off is over back in its lane."""
        delayed = self._delayed
        while delayed and delayed[0][0] <= now:
            handle = heapq.heappop(delayed)[2]
            if handle._state is HandleState.DELAYED:
                self._delayed_count -= 1
                self.put_back(handle)

    def expire(self, now: float) -> list[OrderHandle]:
        """Take out the unsent requests whose deadline has passed, and return them."""
        expired = []
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            handle = heapq.heappop(deadlines)[2]
            if handle._state in _UNSENT and not handle._outcome_unknown:
                self.forget(handle)
                expired.append(handle)
        return expired

    def next_timer(self) -> float:
        """When the next back-off or deadline falls due (``inf`` if none)."""
        delayed, deadlines = self._delayed, self._deadlines
        while delayed and delayed[0][2]._state is not HandleState.DELAYED:
            heapq.heappop(delayed)
        while deadlines and deadlines[0][2]._state not in _UNSENT:
            heapq.heappop(deadlines)
        return min(delayed[0][0] if delayed else float("inf"), deadlines[0][0] if deadlines else float("inf"))

    # -- shutdown ------------------------------------------------------------------------------

    def _everyone(self) -> Iterator[OrderHandle]:
        for lane in _LANES:
            yield from (handle for _, handle in self._returned[lane])
            yield from self._fresh[lane]
        yield from self._held
        yield from (handle for _, _, handle in self._delayed)

    def unsent(self, request: RequestKind) -> list[OrderHandle]:
        """Every request of this kind still waiting to be sent."""
        return [
            handle for handle in self._everyone() if handle._request is request and handle._state in _UNSENT
        ]

    def drain_unsent(self, keep: RequestKind | None = None) -> list[OrderHandle]:
        """Take out every request known not to be at the venue (for shutdown), but those of kind
        ``keep``, and return them."""
        unsent = [
            handle
            for handle in self._everyone()
            if handle._state in _UNSENT and not handle._outcome_unknown and handle._request is not keep
        ]
        for handle in unsent:
            self.forget(handle)
        return unsent

    def drain_all(self) -> list[OrderHandle]:
        """Take out every request still waiting, and empty every container."""
        left = [handle for handle in self._everyone() if handle._state in _UNSENT]
        for handle in left:
            self.forget(handle)
        for lane in _LANES:
            self._fresh[lane].clear()
            self._returned[lane].clear()
        self._held.clear()
        self._delayed.clear()
        self._deadlines.clear()
        return left

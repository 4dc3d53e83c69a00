"""The connection to the venue: requests travel with latency, in order, and answers travel back.

Each request arrives ``request`` latency (plus seeded jitter) after it was sent, but never before
the request sent ahead of it: the connection is FIFO, so a cancel never overtakes its submit. The
venue executes requests one at a time at their arrival; the answer takes another latency draw to
come back. An answer the venue drops leaves the caller waiting until ``request_timeout``, when it
gets ``OrderStateUnknownError``.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import deque
from collections.abc import Callable
from typing import Any

import anyio

from engine.clock import now
from engine.errors import GatewayError, GatewayUnavailableError, OrderStateUnknownError
from gateways.simulated.config import LatencyModel
from gateways.simulated.faults import FaultInjector

__all__ = ["Answer", "Execute", "PendingRequest", "RequestChannel"]


class PendingRequest:
    """A request sent at some time that arrives at the venue at ``arrival``.

    The venue answers it exactly once: with a result or an error (which travel back and are seen
    at ``reply_at``), or by dropping the answer (the caller then times out). A plain class with
    slots and an event made only when a caller waits: one is made per request.
    """

    __slots__ = ("_answered", "_done", "_error", "_result", "arrival", "client_order_id", "dropped",
                 "kind", "payload", "reply_at")

    def __init__(self, kind: str, client_order_id: str | None, payload: object, arrival: float) -> None:
        self.kind = kind
        self.client_order_id = client_order_id
        self.payload = payload
        self.arrival = arrival
        self.reply_at = 0.0
        self.dropped = False
        self._result: object = None
        self._error: GatewayError | None = None
        self._answered: anyio.Event | None = None
        self._done = False

    def __repr__(self) -> str:
        return f"<PendingRequest {self.kind} {self.client_order_id} arrival={self.arrival}>"

    def is_answered(self) -> bool:
        """True once the venue answered (or dropped the answer)."""
        return self._done

    async def wait_answered(self) -> None:
        """Wait until the venue answered (or dropped the answer)."""
        if not self.is_answered():
            if self._answered is None:
                self._answered = anyio.Event()
            await self._answered.wait()

    def _set(self) -> None:
        self._done = True
        if self._answered is not None:
            self._answered.set()

    def answer(self, result: object, reply_at: float) -> None:
        """The venue's successful answer."""
        self._result = result
        self.reply_at = reply_at
        self._set()

    def answer_error(self, error: GatewayError, reply_at: float) -> None:
        """The venue's error answer."""
        self._error = error
        self.reply_at = reply_at
        self._set()

    def fail(self, error: GatewayError) -> None:
        """The request never reached the venue; answer at once."""
        self.answer_error(error, 0.0)

    def drop(self) -> None:
        """The venue executed the request but its answer is lost."""
        self.dropped = True
        self._set()

    def result(self) -> object:
        """The answer, or raise the error answer."""
        if self._error is not None:
            raise self._error
        return self._result


# What the venue made of a request: ``(result, error, dropped)``; a dropped answer is lost on the
# way back. A plain tuple: one is made per request, and the caller unpacks it at once.
Answer = tuple[object, GatewayError | None, bool]

# ``execute(kind, client_order_id, payload, arrival)``: the venue runs one request at ``arrival``.
Execute = Callable[[str, str | None, object, float], Answer]


class RequestChannel:
    """The FIFO, latency-bearing connection between callers and the venue's ``execute``."""

    def __init__(
        self,
        latency: LatencyModel,
        faults: FaultInjector,
        seed: int,
        request_timeout: float,
        execute: Execute,
    ) -> None:
        self._latency = latency
        self._faults = faults
        self._rng = random.Random(f"{seed}:requests")
        self._timeout = request_timeout
        self._execute = execute
        self._inbox: deque[PendingRequest] = deque()
        self._wake = anyio.Event()
        self._last_arrival = -math.inf
        self._open = False
        # Without latency every delay is 0: no draws (this generator serves nothing else).
        self._instant = latency.request == 0 and latency.request_jitter == 0
        # The task that made the latest instant request, itself: its id() would be handed to a
        # new task once it is freed, and that new task would then count as sending in a loop.
        self._last_caller: asyncio.Task[Any] | None = None
        # The loop the channel was opened on: given it, asyncio finds the current task without
        # looking the running loop up (which costs more than the task look-up itself).
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"<RequestChannel open={self._open} in_flight={len(self._inbox)}>"

    def _delay(self) -> float:
        if self._instant:
            return 0.0
        return self._latency.request + self._rng.uniform(0.0, self._latency.request_jitter)

    def open(self) -> None:
        """Accept requests from now on, from tasks of the running loop."""
        self._open = True
        self._loop = asyncio.get_running_loop()

    def close(self) -> None:
        """Refuse new requests; those still travelling fail as never arrived."""
        self._open = False
        for request in self._inbox:
            request.fail(GatewayUnavailableError("the venue closed before the request arrived"))
        self._inbox.clear()

    async def send(self, kind: str, client_order_id: str | None, payload: object) -> object:
        """Send one request and wait for its answer; raise the venue's error, if any."""
        if not self._open:
            raise GatewayUnavailableError("the venue is not open; use `async with venue:`")
        if self._faults.enabled and self._faults.fire("unavailable"):
            raise GatewayUnavailableError(
                f"simulated connection failure before sending {kind}", client_order_id=client_order_id
            )
        sent_at = now()
        if self._instant and not self._inbox:
            # Without latency, and nothing ahead on the wire, the request arrives as it is sent:
            # it runs in the caller's task, with no hand-over to the run loop and back (two loop
            # passes). A task whose previous request was also the latest one may be sending in a
            # loop: it passes a checkpoint before it sees the answer, so it never hogs the loop.
            # Many tasks sending in turn (every parent at a slice time) are answered at once: a
            # checkpoint each would cost a loop pass per request, an eighth of a whole engine run.
            # (asyncio.sleep(0) is anyio's checkpoint on asyncio, minus two coroutine frames.)
            # The request is executed as it arrives, so it needs no ``PendingRequest``.
            result, error, dropped = self._execute(kind, client_order_id, payload, sent_at)
            if dropped:
                await asyncio.sleep(self._timeout)
                raise OrderStateUnknownError(
                    f"no answer to {kind} within {self._timeout}s", client_order_id=client_order_id
                )
            caller = asyncio.current_task(self._loop)
            if caller is self._last_caller:
                await asyncio.sleep(0)
            self._last_caller = caller
            if error is not None:
                raise error
            return result
        arrival = max(sent_at + self._delay(), self._last_arrival)
        self._last_arrival = arrival
        request = PendingRequest(kind, client_order_id, payload, arrival)
        self._inbox.append(request)
        if len(self._inbox) == 1:  # with requests queued, the run loop is busy, not waiting
            self._wake.set()
        with anyio.CancelScope(deadline=sent_at + self._timeout) as scope:
            await request.wait_answered()
            if not request.dropped:
                await anyio.sleep_until(request.reply_at)
                return request.result()
            await anyio.sleep_forever()
        assert scope.cancelled_caught
        raise OrderStateUnknownError(
            f"no answer to {kind} within {self._timeout}s", client_order_id=client_order_id
        )

    async def run(self) -> None:
        """Execute each request at its arrival, in sending order; runs in the venue's task group."""
        while True:
            while not self._inbox:
                if self._wake.is_set():
                    self._wake = anyio.Event()
                await self._wake.wait()
            request = self._inbox[0]
            await anyio.sleep_until(request.arrival)
            self._inbox.popleft()
            arrived = now()
            result, error, dropped = self._execute(
                request.kind, request.client_order_id, request.payload, arrived
            )
            if dropped:
                request.drop()
            elif error is not None:
                request.answer_error(error, arrived + self._delay())
            else:
                request.answer(result, arrived + self._delay())

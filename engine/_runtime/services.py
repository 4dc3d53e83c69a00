"""The queue and the monitor a run stands on, kept running until the run has cleaned up.

A cancellation from outside (a timeout around an execution, a shutdown) reaches every task inside
its scope at once. If it stopped the queue's dispatcher and the monitor too, parents cancelling
their resting children on the way out could neither send the cancels nor hear them confirmed, and
orders would stay resting at the venue. So the queue and the monitor run in a service task under a
shield, and stop only once the owner's body (its parents) is done; the queue then closes without
an error of its own, so it can report the orders it could not cancel (``OrdersLeftOpenError``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc

from engine._runtime.groups import holds_only, sole_error
from engine.errors import OrdersLeftOpenError
from engine.execution_monitor import ExecutionMonitor
from engine.rate_limited_queue import RateLimitedOrderQueue

__all__ = ["shielded_services"]

# A task started with ``task_group.start``: it calls ``task_status.started()`` once ready.
Service = Callable[..., Coroutine[Any, Any, Any]]


@asynccontextmanager
async def shielded_services(
    queue: RateLimitedOrderQueue, monitor: ExecutionMonitor, *services: Service
) -> AsyncIterator[None]:
    """Run ``queue`` (entered), ``monitor.run`` and ``services`` (each started with
    ``task_group.start``) under a shield for the body; stop them when the body is over.

    A failure of one of them cancels the body, as in any task group, and the queue stays open
    until the body is done (for at most a minute), so that parents cancelling their resting
    children on the way out can still send the cancels.
    """
    body_started, body_done = anyio.Event(), anyio.Event()

    async def serve(*, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        with anyio.CancelScope(shield=True):
            async with queue:
                try:
                    async with anyio.create_task_group() as group:
                        await group.start(monitor.run)
                        for service in services:
                            await group.start(service)
                        task_status.started()
                        body_started.set()
                        await body_done.wait()
                        # Stop the services and leave the queue without an error, so that its exit
                        # can report orders it could not cancel (OrdersLeftOpenError).
                        group.cancel_scope.cancel()
                except BaseException:
                    if body_started.is_set() and not body_done.is_set():
                        # A service failed: stop the body first, and close the queue only once
                        # it is done (its clean-up sends through the queue).
                        owner.cancel_scope.cancel()
                        with anyio.move_on_after(_BODY_GRACE):
                            await body_done.wait()
                    raise

    body_error: BaseException | None = None
    try:
        async with anyio.create_task_group() as owner:
            await owner.start(serve)
            try:
                yield
            except BaseException as error:
                body_error = error
                raise
            finally:
                body_done.set()  # the services stop, and the queue closes
    except BaseExceptionGroup as group:
        # The body's own error, or else the queue's report that it could not cancel every live
        # order, comes out as itself.
        found = (
            body_error
            if body_error is not None and holds_only(group, body_error)
            else sole_error(group, OrdersLeftOpenError)
        )
        if found is None:
            raise
        sole: BaseException = found
    else:
        return
    # The body's own error comes out as itself (raised here, outside the handler of its group).
    raise sole


# How long a failed service waits for the body's clean-up before the queue closes regardless.
_BODY_GRACE = 60.0

"""``TWAPHandle``: one parent run by an ``ExecutionEngine``, as the engine hands it back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import anyio
import structlog

from engine._monitor.status import CompletionStatus
from engine._twap.report import ExecutionReport
from engine._twap.runner import ParentRunner
from engine.errors import EngineError
from engine.execution_monitor import ExecutionMonitor
from engine.rate_limited_queue import RateLimitedOrderQueue

__all__ = ["HandleOwner", "TWAPHandle"]

_log = structlog.get_logger("engine.execution_engine")


class HandleOwner(Protocol):
    """What a handle needs from the engine that runs its parent."""

    @property
    def monitor(self) -> ExecutionMonitor: ...

    @property
    def queue(self) -> RateLimitedOrderQueue: ...

    def _finished(self, handle: TWAPHandle) -> None: ...


class TWAPHandle:
    """A parent run by the engine: ``status()``, ``await wait()`` for the report, ``cancel()``."""

    __slots__ = (
        "_cancel_requested",
        "_done_event",
        "_engine",
        "_error",
        "_final_status",
        "_is_done",
        "_parent_id",
        "_report",
        "_runner",
    )

    def __init__(self, engine: HandleOwner, parent_id: str, runner: ParentRunner | None = None) -> None:
        self._engine = engine
        self._parent_id = parent_id
        self._runner = runner
        # The event is made only for a waiter: thousands of parents may run at once.
        self._is_done = False
        self._done_event: anyio.Event | None = None
        self._cancel_requested = False
        self._error: BaseException | None = None
        self._final_status: CompletionStatus | None = None
        self._report: ExecutionReport | None = None

    def __repr__(self) -> str:
        if self._final_status is not None:
            state = self._final_status.state.value
        else:
            state = self._runner.parent.state.value if self._runner is not None else "planning"
        return f"<TWAPHandle {self._parent_id} state={state}>"

    @property
    def parent_id(self) -> str:
        """The parent order's id."""
        return self._parent_id

    def status(self) -> CompletionStatus:
        """The parent's progress now (raises ``InvalidInputError`` while it is still being planned)."""
        if self._final_status is not None:
            return self._final_status
        return self._engine.monitor.status(self._parent_id)

    def done(self) -> bool:
        """True once the parent is final and its report (or its error) is ready."""
        return self._is_done

    def cancel(self) -> None:
        """Stop new slices and cancel the resting children; ``wait()`` then gives the report."""
        self._cancel_requested = True
        if self._runner is not None:
            self._runner.cancel()

    async def wait(self) -> ExecutionReport:
        """Wait until the parent is final and return its report; re-raise a planning error."""
        await self._wait_done()
        if self._error is not None:
            raise self._error
        assert self._report is not None
        return self._report

    async def _wait_done(self) -> None:
        if not self._is_done:
            if self._done_event is None:
                self._done_event = anyio.Event()
            await self._done_event.wait()

    async def _run(self, prepare: Callable[[], Awaitable[ParentRunner]] | None = None) -> None:
        try:
            if prepare is not None:
                self._runner = await prepare()
            assert self._runner is not None
            if self._cancel_requested:
                self._runner.cancel()
            await self._runner.run()
        except Exception as error:
            self._error = error
            if self._runner is not None:
                _log.error("parent failed", parent_id=self._parent_id, error=repr(error))
        finally:
            if self._runner is not None:
                # Keep the report and the last status, and let go of the parent's working state:
                # a long-running engine must not grow with every parent it ever ran.
                self._report = self._runner.report
                if self._report is None and self._error is None:
                    # Stopped before it could report: the engine is closing or one of its tasks
                    # failed (its children were cancelled and settled on the way out).
                    self._error = EngineError(
                        f"parent {self._parent_id} was stopped by the engine before it reported"
                    )
                self._final_status = self._engine.monitor.status(self._parent_id)
                self._engine.monitor.forget(self._parent_id)
                if self._report is not None:
                    # The engine never submits its children again (a new order gets a new id):
                    # the queue may let their ids go. (A parent stopped before it reported keeps
                    # them: it may have children whose sends were cut off.)
                    report = self._report
                    self._engine.queue.forget_sent(
                        [cid for line in report.slices for cid in line.child_ids]
                        + list(report.completion_child_ids)
                    )
                self._runner = None
            self._is_done = True
            if self._done_event is not None:
                self._done_event.set()
            self._engine._finished(self)

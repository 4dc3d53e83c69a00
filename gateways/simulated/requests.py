"""One request in flight between a caller and the venue, and the answer it waits for."""

from __future__ import annotations

import anyio
import attrs

from engine.errors import GatewayError

__all__ = ["PendingRequest"]


@attrs.define(kw_only=True)
class PendingRequest:
    """A request sent at some time that arrives at the venue at ``arrival``.

    The venue answers it exactly once: with a result or an error (which travel back and are seen
    at ``reply_at``), or by dropping the answer (the caller then times out).
    """

    kind: str
    client_order_id: str | None
    payload: object
    arrival: float
    reply_at: float = 0.0
    dropped: bool = False
    _result: object = None
    _error: GatewayError | None = None
    _answered: anyio.Event = attrs.Factory(anyio.Event)

    async def wait_answered(self) -> None:
        """Wait until the venue answered (or dropped the answer)."""
        await self._answered.wait()

    def answer(self, result: object, reply_at: float) -> None:
        """The venue's successful answer."""
        self._result = result
        self.reply_at = reply_at
        self._answered.set()

    def answer_error(self, error: GatewayError, reply_at: float) -> None:
        """The venue's error answer."""
        self._error = error
        self.reply_at = reply_at
        self._answered.set()

    def fail(self, error: GatewayError) -> None:
        """The request never reached the venue; answer at once."""
        self.answer_error(error, 0.0)

    def drop(self) -> None:
        """The venue executed the request but its answer is lost."""
        self.dropped = True
        self._answered.set()

    def result(self) -> object:
        """The answer, or raise the error answer."""
        if self._error is not None:
            raise self._error
        return self._result

"""The queue's way out: the cancels still waiting are sent before it closes, within a grace.

Cancels outrank everything, also on the way out: an order left live at the venue would trade
unseen. So a closing queue keeps its cancels in their lane (and still takes new ones), waits for
them to get room under the limits and an answer, for up to its ``cancel_grace``, and then names
the orders whose cancels went unanswered.
"""

from __future__ import annotations

from collections.abc import Iterable

import anyio

from engine._queue.handle import OrderHandle, OrderResultStatus
from engine._queue.lanes import Lanes
from engine.rate_limits import RequestKind

__all__ = ["orders_left_open", "send_waiting_cancels"]

# What a cancel may end in once the venue answered it: taken, or refused (the order is final, or
# never arrived). Anything else leaves the order possibly live.
_ANSWERED = (OrderResultStatus.ACCEPTED, OrderResultStatus.REJECTED)


async def send_waiting_cancels(lanes: Lanes, grace: float) -> list[OrderHandle]:
    """Wait, shielded and for up to ``grace`` seconds, until no cancel waits to be sent and each
    waited for is answered; return those still unanswered then.

    (One that failed before, its attempts used up, is its sender's to follow up: it was told.)
    """
    waited: dict[int, OrderHandle] = {}
    with anyio.move_on_after(grace, shield=True):
        while waiting := lanes.unsent(RequestKind.CANCEL):
            for handle in waiting:
                waited[id(handle)] = handle
                await handle.wait()
    for handle in lanes.unsent(RequestKind.CANCEL):
        waited[id(handle)] = handle
    return [handle for handle in waited.values() if not handle.done()]


def orders_left_open(cancels: Iterable[OrderHandle]) -> tuple[str, ...]:
    """The ids of the orders whose cancels ended without the venue's answer (once each)."""
    return tuple(
        dict.fromkeys(
            handle.client_order_id
            for handle in cancels
            if not handle.done() or handle.result().status not in _ANSWERED
        )
    )

"""The snapshot ``RateLimitedOrderQueue.statistics()`` returns."""

from __future__ import annotations

import attrs

__all__ = ["QueueStatistics"]


@attrs.frozen
class QueueStatistics:
    """A snapshot of a :class:`RateLimitedOrderQueue`.

    ``queued_per_lane`` (and its sum, ``queued``) counts the orders and cancels waiting in each
    lane: what ``max_queued`` counts, so a new order waits for room (or is refused) once
    ``queued`` reaches it (only cancels, which are never held back, and retries returning to
    their place take it past). ``permits_waiting`` counts the look-ups and quotes waiting in the lanes
    for their capacity; they never count toward ``max_queued``.
    ``waiting_for_room`` counts requests accepted while the queue was full, not yet in a lane;
    ``delayed`` those backing off before another attempt. ``sent_ids_held`` counts the ids of
    sent orders the queue still refuses to send again (see ``forget_sent``).
    """

    queued_per_lane: tuple[tuple[str, int], ...]
    waiting_for_room: int
    delayed: int
    in_flight: int
    sent: int
    accepted: int
    rejected: int
    failed: int
    cancelled: int
    retries: int
    rate_limited: int
    lookups: int
    time_throttled: float
    rate_factor: float
    quotes: int = 0
    permits_waiting: int = 0
    sent_ids_held: int = 0

    @property
    def queued(self) -> int:
        """Orders and cancels waiting in the lanes (look-up and quote permits not counted)."""
        return sum(count for _, count in self.queued_per_lane)

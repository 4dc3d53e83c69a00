"""Which events of a venue's numbered stream are new: in order, out of order, or repeated."""

from __future__ import annotations

__all__ = ["EventSequence"]


class EventSequence:
    """The sequence numbers seen so far, and the highest below which none is missing.

    A venue replays events after a dropped stream and may deliver some twice or out of order;
    an event is new once. Numbering starts from the first event seen (a venue need not replay from
    1); an event without a number (0) is always new. Resubscribing ``after`` the complete-through
    number misses nothing.
    """

    __slots__ = ("_above", "_started", "complete_through", "repeated")

    def __init__(self) -> None:
        self.complete_through = 0
        self.repeated = 0
        self._above: set[int] = set()
        self._started = False

    def __repr__(self) -> str:
        return f"<EventSequence complete_through={self.complete_through} ahead={len(self._above)}>"

    def is_new(self, sequence: int) -> bool:
        """Count ``sequence`` as seen; False if it was seen before."""
        if sequence == self.complete_through + 1 and self._started and not self._above:
            self.complete_through = sequence  # the next in order, as almost every event is
            return True
        if sequence <= 0:
            return True
        if not self._started:
            self._started = True
            self.complete_through = min(self.complete_through, sequence - 1)
        if sequence <= self.complete_through or sequence in self._above:
            self.repeated += 1
            return False
        self._above.add(sequence)
        while self.complete_through + 1 in self._above:
            self.complete_through += 1
            self._above.discard(self.complete_through)
        return True

# attrs' mypy plugin reads only named functions as converters, and reports the rules of
# engine.fields as "unsupported" (it then types each __init__ argument as Any, which is right).
# mypy: disable-error-code="misc"
"""Faults at the wire, seeded: what a real venue's network and front end do to a client.

- ``drop_answer``: a new order is accepted by the venue, but its answer never comes: the server
  holds the request until the client gives up (``hold_seconds``, or the server stops), so the
  client sees a timeout and must look the order up;
- ``server_error``: a signed request is executed, then answered ``server_error_status`` (503 by
  default) without a Binance body: the execution status is unknown to the client, as Binance
  documents for its 5xx answers;
- ``slow``: a signed request is executed, then answered after ``slow_seconds``;
- ``close_user_stream``: before an ``executionReport`` goes out, the user-data WebSocket is closed
  instead; the report is lost on that connection (a client reconciles by REST).

Each is a probability per request (per report for the last one), drawn from ``random.Random`` of
the seed, so the same seed and the same requests give the same faults.
"""

from __future__ import annotations

import random
from typing import Any

import attrs

from engine.errors import InvalidInputError
from engine.fields import finite, probability

__all__ = ["WireFaultInjector", "WireFaults"]

KINDS = ("drop_answer", "server_error", "slow", "close_user_stream")


# The rules of engine.fields, each naming the field it converts.
_PROBABILITY = probability()
_SECONDS = finite(minimum=0.0)


def _status(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 500 <= value <= 599:
        raise InvalidInputError("server_error_status", value, "expected an HTTP status from 500 to 599")
    return value


@attrs.frozen
class WireFaults:
    """Probabilities of each wire fault (default none) and their timings."""

    drop_answer: float = attrs.field(default=0.0, converter=_PROBABILITY)
    server_error: float = attrs.field(default=0.0, converter=_PROBABILITY)
    slow: float = attrs.field(default=0.0, converter=_PROBABILITY)
    close_user_stream: float = attrs.field(default=0.0, converter=_PROBABILITY)
    hold_seconds: float = attrs.field(default=30.0, converter=_SECONDS)
    slow_seconds: float = attrs.field(default=0.5, converter=_SECONDS)
    server_error_status: int = attrs.field(default=503, converter=_status)

    @property
    def enabled(self) -> bool:
        """True if any fault may fire."""
        return any(getattr(self, kind) > 0 for kind in KINDS)


class WireFaultInjector:
    """Draws the faults of one server from its own seeded generator and counts those fired."""

    def __init__(self, faults: WireFaults, seed: int) -> None:
        self.faults = faults
        self._rng = random.Random(f"{seed}:wire")
        self._counts = dict.fromkeys(KINDS, 0)

    def __repr__(self) -> str:
        return f"<WireFaultInjector fired={self._counts}>"

    @property
    def counts(self) -> dict[str, int]:
        """How many times each fault fired."""
        return dict(self._counts)

    def fire(self, kind: str) -> bool:
        """Roll for ``kind``; count it if it fires."""
        probability: float = getattr(self.faults, kind)
        if probability <= 0 or self._rng.random() >= probability:
            return False
        self._counts[kind] += 1
        return True

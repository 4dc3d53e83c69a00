"""Client order ids: unique across processes and restarts, stable across retries, ≤ 32 characters.

An id is ``prefix`` + a random session token + a counter, all in base 62. The token holds 72 random
bits drawn once per generator (from the OS, or from a seed in backtests so reports are
reproducible), so two processes or two runs collide with negligible probability; the counter makes
ids inside one generator distinct. Seeded generators made for one ``scope`` (the engine and the
executor pass their venue) draw their tokens from the seed and their rank among them, so two
instances with one seed on one venue never share an id, and a fresh venue sees the same ids again.
An order keeps its id for its whole life: retries resend the same ``Order``, and a venue that
already holds the id refuses the duplicate.
"""

from __future__ import annotations

import itertools
import random
import re
import secrets
import sys
import threading
import weakref

from engine.errors import InvalidInputError
from engine.fields import seed_value

__all__ = ["ClientOrderIdGenerator", "new_client_order_id", "validate_client_order_id"]

MAX_LENGTH = 32
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_VALID = re.compile(r"[A-Za-z0-9_\-.:]{1,32}")
_TOKEN_LENGTH = 12  # at least (72 bits need 13 digits a third of the time; ids stay ≤ 32)


# Every two-digit string, "00" to "zz": a counter is written two digits per division.
_PAIRS = tuple(high + low for high in _ALPHABET for low in _ALPHABET)
_PAIR_BASE = 62 * 62


def _base62(number: int) -> str:
    pairs = []
    while number >= _PAIR_BASE:
        number, pair = divmod(number, _PAIR_BASE)
        pairs.append(_PAIRS[pair])
    pairs.append(_ALPHABET[number] if number < 62 else _PAIRS[number])  # no leading zero
    return "".join(reversed(pairs))


def _gil_enabled() -> bool:
    is_enabled = getattr(sys, "_is_gil_enabled", None)  # Python 3.13+; before, always on
    return True if is_enabled is None else bool(is_enabled())


def validate_client_order_id(value: object, field: str = "client_order_id") -> str:
    """Return ``value`` if it is a valid client order id, else raise ``InvalidInputError``."""
    if not isinstance(value, str) or not _VALID.fullmatch(value):
        raise InvalidInputError(
            field, value, "expected 1 to 32 characters of letters, digits, '_', '-', '.' or ':'"
        )
    return value


class ClientOrderIdGenerator:
    """Makes client order ids; thread-safe.

    ``prefix`` (at most 8 characters) tags the ids of one strategy or bot. ``seed`` makes the
    sequence reproducible, for backtests; leave it ``None`` in live trading. With a seed, the
    generators made for one ``scope`` (a venue) each get their own token, in the order they are
    made: the first draws from ``seed`` alone, the next ones from the seed and their rank.
    """

    def __init__(self, prefix: str = "", *, seed: int | None = None, scope: object = None) -> None:
        if not isinstance(prefix, str) or len(prefix) > 8 or (prefix and not _VALID.fullmatch(prefix)):
            raise InvalidInputError("prefix", prefix, "expected at most 8 id characters")
        seed_value(seed)
        if seed is None:
            bits = secrets.randbits(72)
        else:
            rank = _seeded_rank(scope, prefix, seed)
            bits = random.Random(seed if rank == 0 else f"{seed}:{rank}").getrandbits(72)
        self._prefix = prefix + _base62(bits).rjust(_TOKEN_LENGTH, "0")
        self._counter = itertools.count(1)
        # With the GIL, ``next`` on a count is one atomic C call: no lock needed, where taking
        # one would be about a third of an id's cost (an id is made per child order).
        self._lock = None if _gil_enabled() else threading.Lock()
        # (high, prefix + high's digits): the counter's digits above the last two, written once
        # per 3,844 ids. One tuple, read and replaced whole, so threads never mix two of them.
        self._head: tuple[int, str] = (-1, "")

    def __repr__(self) -> str:
        return f"<ClientOrderIdGenerator prefix={self._prefix!r}>"

    def next_id(self) -> str:
        """Return a new id, different from every id this generator returned before."""
        if self._lock is None:
            number = next(self._counter)
        else:
            with self._lock:
                number = next(self._counter)
        if number < _PAIR_BASE:
            return self._prefix + (_ALPHABET[number] if number < 62 else _PAIRS[number])
        high, low = divmod(number, _PAIR_BASE)
        head = self._head
        if head[0] != high:
            head = self._head = (high, self._prefix + _base62(high))
        client_order_id = head[1] + _PAIRS[low]
        if len(client_order_id) > MAX_LENGTH:  # pragma: no cover - needs 62**12 ids
            raise OverflowError("client order id counter exhausted; make a new generator")
        return client_order_id

    __call__ = next_id


# Per scope (a venue), how many seeded generators of each (prefix, seed) were made for it.
_seeded: weakref.WeakKeyDictionary[object, dict[tuple[str, int], int]] = weakref.WeakKeyDictionary()
_seeded_lock = threading.Lock()


def _seeded_rank(scope: object, prefix: str, seed: int) -> int:
    """How many generators of this prefix and seed were made for ``scope`` before (0 without one)."""
    if scope is None:
        return 0
    with _seeded_lock:
        try:
            made = _seeded.setdefault(scope, {})
        except TypeError:  # a scope that cannot be referenced weakly: ids as without one
            return 0
        rank = made.get((prefix, seed), 0)
        made[(prefix, seed)] = rank + 1
    return rank


_default_generator = ClientOrderIdGenerator()


def new_client_order_id() -> str:
    """Return a fresh id from the process-wide generator (the default for new orders)."""
    return _default_generator.next_id()

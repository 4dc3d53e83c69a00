"""The ``Idempotency-Key`` header of the POSTs: a retried request never makes a second parent.

The key goes to the trading service with the request: the same key with the same body returns
the first result; with another body it is refused (422). Keys are 1 to 200 printable ASCII
characters; the quoted form of the IETF draft (``Idempotency-Key: "abc"``) is accepted too.
Requests that share a key run one at a time (``KeyLocks``): a retry sent while the first is still
being answered waits for it, then gets the same result, whatever the venue's quotes did meanwhile.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import anyio
from fastapi import Depends, Header

from engine.errors import InvalidInputError

__all__ = ["IdempotencyKey", "KeyLocks", "idempotency_key"]

MAX_KEY_LENGTH = 200


async def idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Any unique string (a UUID, say): a retry with the same key and body "
            "returns the first result instead of making a second parent.",
            max_length=MAX_KEY_LENGTH + 2,
        ),
    ] = None,
) -> str | None:
    """The header's key without its quotes, or None; a malformed key is a 422 naming the header."""
    if idempotency_key is None:
        return None
    key = idempotency_key.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= ch <= "~" for ch in key):
        raise InvalidInputError(
            "Idempotency-Key", idempotency_key, f"expected 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        )
    return key


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]


class KeyLocks:
    """One request at a time per idempotency key; a key's lock lives only while it is used."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[anyio.Lock, int]] = {}

    def __repr__(self) -> str:
        return f"<KeyLocks held={len(self._locks)}>"

    @asynccontextmanager
    async def hold(self, key: str | None) -> AsyncIterator[None]:
        """Wait until no other request with ``key`` runs, and run; no key, no waiting."""
        if key is None:
            yield
            return
        lock, users = self._locks.get(key) or (anyio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

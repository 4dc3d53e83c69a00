"""Bearer-token authentication: every API path but health carries ``Authorization: Bearer <token>``.

The token is compared in constant time (``hmac.compare_digest`` over bytes), so how much of a
guess matched does not show in the response time.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

__all__ = ["BEARER", "TokenCheck"]

# Documents the scheme in the OpenAPI schema (so /docs offers "Authorize"); the check is ours.
BEARER = HTTPBearer(auto_error=False, description="The daemon's API token.")


class TokenCheck:
    """A FastAPI dependency that refuses a request without the right bearer token (401)."""

    def __init__(self, token: str) -> None:
        self._expected = token.encode("utf-8")

    def __repr__(self) -> str:
        return "<TokenCheck>"

    def matches(self, presented: str) -> bool:
        """True when ``presented`` is the token (constant time in the presented value's content)."""
        return hmac.compare_digest(presented.encode("utf-8", "surrogateescape"), self._expected)

    async def __call__(
        self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
    ) -> None:
        if credentials is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="this path needs the header 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not self.matches(credentials.credentials):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="the bearer token is not the daemon's API token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )

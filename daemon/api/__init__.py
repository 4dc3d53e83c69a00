"""The daemon's control API, its metrics and its live page, over one ``TradingService``.

What lives here: the app factory (``app``), the server that runs it inside the daemon's task
group (``server``), bearer-token checks (``auth``) and where the token comes from (``token``),
request and response bodies (``schemas``), errors as responses (``problems``, the API's own
errors in ``errors``), the ``Idempotency-Key`` header (``idempotency``), one module of routes per
resource (``routes_twaps``, ``routes_parents``, ``routes_events``, ``routes_websocket``,
``routes_page``), the Prometheus collector (``metrics``) and the page's files (``static/``).

It may import ``daemon.service``, ``daemon.views``, ``daemon.progress``, ``daemon.errors``, the
``engine`` front and public modules, FastAPI, uvicorn and prometheus-client; in the daemon only
the runner that composes it (``daemon.app``) and the command line (for its errors) import it.

Progress goes out as server-sent events (``/v1/events``: plain HTTP, through proxies and
``curl -N``, with the bearer header) and, for clients that prefer one, over a WebSocket
(``/v1/events/ws``). The page reads the SSE stream.
"""

from __future__ import annotations

from daemon.api.app import create_app
from daemon.api.errors import ApiBindError, ApiTokenError, ApiTokenFileError
from daemon.api.server import ApiAddress, serve_api
from daemon.api.token import TOKEN_ENVIRONMENT_VARIABLE, ApiToken, resolve_api_token

__all__ = [
    "TOKEN_ENVIRONMENT_VARIABLE",
    "ApiAddress",
    "ApiBindError",
    "ApiToken",
    "ApiTokenError",
    "ApiTokenFileError",
    "create_app",
    "resolve_api_token",
    "serve_api",
]

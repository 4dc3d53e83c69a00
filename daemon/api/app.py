"""``create_app(service, token=...)``: the control API, metrics and live page over one ``TradingService``.

Paths (scripts may rely on them): ``GET /v1/health`` (no token), ``POST /v1/twaps``,
``POST /v1/rebalances``, ``GET /v1/parents``, ``GET /v1/parents/{parent_id}``,
``POST /v1/parents/{parent_id}/cancel``, ``GET /v1/events`` (server-sent events) and
``GET /metrics``, each needing ``Authorization: Bearer <token>``; the same stream over a WebSocket
at ``/v1/events/ws`` (token in the header or the first message); the schema at ``/openapi.json``,
its browsable form at ``/docs``, and the live page at ``/``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from daemon.api.auth import TokenCheck
from daemon.api.idempotency import KeyLocks
from daemon.api.metrics import make_registry
from daemon.api.metrics import router as metrics_router
from daemon.api.problems import install_error_handlers
from daemon.api.routes_events import EventStreams
from daemon.api.routes_events import router as events_router
from daemon.api.routes_page import router as page_router
from daemon.api.routes_parents import router as parents_router
from daemon.api.routes_twaps import router as twaps_router
from daemon.api.routes_websocket import router as websocket_router
from daemon.api.schemas import ErrorOut, HealthOut
from daemon.service import TradingService

__all__ = ["API_VERSION", "create_app"]

API_VERSION = "1"

_health = APIRouter(tags=["health"])


@_health.get("/v1/health", response_model=HealthOut, summary="Is the daemon up")
async def health() -> dict[str, str]:
    """Answers ``{"status": "ok"}`` without a token, for load balancers and scripts."""
    return {"status": "ok"}


def create_app(service: TradingService, *, token: str) -> FastAPI:
    """The control API over ``service``; every path but health, the schema and the page needs ``token``."""
    app = FastAPI(
        title="twap-engine daemon",
        version=API_VERSION,
        description="Control a running twap-engine daemon: start TWAP parents and rebalances, "
        "watch their progress, cancel them. Send `Authorization: Bearer <token>` on every path "
        "but `/v1/health`.",
    )
    app.state.service = service
    app.state.event_streams = EventStreams()
    app.state.idempotency_locks = KeyLocks()
    app.state.metrics_registry = make_registry(service.statistics_nowait)
    install_error_handlers(app)
    check = TokenCheck(token)
    app.state.token_check = check
    guarded = [Depends(check)]
    unauthorized: dict[int | str, dict[str, object]] = {
        401: {"model": ErrorOut, "description": "The bearer token is missing or wrong."}
    }
    app.include_router(_health)
    for router in (twaps_router, parents_router, events_router, metrics_router):
        app.include_router(router, dependencies=guarded, responses=unauthorized)
    app.include_router(websocket_router)  # checks the token itself: a browser sends it in a message
    app.include_router(page_router)
    return app

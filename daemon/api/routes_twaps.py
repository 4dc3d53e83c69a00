"""``POST /v1/twaps`` (one TWAP parent) and ``POST /v1/rebalances`` (a plan, then a parent per trade)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from daemon.api.dependencies import Service
from daemon.api.idempotency import IdempotencyKey, KeyLocks
from daemon.api.schemas import ErrorOut, ParentOut, RebalanceBody, RebalanceOut, TwapBody
from daemon.views import RebalanceRequest, TwapRequest

__all__ = ["router"]

router = APIRouter(tags=["orders"])

_REFUSALS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut, "description": "The body could not be read (not UTF-8 or not JSON)."},
    422: {"model": ErrorOut, "description": "A field was refused; the body names it and its value."},
    503: {"model": ErrorOut, "description": "The daemon is shutting down and takes no new parents."},
}


def _key_locks(request: Request) -> KeyLocks:
    locks: KeyLocks = request.app.state.idempotency_locks
    return locks


@router.post(
    "/v1/twaps",
    status_code=status.HTTP_201_CREATED,
    response_model=ParentOut,
    responses=_REFUSALS,
    summary="Start a TWAP parent",
)
async def submit_twap(
    body: TwapBody, request: Request, service: Service, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Buy or sell ``quantity`` of ``symbol`` in ``num_slices`` slices every ``interval_seconds``.

    The parent is recorded before the answer; the answer is the parent (its ``parent_id`` is what
    the other paths take). With an ``Idempotency-Key``, a retry returns the same parent.
    """
    twap = TwapRequest.from_dict(body.to_request_data())
    async with _key_locks(request).hold(idempotency_key):
        view = await service.submit_twap(twap, idempotency_key=idempotency_key)
    return JSONResponse(
        view.to_dict(),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/v1/parents/{view.parent_id}"},
    )


@router.post(
    "/v1/rebalances",
    status_code=status.HTTP_201_CREATED,
    response_model=RebalanceOut,
    responses={
        200: {"model": RebalanceOut, "description": "A dry run: the plan, nothing sent."},
        **_REFUSALS,
    },
    summary="Plan a rebalance and run its trades",
)
async def submit_rebalance(
    body: RebalanceBody, request: Request, service: Service, idempotency_key: IdempotencyKey
) -> JSONResponse:
    """Plan the trades from ``current_positions`` and ``cash`` to ``target_weights``, each with its
    reason; unless ``dry_run``, start one TWAP parent per trade (their ids in ``parent_ids``)."""
    rebalance = RebalanceRequest.from_dict(body.to_request_data())
    async with _key_locks(request).hold(idempotency_key):
        view = await service.submit_rebalance(rebalance, idempotency_key=idempotency_key)
    code = status.HTTP_200_OK if view.dry_run else status.HTTP_201_CREATED
    return JSONResponse(view.to_dict(), status_code=code)

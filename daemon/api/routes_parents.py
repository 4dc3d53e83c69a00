"""``GET /v1/parents``, ``GET /v1/parents/{parent_id}`` and ``POST /v1/parents/{parent_id}/cancel``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from fastapi.responses import JSONResponse

from daemon.api.dependencies import Service
from daemon.api.schemas import ErrorOut, ParentListOut, ParentOut

__all__ = ["router"]

router = APIRouter(tags=["parents"])

ParentId = Annotated[str, Path(min_length=1, max_length=200, description="The id ``POST /v1/twaps`` gave.")]
_UNKNOWN: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorOut, "description": "No parent has this id."},
    422: {"model": ErrorOut, "description": "The id is malformed."},
}


@router.get("/v1/parents", response_model=ParentListOut, summary="Every parent")
async def list_parents(service: Service) -> JSONResponse:
    """Every parent the daemon knows, oldest first, each with its state and progress."""
    views = await service.list_parents()
    return JSONResponse({"parents": [view.to_dict() for view in views]})


@router.get("/v1/parents/{parent_id}", response_model=ParentOut, responses=_UNKNOWN, summary="One parent")
async def get_parent(parent_id: ParentId, service: Service) -> JSONResponse:
    """The parent's state and progress against its schedule and, once final, its report."""
    view = await service.get_parent(parent_id)
    return JSONResponse(view.to_dict())


@router.post(
    "/v1/parents/{parent_id}/cancel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ParentOut,
    responses=_UNKNOWN,
    summary="Cancel a parent",
)
async def cancel_parent(parent_id: ParentId, service: Service) -> JSONResponse:
    """Stop the parent's new slices and cancel its resting children; it turns ``cancelled`` once
    they are final (watch ``/v1/events``). A final parent is left as it is. Safe to repeat."""
    view = await service.cancel_parent(parent_id)
    return JSONResponse(view.to_dict(), status_code=status.HTTP_202_ACCEPTED)

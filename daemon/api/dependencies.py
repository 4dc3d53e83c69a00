"""What every route may ask FastAPI for: the trading service the app was made for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from daemon.service import TradingService

__all__ = ["Service", "trading_service"]


async def trading_service(request: Request) -> TradingService:
    """The service given to ``create_app``.

    A coroutine on purpose, as every dependency here: FastAPI runs a plain function in a worker
    thread, which cost about two thirds of a status read.
    """
    service: TradingService = request.app.state.service
    return service


Service = Annotated[TradingService, Depends(trading_service)]

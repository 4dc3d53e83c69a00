"""What every route may ask FastAPI for: the trading service the app was made for."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from daemon.service import TradingService

__all__ = ["Service", "trading_service"]


def trading_service(request: Request) -> TradingService:
    """The service given to ``create_app``."""
    service: TradingService = request.app.state.service
    return service


Service = Annotated[TradingService, Depends(trading_service)]

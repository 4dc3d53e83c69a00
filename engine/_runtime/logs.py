"""Logging helpers shared by the engine's parts."""

from __future__ import annotations

import logging
from typing import Any

import structlog

__all__ = ["writes_debug"]

# The debug method of structlog's own filtering loggers when debug is filtered out: a no-op.
_FILTERED_DEBUG = structlog.make_filtering_bound_logger(logging.INFO).debug


def writes_debug(log: Any) -> bool:
    """False only for a structlog filtering logger (``make_filtering_bound_logger``) that drops
    debug lines; any other logger is taken to write them.

    A filtering logger's level is fixed by its class, so the answer holds for as long as the
    logger: the runner and the monitor ask once, as they bind it, and skip the calls of a child
    order's debug lines (each still cost a call with its arguments). Other loggers, such as
    structlog's stdlib ``BoundLogger``, follow a level that may change later: they are always called.
    """
    return getattr(type(log), "debug", None) is not _FILTERED_DEBUG

"""Logging for the daemon (an application; the library never configures logging).

structlog writes one JSON object per line when standard error is not a terminal (or with
``format = "json"``), and readable colourless lines on a terminal. Records from the standard
library's ``logging`` (uvicorn's, say) go through the same renderer. The engine binds
``parent_id`` and ``child_id`` on its lines; the service binds the daemon's ``parent_id``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

from daemon.config import LoggingConfig

__all__ = ["configure_logging"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure_logging(config: LoggingConfig, stream: TextIO | None = None) -> None:
    """Configure structlog and the standard library's root logger for the daemon's process."""
    stream = sys.stderr if stream is None else stream
    as_json = config.format == "json" or (config.format == "auto" and not stream.isatty())
    level = _LEVELS[config.level]
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(level, logging.INFO))

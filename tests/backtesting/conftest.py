"""Backtests log every child order; the tests keep warnings only, so a 200-name run stays quick."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def quiet_engine_logs() -> Iterator[None]:
    """Filter engine logs below WARNING for the test, then restore the previous configuration."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    yield
    structlog.configure(**saved)

"""Every async test runs on virtual time: no test sleeps in real time.

pytest-asyncio asks this hook for its event loop factory; we hand it the engine's virtual-time
loop, the same one ``engine.run_virtual`` and the backtests use. A test can take the
``virtual_clock`` fixture to read the engine clock, and ``quiet_engine_logs`` to keep the engine's
logs to warnings (backtests log every child order).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping

import pytest
import structlog
from hypothesis import settings

from engine import clock

# CI replays the same examples on every run, so a landing never hangs on a lucky draw; working
# copies keep exploring new ones (and keep the failures they find in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], object]]:
    return {"virtual": clock.virtual_loop_factory(start=0.0)}


@pytest.fixture
def virtual_clock() -> Callable[[], float]:
    """The engine clock (virtual seconds since the test's loop started)."""
    return clock.now


@pytest.fixture
def quiet_engine_logs() -> Iterator[None]:
    """Filter engine logs below WARNING for the test, then restore the previous configuration."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    yield
    structlog.configure(**saved)

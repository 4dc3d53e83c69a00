"""Every async test runs on virtual time: no test sleeps in real time.

pytest-asyncio asks this hook for its event loop factory; we hand it the engine's virtual-time
loop, the same one ``engine.run_virtual`` and the backtests use. A test can take the
``virtual_clock`` fixture to read the engine clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from engine import clock


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], object]]:
    return {"virtual": clock.virtual_loop_factory(start=0.0)}


@pytest.fixture
def virtual_clock() -> Callable[[], float]:
    """The engine clock (virtual seconds since the test's loop started)."""
    return clock.now

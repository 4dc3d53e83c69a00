"""Backtests log every child order; the tests keep warnings only, so a 200-name run stays quick."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def quiet_backtests(quiet_engine_logs: None) -> None:
    """Every backtesting test runs with the engine's logs filtered below WARNING."""

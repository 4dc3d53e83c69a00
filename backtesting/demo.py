"""The ``demo`` scenario: the README's three-stock rebalance, shipped inside the package.

``examples/three_stock_rebalance.toml`` is the same file, for reading and editing.
"""

from __future__ import annotations

from importlib import resources

from backtesting.scenario import Scenario, parse_scenario

__all__ = ["DEMO_FILE", "demo_scenario", "demo_text"]

DEMO_FILE = "three_stock_rebalance.toml"


def demo_text() -> str:
    """The demo scenario's TOML text."""
    return resources.files("backtesting").joinpath("scenarios", DEMO_FILE).read_text(encoding="utf-8")


def demo_scenario() -> Scenario:
    """The demo scenario, validated."""
    return parse_scenario(demo_text(), DEMO_FILE)

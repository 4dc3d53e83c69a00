"""Small scenarios for the backtesting tests: a few slices on virtual time, seconds of wall time."""

from __future__ import annotations

from pathlib import Path

SMALL = """
name = "small"
description = "two names, four slices"
seed = 3

[venue]
symbols = [
    { symbol = "AAA", price = 100, volume_per_second = 50 },
    { symbol = "BBB", price = 20, volume_per_second = 200 },
]
latency = { request = 0.01, request_jitter = 0.005 }

[portfolio]
cash = 10000
positions = { AAA = 50 }

[rebalance]
targets = { AAA = 0.5, BBB = 0.5 }

[execution]
num_slices = 4
interval_seconds = 30

[queue]
max_orders_per_minute = 60

[[variants]]
name = "market"
style = "market"

[[variants]]
name = "passive"
style = "passive"
"""


def write(folder: Path, text: str = SMALL, name: str = "small.toml") -> Path:
    """Write a scenario file into ``folder`` and return its path."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


FAULTY = """
name = "faults and a queue faster than the venue"
seed = 4
[venue]
symbols = [{ symbol = "AAA", price = 100 }, { symbol = "BBB", price = 20 }]
rate_limits = [{ limit = 10, period = 60 }]
faults = { unavailable = 0.1, drop_ack = 0.05 }
[portfolio]
cash = 100000
[rebalance]
targets = { AAA = 0.5, BBB = 0.5 }
[execution]
num_slices = 20
interval_seconds = 3
[queue]
max_orders_per_minute = 30
"""

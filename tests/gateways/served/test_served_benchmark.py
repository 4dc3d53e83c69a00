"""The served venue's benchmark script runs (a short run) and reports every figure it documents."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import anyio

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "bench_served_venue.py"


def test_a_short_benchmark_run_reports_each_figure() -> None:
    spec = importlib.util.spec_from_file_location("bench_served_venue", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = anyio.run(module.measure, 20)
    documented = module.__doc__ or ""
    assert set(figures) == {
        "time_p50_ms", "time_p99_ms", "order_ack_p50_ms", "order_ack_p99_ms", "order_full_p50_ms",
        "order_full_p99_ms", "order_vs_time", "inprocess_submit_p50_ms", "http_overhead_ratio",
    }
    assert all(f"``{name}" in documented or name.endswith("p99_ms") for name in figures)
    assert all(value > 0 for value in figures.values())

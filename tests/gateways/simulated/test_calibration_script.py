"""scripts/calibrate_market.py measures the model and agrees with its formulas on a random walk."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _script() -> ModuleType:
    path = ROOT / "scripts" / "calibrate_market.py"
    spec = importlib.util.spec_from_file_location("calibrate_market", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_calibration_prints_one_json_line_that_matches_the_law(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _script().main(["--paths", "2"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    figures = json.loads(last)
    walk = [row for row in figures["impact"] if row["market"] == "walk"]
    assert walk
    for row in walk:
        assert row["measured_bps"] == pytest.approx(row["model_bps"], rel=0.05, abs=0.05)
    resilience = figures["resilience"]
    assert resilience["measured_half_life_s"] == pytest.approx(resilience["model_half_life_s"], rel=0.25)
    assert all(0 <= row["filled"] <= row["touched"] <= 1 for row in figures["fills"])

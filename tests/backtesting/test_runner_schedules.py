"""A VWAP parent on replayed data takes the data's volume profile unless it names its own."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from backtesting import load_scenario, run
from tests.backtesting.scenarios import write

ROOT = Path(__file__).resolve().parents[2]
BARS = ROOT / "examples" / "data" / "thin_name_bars.csv"

THIN_VWAP = f"""
name = "thin vwap"
description = "a VWAP buy on the thin name's bars"
seed = 4

[venue]
data = "{BARS.as_posix()}"
symbols = [{{ symbol = "THIN", spread_bps = 20, displayed_size = 150, impact_model = "square_root" }}]

[portfolio]
cash = 1000000

[[orders]]
symbol = "THIN"
side = "buy"
quantity = 4000

[execution]
num_slices = 4
interval_seconds = 600
schedule = "vwap"
catch_up = false

[[variants]]
name = "data"

[[variants]]
name = "given"
volume_profile = [1, 1, 1, 1]
"""


def _bar_volumes() -> list[Decimal]:
    with BARS.open(encoding="utf-8") as file:
        return [Decimal(row["volume"]) for row in csv.DictReader(file) if float(row["time"]) < 2_400]


def test_vwap_on_replayed_data_follows_the_datas_volumes_unless_given_a_profile(tmp_path: Path) -> None:
    result = run(load_scenario(write(tmp_path, THIN_VWAP)))
    data, given = ([line.quantity for line in variant.reports[0].slices] for variant in result.variants)
    volumes = _bar_volumes()
    per_slice = [sum(volumes[i * 10:(i + 1) * 10], Decimal(0)) for i in range(4)]
    expected = [4000 * v / sum(per_slice) for v in per_slice]
    assert sum(data) == 4000
    assert all(abs(q - e) <= 1 for q, e in zip(data, expected, strict=True))
    assert given == [1000] * 4
    assert data != given  # (the bars trade unevenly)

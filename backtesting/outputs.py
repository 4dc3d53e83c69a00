"""Writing a run's files all or nothing: into a temporary folder first, then moved into place.

A run that fails (bad input, an error while drawing) leaves the output folder as it was: no
half-written ``report.json``, no figure without its report.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from backtesting.result import BacktestResult
from engine.errors import InvalidInputError

__all__ = ["write_outputs", "write_result"]


def write_outputs(out_dir: str | Path, writers: Mapping[str, Callable[[Path], object]]) -> list[Path]:
    """Call each ``writers[name](path)`` on a path in a temporary folder, then move every file to
    ``out_dir/name``. Nothing reaches ``out_dir`` unless every writer succeeded."""
    target = Path(out_dir)
    if target.exists() and not target.is_dir():
        raise InvalidInputError("--out", str(target), "exists and is not a folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        for name, write in writers.items():
            write(staging / name)
        target.mkdir(exist_ok=True)
        written = []
        for name in writers:
            os.replace(staging / name, target / name)
            written.append(target / name)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_result(result: BacktestResult, out_dir: str | Path) -> list[Path]:
    """Write ``report.json`` and ``execution.png`` of ``result`` into ``out_dir``, both or neither."""
    # Imported here, not above: matplotlib takes a second to import, and only writing needs it.
    from backtesting.figure import save_figure

    return write_outputs(out_dir, {
        "report.json": lambda path: path.write_text(result.to_json(), encoding="utf-8"),
        "execution.png": lambda path: save_figure(result, path),
    })

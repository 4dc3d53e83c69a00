"""The ``compare`` command: its arguments, a progress bar, the table, and the files it writes.

::

    twap-engine compare examples/thin_name_impact.toml --paths 300 [--baseline NAME]
                        [--first-seed N] [--out DIR] [--workers N | --scheduler ADDRESS]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from backtesting.compare import replays_one_path, run_compare
from backtesting.compare_output import compare_table, write_compare
from backtesting.scenario import load_scenario

__all__ = ["add_compare_parser", "compare_command"]

_DEFAULT_OUT = Path("out")  # ignored by git


def add_compare_parser(commands: Any) -> None:
    """Add ``compare`` to the command line's sub-commands."""
    compare = commands.add_parser(
        "compare", help="every variant on the same many paths: distributions and paired differences"
    )
    compare.add_argument("scenario", type=Path, help="scenario TOML file")
    compare.add_argument("--paths", type=int, default=300, help="market paths (default 300)")
    compare.add_argument("--baseline", help="the variant the others are measured against (default: first)")
    compare.add_argument("--first-seed", type=int, default=1, help="path k runs on seed FIRST_SEED + k")
    compare.add_argument("--out", type=Path, help="output folder (default: out/<scenario>-compare)")
    where = compare.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="local processes (default: one per CPU)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler instead")


def compare_command(arguments: argparse.Namespace, console: Console) -> int:
    """Run the study, print its table and write ``compare.json`` and ``compare.png``."""
    scenario = load_scenario(arguments.scenario)
    out_dir = arguments.out or _DEFAULT_OUT / f"{arguments.scenario.stem}-compare"
    if replays_one_path(scenario):
        console.print(
            "note: the scenario replays its data as it is, so its paths differ only in latency and "
            "queue draws; set bootstrap_block in [venue] to draw a new path per seed",
            markup=False, highlight=False,
        )
    on_done: Callable[[int, int], None] | None = None
    bar: Progress | None = None
    if console.is_terminal:
        bar = Progress(TextColumn("paths"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                       console=console, transient=True)
        task = bar.add_task("paths", total=arguments.paths)
        shown = bar

        def update(done: int, total: int) -> None:
            shown.update(task, completed=done, total=total)

        on_done = update
        bar.start()
    started = time.perf_counter()
    try:
        result = run_compare(
            scenario, arguments.paths, baseline=arguments.baseline, first_seed=arguments.first_seed,
            workers=arguments.workers, scheduler=arguments.scheduler, on_done=on_done,
        )
    finally:
        if bar is not None:
            bar.stop()
    elapsed = time.perf_counter() - started
    console.print(compare_table(result))
    written = write_compare(result, out_dir)
    console.print(f"{arguments.paths} paths in {elapsed:.1f} s", markup=False, highlight=False)
    console.print("wrote " + ", ".join(str(path) for path in written), markup=False, highlight=False)
    return 0

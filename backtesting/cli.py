"""The command line: ``twap-engine`` (or ``python -m backtesting``).

::

    twap-engine backtest SCENARIO.toml [--out DIR] [--seed N] [--schedule NAME]
    twap-engine plan POSITIONS_AND_TARGETS.toml
    twap-engine demo [--out DIR] [--seed N] [--schedule NAME]
    twap-engine sweep SCENARIO.toml --grid num_slices=5,10,20 --grid style=market,passive
                      [--out DIR] [--seed N] [--workers N] [--scheduler ADDRESS]
    twap-engine compare SCENARIO.toml [--paths 300] [--baseline NAME] [--first-seed N]
                        [--out DIR] [--workers N | --scheduler ADDRESS]
    twap-engine serve-venue --dialect binance [--port 8765] [SCENARIO.toml]   (see serve_venue.py)
    twap-engine trade SCENARIO.toml [--venue simulated|http://HOST:PORT|ccxt:EXCHANGE]   (live.py)

``backtest`` and ``demo`` print the summary (and, with several variants, the comparison) and
write ``report.json`` and ``execution.png``; ``sweep`` prints its table and writes ``sweep.csv``;
``compare`` (compare.py) prints its table and writes ``compare.json`` and ``compare.png``.
A progress bar shows only when standard output is a terminal. Bad input exits with status 2 and
one line naming the file, the key (or line) and the value; nothing is written then.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import structlog
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

from backtesting import live, serve_venue
from backtesting.demo import demo_scenario
from backtesting.errors import BacktestError
from backtesting.outputs import write_outputs, write_result
from backtesting.scenario import Scenario, load_scenario
from engine.errors import InvalidInputError

__all__ = ["main"]

_DEFAULT_OUT = Path("out")  # ignored by git


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twap-engine", description="Backtest rebalances and TWAP execution on the simulated venue."
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="engine logs on stderr (-vv: debug)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    backtest = commands.add_parser("backtest", help="run a scenario on virtual time")
    backtest.add_argument("scenario", type=Path, help="scenario TOML file")
    demo = commands.add_parser("demo", help="the three-stock rebalance, executed by TWAP")
    for command in (backtest, demo):
        command.add_argument("--out", type=Path, help="output folder (default: out/<scenario>)")
        command.add_argument("--seed", type=int, help="replace the scenario's seed")
        command.add_argument(
            "--schedule", metavar="NAME",
            help="work every parent by this schedule: twap, vwap, pov, implementation_shortfall, adaptive",
        )

    plan = commands.add_parser("plan", help="print the rebalancing plan with its reasons")
    plan.add_argument("file", type=Path, help="positions, prices and targets (or a scenario) in TOML")

    sweep = commands.add_parser("sweep", help="run a grid of settings and compare")
    sweep.add_argument("scenario", type=Path, help="scenario TOML file")
    sweep.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                       help="a setting and its values; repeat for more keys")
    sweep.add_argument("--out", type=Path, help="output folder (default: out/<scenario>-sweep)")
    sweep.add_argument("--seed", type=int, help="replace the scenario's seed")
    sweep.add_argument("--workers", type=int, help="local processes (default: one per CPU)")
    sweep.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler instead")

    from backtesting.compare_cli import add_compare_parser

    add_compare_parser(commands)
    serve_venue.add_parser(commands)
    live.add_parser(commands)

    from daemon.cli import add_commands  # the daemon's own commands, handed over below

    add_commands(commands)
    return parser


@contextmanager
def _logging(verbosity: int) -> Iterator[None]:
    """The application configures structlog (the library never does): warnings on stderr by
    default; the previous configuration comes back afterwards, for callers in the same process."""
    saved = structlog.get_config()
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    try:
        yield
    finally:
        structlog.configure(**saved)


def main(argv: Sequence[str] | None = None, *, console: Console | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    arguments = _parser().parse_args(argv)
    if arguments.command in ("daemon", "journal"):
        from daemon.cli import run_command

        return run_command(arguments)
    out = console if console is not None else Console(soft_wrap=False)
    if not out.is_terminal and console is None:
        out = Console(width=200, soft_wrap=False)
    errors = Console(stderr=True, soft_wrap=True)
    with _logging(arguments.verbose):
        try:
            command: Callable[[argparse.Namespace, Console], int] = _COMMANDS[arguments.command]
            return command(arguments, out)
        except InvalidInputError as error:
            errors.print(f"error: {error}", markup=False, highlight=False)
            return 2
        except BacktestError as error:
            errors.print(f"error: {error}", markup=False, highlight=False)
            return 1


def _backtest(arguments: argparse.Namespace, console: Console) -> int:
    scenario = load_scenario(arguments.scenario)
    out_dir = arguments.out or _DEFAULT_OUT / arguments.scenario.stem
    return _run_and_write(_scheduled(scenario, arguments.schedule), arguments.seed, out_dir, console)


def _scheduled(scenario: Scenario, schedule: str | None) -> Scenario:
    # Checked by TWAPParams: a bad name is an InvalidInputError naming "schedule" and the value.
    return scenario if schedule is None else scenario.with_execution(schedule=schedule)


def _demo(arguments: argparse.Namespace, console: Console) -> int:
    out_dir = arguments.out or _DEFAULT_OUT / "demo"
    return _run_and_write(_scheduled(demo_scenario(), arguments.schedule), arguments.seed, out_dir, console)


def _run_and_write(scenario: Scenario, seed: int | None, out_dir: Path, console: Console) -> int:
    from backtesting.runner import run
    from backtesting.tables import comparison_table, summary_table

    if seed is not None:
        scenario = scenario.with_seed(seed)
    console.print(f"[bold]{scenario.name}[/bold] (seed {scenario.seed}): {scenario.description}")
    with _progress_bar(console, [v.name for v in scenario.variants]) as progress:
        result = run(scenario, progress=progress)
    if result.plan is not None:
        console.print(result.plan.to_table(), markup=False, highlight=False)
    for variant in result.variants:
        console.print(summary_table(variant))
    console.print(comparison_table(result.comparison()))
    written = write_result(result, out_dir)
    console.print("wrote " + ", ".join(str(path) for path in written), markup=False, highlight=False)
    return 0


@contextmanager
def _progress_bar(console: Console, names: Sequence[str]) -> Iterator[Callable[[str, float], None] | None]:
    """A rich progress bar per variant when ``console`` is a terminal; otherwise nothing."""
    if not console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {name: bar.add_task(name, total=1.0) for name in names}

        def update(name: str, fraction: float) -> None:
            bar.update(tasks[name], completed=fraction)

        yield update


def _plan(arguments: argparse.Namespace, console: Console) -> int:
    from backtesting.plan_file import plan_from_file

    plan = plan_from_file(arguments.file)
    console.print(plan.to_table(), markup=False, highlight=False)
    return 0


def _sweep(arguments: argparse.Namespace, console: Console) -> int:
    from backtesting.sweep import parse_grid, run_sweep
    from backtesting.tables import rows_to_csv, sweep_table

    scenario = load_scenario(arguments.scenario)
    grid = parse_grid(arguments.grid)
    out_dir = arguments.out or _DEFAULT_OUT / f"{arguments.scenario.stem}-sweep"
    on_done: Callable[[int, int], None] | None = None
    bar: Progress | None = None
    if console.is_terminal:
        bar = Progress(
            TextColumn("sweep"), BarColumn(), TaskProgressColumn(), console=console, transient=True
        )
        task = bar.add_task("sweep", total=None)
        shown = bar

        def update(done: int, total: int) -> None:
            shown.update(task, completed=done, total=total)

        on_done = update
        bar.start()
    try:
        columns, rows = run_sweep(
            scenario, grid, seed=arguments.seed, workers=arguments.workers, scheduler=arguments.scheduler,
            on_done=on_done,
        )
    finally:
        if bar is not None:
            bar.stop()
    console.print(sweep_table(rows, list(grid)))
    text = rows_to_csv(rows, columns)
    written = write_outputs(out_dir, {"sweep.csv": lambda path: path.write_text(text, encoding="utf-8")})
    console.print("wrote " + ", ".join(str(path) for path in written), markup=False, highlight=False)
    return 0


def _compare(arguments: argparse.Namespace, console: Console) -> int:
    from backtesting.compare_cli import compare_command

    return compare_command(arguments, console)


_COMMANDS: dict[str, Callable[[argparse.Namespace, Console], int]] = {
    "backtest": _backtest,
    "demo": _demo,
    "plan": _plan,
    "sweep": _sweep,
    "compare": _compare,
    "serve-venue": serve_venue.run,
    "trade": live.run,
}

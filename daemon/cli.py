"""The daemon's command line, handed over by ``twap-engine`` (``backtesting.cli``).

::

    twap-engine daemon [--config daemon.toml] [--host H] [--port P]
    twap-engine journal show [--journal PATH] [--config daemon.toml] [--parents N]

A bad configuration, a journal locked by another daemon or written by a newer one: one line on
standard error naming what was refused, exit status 2, nothing changed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

__all__ = ["add_commands", "run_command"]


def add_commands(commands: Any) -> None:
    """Add ``daemon`` and ``journal`` to ``twap-engine``'s subcommands."""
    daemon = commands.add_parser("daemon", help="run the long-running daemon with its control API")
    daemon.add_argument("--config", type=Path, help="daemon TOML file (default: embedded defaults)")
    daemon.add_argument("--host", help="API address (default 127.0.0.1)")
    daemon.add_argument("--port", type=int, help="API port (default 8080)")
    journal = commands.add_parser("journal", help="look into a daemon's journal")
    actions = journal.add_subparsers(dest="journal_command", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="print what the journal holds")
    show.add_argument("--journal", type=Path, help="journal file (default: the config's journal.path)")
    show.add_argument("--config", type=Path, help="daemon TOML file, to find the journal")
    show.add_argument("--parents", type=int, default=50, help="show at most this many parents, newest last")


def run_command(arguments: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``daemon`` or ``journal show``; returns the exit status."""
    from daemon.api import ApiBindError, ApiTokenError, ApiTokenFileError
    from daemon.config import load_config
    from daemon.errors import DaemonError
    from engine import GatewayError, InvalidInputError

    out = sys.stdout if out is None else out
    try:
        if arguments.command == "daemon":
            config = load_config(arguments.config, host=arguments.host, port=arguments.port)
            return _daemon(config, out)
        config = load_config(arguments.config)
        return _show(arguments.journal or config.journal.path, arguments.parents, out)
    except (DaemonError, InvalidInputError, ApiBindError, ApiTokenError, ApiTokenFileError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except GatewayError as error:
        print(f"error: the venue: {error}", file=sys.stderr)
        return 1


def _daemon(config: Any, out: TextIO) -> int:
    import anyio

    from daemon.app import DaemonReady, run_daemon
    from daemon.logs import configure_logging

    configure_logging(config.logging)

    def ready(info: DaemonReady) -> None:
        token = f"token from {info.token_source}" + (f" ({info.token_file})" if info.token_file else "")
        print(
            f"twap-engine daemon: API on {info.url} ({token}); journal {info.journal}, run {info.run}",
            file=out,
            flush=True,
        )

    return anyio.run(lambda: run_daemon(config, on_ready=ready))


def _show(path: Path, limit: int, out: TextIO) -> int:
    from daemon.journal import Journal

    with Journal.open_for_reading(path) as journal:
        summary = journal.summary()
        print(f"journal {summary.path} (schema {summary.schema_version})", file=out)
        print(f"venue {summary.venue}, account {summary.account}", file=out)
        for run in summary.runs:
            print(f"  run {run.run} (ids {run.prefix}…) on {run.venue}, account {run.account}", file=out)
        parents = journal.parents()
        print(f"parents: {len(parents)} {_counts(summary.parents_by_state)}", file=out)
        for row in parents[-limit:]:
            request = row.request
            print(
                f"  {row.parent_id} {row.state:<10} {request.side.value} {request.quantity} {request.symbol}"
                f" filled {row.filled} over {request.num_slices}×{request.interval_seconds:g}s"
                + (f"  ({row.note})" if row.note else ""),
                file=out,
            )
        children = summary.children_by_status
        print(f"children: {sum(children.values())} {_counts(children)}", file=out)
        unsettled = journal.children(unsettled_only=True)
        for child in unsettled[:limit]:
            print(
                f"  unsettled {child.client_order_id} {child.status} {child.side} {child.quantity}"
                f" {child.symbol} filled {child.filled} (parent {child.parent_id})",
                file=out,
            )
        print(f"fills: {summary.fills}", file=out)
    return 0


def _counts(counts: Any) -> str:
    if not counts:
        return ""
    return "(" + ", ".join(f"{name} {count}" for name, count in sorted(counts.items())) + ")"

"""``twap-engine trade``: a scenario's orders executed on real time, on the venue it picks.

::

    twap-engine trade SCENARIO.toml [--venue simulated | http://HOST:PORT | ccxt:EXCHANGE]

The same parents a backtest runs (the ``[[orders]]`` and the ``[rebalance]`` plan, priced at the
venue's quotes when trading starts, with the ``[execution]`` settings and the ``[queue]``'s limits),
but on the wall clock, through the venue chosen by ``--venue`` or the scenario's ``[venue] connect``
(``simulated`` by default; see ``venue_choice``). A real venue's published limits are added to the
queue's. Prints one line per parent and returns 0 when every parent filled in full.
"""

from __future__ import annotations

import argparse
from typing import Any

import anyio
from rich.console import Console

from backtesting.runner import build_venue, plan_for
from backtesting.scenario import Scenario, load_scenario
from backtesting.venue_choice import VenueChoice, open_gateway, parse_venue_choice
from engine.execution_engine import ExecutionEngine
from engine.execution_report import ExecutionReport

__all__ = ["add_parser", "run", "trade"]


def add_parser(commands: Any) -> None:
    """Add the ``trade`` command to the command line's sub-commands."""
    trade_command = commands.add_parser("trade", help="execute a scenario's orders on real time on a venue")
    trade_command.add_argument("scenario", help="scenario TOML file")
    trade_command.add_argument(
        "--venue",
        help="simulated, the paper exchange's http:// URL, or ccxt:EXCHANGE (keys from the environment)",
    )


async def trade(scenario: Scenario, choice: VenueChoice) -> list[ExecutionReport]:
    """Execute the scenario's parents on ``choice``, on the running loop's (real) clock."""
    async with open_gateway(choice, scenario.symbols(), lambda: build_venue(scenario)) as (gateway, limits):
        prices = {symbol: (await gateway.get_quote(symbol)).mid for symbol in scenario.symbols()}
        plan = plan_for(scenario, prices)
        settings: dict[str, Any] = dict(scenario.execution)
        async with ExecutionEngine(
            gateway,
            max_orders_per_minute=scenario.max_orders_per_minute,
            limits=(*scenario.queue_limits, *limits),
            queue_options=scenario.queue_options,
            seed=scenario.seed,
            id_prefix="L",
        ) as engine:
            handles = [
                await engine.start_twap(
                    order.symbol, order.quantity, order.side, **{**settings, **order.overrides}
                )
                for order in scenario.orders
            ]
            reports: list[ExecutionReport] = []
            if plan is not None and plan.trades:
                reports += (
                    await engine.execute_plan(plan, sells_first=scenario.sells_first, **settings)
                ).reports
            reports += [await handle.wait() for handle in handles]
    return reports


def run(arguments: argparse.Namespace, console: Console) -> int:
    """The ``trade`` command."""
    scenario = load_scenario(arguments.scenario)
    choice = scenario.venue.connect
    if arguments.venue is not None:
        choice = parse_venue_choice(arguments.venue, "--venue")
    console.print(f"[bold]{scenario.name}[/bold] on {choice.describe()}")
    reports = anyio.run(trade, scenario, choice)
    for report in reports:
        price = "-" if report.avg_price is None else f"{report.avg_price:.4f}"
        console.print(
            f"{report.symbol} {report.side} {report.filled_quantity}/{report.quantity} @ {price} "
            f"({report.child_orders} child orders, fees {report.fees})",
            markup=False,
            highlight=False,
        )
    return 0 if all(report.filled_quantity == report.quantity for report in reports) else 1

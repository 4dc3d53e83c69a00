"""Who goes first on a venue without latency depends on who sends, never on memory addresses.

A zero-latency request is answered in its caller's task; only a task sending again right after
its own request passes a checkpoint first. Telling callers apart by ``id()`` of the task would not
do: CPython hands a new task the address of a finished one that nothing references any more, so a
task's first request would pass a checkpoint, or not, depending on whether unrelated code still
held the finished task, and the interleaving (and a backtest's fills) could change.
"""

from __future__ import annotations

import asyncio

import anyio

from engine import run_virtual
from tests.gateways.simulated.venues import market, quiet_venue


async def _turns(hold_finished_task: bool) -> list[str]:
    turns: list[str] = []
    held: list[object] = []
    async with quiet_venue() as venue:

        async def first() -> None:
            if hold_finished_task:
                held.append(asyncio.current_task())
            await venue.submit_order(market("AAPL", "buy", 1))

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(first)

        async def sender() -> None:
            await venue.submit_order(market("AAPL", "buy", 1))
            turns.append("sender answered")

        async def other() -> None:
            turns.append("other ran")

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(sender)
            task_group.start_soon(other)
    return turns


def test_a_new_task_first_request_is_answered_at_once_whether_or_not_a_finished_task_is_referenced() -> None:
    # The sender did not make the latest request: it is not sending in a loop, so no checkpoint.
    assert run_virtual(_turns, False) == ["sender answered", "other ran"]
    assert run_virtual(_turns, True) == ["sender answered", "other ran"]

"""Client order ids are unique across instances and restarts. A seed keeps the jitter (and the
reports) reproducible without deciding the ids, unless reproducible ids are asked for explicitly,
as a backtest does; even then two instances on one venue never share an id."""

from __future__ import annotations

from engine import ExecutionEngine, OrderSide, TWAPExecutor
from gateways.simulated import SimulatedVenue
from tests.promises.venue_truth import all_orders_sent, child_ids


async def test_two_executors_with_one_seed_on_one_venue_send_different_ids() -> None:
    venue = SimulatedVenue.demo(seed=3)
    async with venue:
        first = await TWAPExecutor(venue, num_slices=5, interval_seconds=10, seed=3).execute(
            "AAPL", 500, "buy"
        )
        second = await TWAPExecutor(venue, num_slices=5, interval_seconds=10, seed=3).execute(
            "AAPL", 500, "buy"
        )
    assert not child_ids(first) & child_ids(second)
    assert first.parent_id != second.parent_id
    assert venue.statistics().rejects == 0
    # Each filled through its slices; none needed the deadline completion to buy it all at once.
    assert first.completion_child_ids == second.completion_child_ids == ()
    assert first.filled_quantity == second.filled_quantity == 500


async def test_an_engine_run_again_with_its_seed_does_not_reuse_an_id() -> None:
    venue = SimulatedVenue.demo(seed=7)
    reports = []
    async with venue:
        for _ in range(2):  # a bot restarted against the venue it traded on
            async with ExecutionEngine(venue, seed=7) as engine:
                reports.append(
                    await engine.twap("AAPL", 300, OrderSide.BUY, num_slices=3, interval_seconds=10)
                )
    assert not child_ids(reports[0]) & child_ids(reports[1])
    assert venue.statistics().rejects == 0
    assert all(r.completion_child_ids == () for r in reports)


async def test_reproducible_ids_repeat_on_a_fresh_venue_and_differ_between_instances_on_one() -> None:
    runs = []
    for _ in range(2):
        venue = SimulatedVenue.demo(seed=7)
        async with venue:
            async with ExecutionEngine(venue, seed=7, reproducible_ids=True) as engine:
                await engine.twap("AAPL", 300, OrderSide.BUY, num_slices=3, interval_seconds=10)
            async with ExecutionEngine(venue, seed=7, reproducible_ids=True) as engine:
                await engine.twap("AAPL", 300, OrderSide.BUY, num_slices=3, interval_seconds=10)
        runs.append(sorted(all_orders_sent(venue)))
        assert venue.statistics().rejects == 0
    assert runs[0] == runs[1]  # a backtest repeats itself, ids included
    assert len(runs[0]) == len(set(runs[0]))


async def test_reproducible_executor_ids_differ_between_instances_on_one_venue() -> None:
    venue = SimulatedVenue.demo(seed=3)
    async with venue:
        first = await TWAPExecutor(
            venue, num_slices=5, interval_seconds=10, seed=3, reproducible_ids=True
        ).execute("AAPL", 500, "buy")
        second = await TWAPExecutor(
            venue, num_slices=5, interval_seconds=10, seed=3, reproducible_ids=True
        ).execute("AAPL", 500, "buy")
    assert not child_ids(first) & child_ids(second)
    assert venue.statistics().rejects == 0

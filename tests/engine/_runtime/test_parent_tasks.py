"""The engine's lean task group for parents: structured like an anyio task group."""

from __future__ import annotations

import anyio
import pytest

from engine._runtime.parent_tasks import ParentTasks
from engine.errors import EngineError


async def test_a_parent_task_runs_and_is_let_go_when_it_ends() -> None:
    tasks = ParentTasks()
    done: list[str] = []

    async def parent(name: str) -> None:
        await anyio.sleep(1)
        done.append(name)

    async with anyio.create_task_group() as group:
        await group.start(tasks.supervise)
        tasks.start_soon(parent, "a", name="a")
        tasks.start_soon(parent, "b", name="b")
        assert len(tasks) == 2
        await anyio.sleep(2)
        assert done == ["a", "b"]
        assert len(tasks) == 0
        group.cancel_scope.cancel()


async def test_cancelling_the_group_cancels_parents_and_lets_their_shielded_clean_up_finish() -> None:
    tasks = ParentTasks()
    events: list[str] = []

    async def parent() -> None:
        try:
            await anyio.sleep(100)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(5)  # clean-up that must finish, as a parent's settling does
                events.append("cleaned up")

    async with anyio.create_task_group() as group:
        await group.start(tasks.supervise)
        tasks.start_soon(parent, name="p")
        await anyio.sleep(1)
        group.cancel_scope.cancel()
    # The group ended only once the parent's clean-up was over.
    assert events == ["cleaned up"]
    assert anyio.current_time() == pytest.approx(6.0)
    assert len(tasks) == 0


async def test_a_shielded_step_of_a_parent_is_not_cut_by_the_cancellation() -> None:
    tasks = ParentTasks()
    events: list[str] = []

    async def parent() -> None:
        with anyio.CancelScope(shield=True):
            await anyio.sleep(3)  # a send the books must see through
            events.append("sent")
        await anyio.sleep(100)
        events.append("never")

    async with anyio.create_task_group() as group:
        await group.start(tasks.supervise)
        tasks.start_soon(parent, name="p")
        await anyio.sleep(1)
        group.cancel_scope.cancel()
    assert events == ["sent"]


async def test_a_parent_task_that_raises_fails_the_owning_group() -> None:
    tasks = ParentTasks()
    other_cancelled = anyio.Event()

    async def broken() -> None:
        await anyio.sleep(1)
        raise RuntimeError("bug in a parent")

    async def healthy() -> None:
        try:
            await anyio.sleep(100)
        except anyio.get_cancelled_exc_class():
            other_cancelled.set()
            raise

    async def run_both() -> None:
        async with anyio.create_task_group() as group:
            await group.start(tasks.supervise)
            tasks.start_soon(healthy, name="healthy")
            tasks.start_soon(broken, name="broken")

    with pytest.raises(ExceptionGroup) as caught:
        await run_both()
    assert caught.group_contains(RuntimeError, match="bug in a parent")
    assert other_cancelled.is_set()
    assert anyio.current_time() == pytest.approx(1.0)


async def test_a_parent_started_after_the_cancellation_is_cancelled_at_once() -> None:
    tasks = ParentTasks()
    ran: list[str] = []

    async def parent() -> None:
        await anyio.sleep(10)
        ran.append("ran")

    async with anyio.create_task_group() as group:
        await group.start(tasks.supervise)
        tasks.cancel_all()
        tasks.start_soon(parent, name="late")
        await anyio.sleep(1)
        assert len(tasks) == 0
        group.cancel_scope.cancel()
    assert ran == []


async def test_starting_a_parent_without_a_supervisor_is_refused() -> None:
    tasks = ParentTasks()

    async def parent() -> None:
        await anyio.sleep(1)

    with pytest.raises(EngineError, match="not running, or is closing"):
        tasks.start_soon(parent, name="p")
    async with anyio.create_task_group() as group:
        await group.start(tasks.supervise)
        with pytest.raises(EngineError, match="already supervised"):
            await tasks.supervise()
        group.cancel_scope.cancel()
    # Once its supervisor ended, it refuses again.
    with pytest.raises(EngineError, match="not running, or is closing"):
        tasks.start_soon(parent, name="p")


async def test_a_group_supervised_again_runs_new_parents() -> None:
    tasks = ParentTasks()
    ran: list[int] = []

    async def parent(n: int) -> None:
        await anyio.sleep(1)
        ran.append(n)

    for round_ in range(2):
        async with anyio.create_task_group() as group:
            await group.start(tasks.supervise)
            tasks.start_soon(parent, round_, name="p")
            await anyio.sleep(2)
            group.cancel_scope.cancel()
    assert ran == [0, 1]

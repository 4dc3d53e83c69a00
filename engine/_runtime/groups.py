"""Exception groups a context manager's own task group makes of the error in its body.

An ``async with`` block whose owner runs a task group sees the body's error come back from the
group wrapped in an ``ExceptionGroup`` (nested once per group). As anyio's and trio's own context
managers do, a single error from the user's code must come out as itself, so that
``except InvalidInputError:`` around the block still catches it. Anything else (a part of the
owner failed too) stays a group: nothing is hidden.
"""

from __future__ import annotations

__all__ = ["holds_only", "sole_error"]


def holds_only(raised: BaseException, error: BaseException | None) -> bool:
    """True if ``raised`` is ``error`` or a group holding only ``error`` (at any depth)."""
    if error is None:
        return False
    while isinstance(raised, BaseExceptionGroup) and len(raised.exceptions) == 1:
        raised = raised.exceptions[0]
    return raised is error


def sole_error(raised: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The one error inside ``raised`` (nested groups of one) if it is a ``kind``, else None.

    For an owner's own report on the way out (``OrdersLeftOpenError``): it is not a task's
    failure, so it comes out as itself, while failures of the owner's tasks stay in their group.
    """
    while isinstance(raised, BaseExceptionGroup):
        if len(raised.exceptions) != 1:
            return None
        raised = raised.exceptions[0]
    return raised if isinstance(raised, kind) else None

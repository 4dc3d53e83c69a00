"""How recovery plans a parent's rest, as properties: the rest is never more than the quantity
less the journaled fills, never scheduled past the parent's own length, and a stranger's parent
is never touched."""

from __future__ import annotations

import time
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from daemon.journal import ParentRow
from daemon.recovery import plan_parent
from daemon.views import RecoveryPolicy, TwapRequest


def _row(
    quantity: int, filled: int, slices: int, interval: float, left: float, policy: str, venue: str
) -> ParentRow:
    request = TwapRequest(
        symbol="AAPL",
        side="buy",
        quantity=quantity,
        num_slices=slices,
        interval_seconds=interval,
        on_restart=policy,
    )
    now = time.time()
    return ParentRow(
        parent_id="P1",
        request=request,
        created_at=now + left - request.duration,
        deadline_at=now + left,
        state="working",
        report=None,
        note=None,
        venue=venue,
        account="acct",
        filled=Decimal(filled),
        notional=Decimal(0),
    )


@given(
    quantity=st.integers(1, 10_000),
    share_filled=st.floats(0, 1),
    slices=st.integers(1, 200),
    interval=st.floats(0.1, 600),
    share_left=st.floats(-2, 3),
    policy=st.sampled_from([p.value for p in RecoveryPolicy]),
    venue=st.sampled_from(["venue-1", "venue-2"]),
)
def test_the_rest_is_the_unfilled_quantity_within_the_parents_own_schedule(
    quantity: int,
    share_filled: float,
    slices: int,
    interval: float,
    share_left: float,
    policy: str,
    venue: str,
) -> None:
    filled = int(quantity * share_filled)
    duration = slices * interval
    row = _row(quantity, filled, slices, interval, share_left * duration, policy, venue)
    plan = plan_parent(row, "venue-1", "acct", unsettled=False)
    if venue != "venue-1":
        assert plan.action == "held"
        assert plan.note is not None
        return
    if filled == quantity:
        assert (plan.action, plan.remaining) == ("done", Decimal(0))
        return
    assert plan.remaining == quantity - filled
    if policy == "cancel":
        assert plan.action == "cancel"
    elif policy == "complete" or share_left * duration < 1.0:
        assert plan.action == "complete"
    else:
        assert plan.action == "resume"
        assert 1 <= plan.num_slices <= slices
        assert plan.num_slices * plan.interval_seconds <= duration * (1 + 1e-9)


def test_a_parent_whose_child_could_not_be_settled_is_held() -> None:
    plan = plan_parent(_row(100, 10, 10, 1.0, 5.0, "resume", "venue-1"), "venue-1", "acct", unsettled=True)
    assert plan.action == "held"
    assert plan.note is not None
    assert "could not be settled" in plan.note

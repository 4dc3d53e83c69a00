"""Rate limits: the shapes a venue counts in (rolling windows, token buckets), weights and back-off.

That a sender pacing by a limit group never exceeds a window, and still uses 99% of it, is tried
in ``tests/promises/test_limits_hold.py``.
"""

from __future__ import annotations

import math

import aiolimiter
import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import InvalidInputError, LimitShape, RateLimit, RequestKind
from engine._queue.limits import LimitGroup, RollingWindow, TokenBucket
from engine.clock import now, run_virtual
from engine.rate_limits import max_window_count


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0, "period": 60}, "limit"),
        ({"limit": 1.5, "period": 60}, "limit"),
        ({"limit": True, "period": 60}, "limit"),
        ({"limit": 10, "period": 0}, "period"),
        ({"limit": 10, "period": math.nan}, "period"),
        ({"limit": 10, "period": math.inf}, "period"),
        ({"limit": 10, "period": 60, "submit_weight": -1}, "submit_weight"),
        ({"limit": 10, "period": 60, "cancel_weight": 0.5}, "cancel_weight"),
        ({"limit": 10, "period": 60, "lookup_weight": -2}, "lookup_weight"),
        ({"limit": 10, "period": 60, "quote_weight": -1}, "quote_weight"),
        ({"limit": 10, "period": 60, "shape": "sliding"}, "shape"),
        ({"limit": 10, "period": 60, "per_request_weight": "yes"}, "per_request_weight"),
    ],
)
def test_a_bad_limit_is_refused_naming_field_and_value(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        RateLimit(**kwargs)  # type: ignore[arg-type]  # deliberately wrong types
    assert caught.value.field == field
    assert field in str(caught.value)


def test_each_request_kind_costs_its_own_weight() -> None:
    limit = RateLimit(
        6000, 60, submit_weight=2, cancel_weight=1, lookup_weight=4, per_request_weight=True, quote_weight=3
    )
    assert limit.cost(RequestKind.SUBMIT) == 2
    assert limit.cost(RequestKind.SUBMIT, 5) == 10
    assert limit.cost(RequestKind.CANCEL, 3) == 3
    assert limit.cost(RequestKind.LOOKUP) == 4
    assert limit.cost(RequestKind.QUOTE) == 3
    orders_only = RateLimit(50, 10, cancel_weight=0)
    assert orders_only.cost(RequestKind.SUBMIT, 5) == 1  # counts orders, not weight
    assert orders_only.cost(RequestKind.CANCEL) == 0
    assert orders_only.cost(RequestKind.LOOKUP) == orders_only.cost(RequestKind.QUOTE) == 0  # not counted
    assert RateLimit.per_minute(100) == RateLimit(100, 60.0)
    assert RateLimit(10, 1, shape="token_bucket").shape is LimitShape.TOKEN_BUCKET


def test_a_rolling_window_admits_its_limit_then_waits_for_the_oldest_send_to_leave() -> None:
    window = RollingWindow(RateLimit(3, 10), margin=0.5)
    for time in (0.0, 1.0, 2.0):
        assert window.ready_at(1, time) == time
        window.record(1, time)
    assert window.ready_at(1, 2.0) == 10.5  # the send at 0 leaves the widened window at 10.5
    assert window.ready_at(2, 2.0) == 11.5
    assert window.used(10.5) == 2
    window.record(1, 10.5)
    assert window.ready_at(1, 10.5) == 11.5


def test_a_rolling_window_under_a_lowered_rate_admits_fewer() -> None:
    window = RollingWindow(RateLimit(10, 10))
    for _ in range(5):
        window.record(1, 0.0)
    assert window.ready_at(1, 0.0, scale=0.5) == 10.0
    assert window.ready_at(1, 0.0, scale=1.0) == 0.0


def test_a_request_heavier_than_a_lowered_limit_still_fits_an_empty_window() -> None:
    window = RollingWindow(RateLimit(10, 10))
    assert window.ready_at(8, 0.0, scale=0.5) == 0.0


def test_max_window_count_measures_closed_windows() -> None:
    assert max_window_count([], 10) == 0
    assert max_window_count([0.0, 5.0, 10.0, 10.1, 20.2], 10) == 3
    assert max_window_count([0.0, 1.0], 10, weights=[3, 4]) == 7


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        # eighths of a second: the loop clock, the drain (2.5 per second) and every level stay
        # exact binary fractions, so both sides decide on the same numbers; with arbitrary floats
        # a level that sits exactly on the limit rounds differently in each and the comparison
        # turns on the last bit
        st.tuples(st.integers(min_value=0, max_value=24).map(lambda k: k / 8), st.integers(1, 4)),
        min_size=1,
        max_size=40,
    )
)
def test_the_token_bucket_admits_exactly_what_aiolimiter_admits(steps: list[tuple[float, int]]) -> None:
    async def compare() -> None:
        reference = aiolimiter.AsyncLimiter(5, 2.0)
        bucket = TokenBucket(RateLimit(5, 2.0, shape=LimitShape.TOKEN_BUCKET))
        for delay, amount in steps:
            await anyio.sleep(delay)
            fits = bucket.ready_at(amount, now()) <= now()
            assert fits == reference.has_capacity(amount)
            if fits:
                bucket.record(amount, now())
                await reference.acquire(amount)

    run_virtual(compare)


def test_the_token_bucket_says_when_capacity_returns() -> None:
    bucket = TokenBucket(RateLimit(10, 10, shape=LimitShape.TOKEN_BUCKET))
    bucket.record(10, 0.0)
    assert bucket.ready_at(1, 0.0) == pytest.approx(1.0)
    assert bucket.ready_at(4, 2.0) == pytest.approx(4.0)
    assert bucket.level(5.0) == pytest.approx(5.0)


def test_a_429_pauses_the_group_lowers_the_rate_and_clean_periods_restore_it() -> None:
    group = LimitGroup([RateLimit(100, 10)], backoff_factor=0.5, min_rate_factor=0.25, recovery_step=0.25)
    group.on_rate_limited(1.0, resume_at=3.0)
    assert group.ready_at(RequestKind.SUBMIT, 1, 1.0) == 3.0
    assert group.rate_factor(3.0) == 0.5
    for _ in range(50):
        group.record(RequestKind.SUBMIT, 1, 3.0)
    assert group.ready_at(RequestKind.SUBMIT, 1, 3.0) == 13.0  # the recovery step comes first
    assert group.rate_factor(13.0) == 0.75
    assert group.rate_factor(23.0) == 1.0
    stats = group.statistics(23.0)
    assert stats.rate_limited_count == 1
    assert stats.usage == (("100/10s window", 0.0),)


def test_lookups_cost_nothing_where_the_venue_does_not_count_them() -> None:
    group = LimitGroup([RateLimit(1, 60)])
    group.record(RequestKind.SUBMIT, 1, 0.0)
    assert group.ready_at(RequestKind.LOOKUP, 1, 0.0) == 0.0
    assert group.ready_at(RequestKind.CANCEL, 1, 0.0) == 60.0


def test_a_request_that_could_never_fit_is_refused_up_front() -> None:
    group = LimitGroup([RateLimit(10, 60, per_request_weight=True)])
    with pytest.raises(InvalidInputError, match="weight=11"):
        group.check_cost(RequestKind.SUBMIT, 11)
    group.check_cost(RequestKind.SUBMIT, 10)


def test_a_kind_whose_lone_request_outweighs_a_limit_is_refused_at_weight_one() -> None:
    group = LimitGroup([RateLimit(100, 60), RateLimit(2, 60, cancel_weight=3)])
    with pytest.raises(InvalidInputError, match="a cancel of this weight exceeds the limit 2/60s window"):
        group.check_cost(RequestKind.CANCEL, 1)
    group.check_cost(RequestKind.SUBMIT, 1)
    LimitGroup([]).check_cost(RequestKind.CANCEL, 1)  # no limit: anything fits


def test_take_counts_a_request_only_when_it_fits_now() -> None:
    group = LimitGroup([RateLimit(2, 10)])
    assert group.take(RequestKind.SUBMIT, 1, 0.0)
    assert group.take(RequestKind.SUBMIT, 1, 1.0)
    assert not group.take(RequestKind.SUBMIT, 1, 5.0)
    assert group.statistics(5.0).usage == (("2/10s window", 2.0),)  # the refused one counted nothing
    assert group.take(RequestKind.SUBMIT, 1, 10.0)
    assert group.take(RequestKind.LOOKUP, 1, 10.0)  # weight zero here: always fits


def test_take_with_no_limits_admits_everything_but_a_venue_pause() -> None:
    group = LimitGroup([])
    assert all(group.take(RequestKind.SUBMIT, 1, 0.0) for _ in range(1000))
    group.on_rate_limited(1.0, resume_at=3.0)
    assert not group.take(RequestKind.SUBMIT, 1, 2.9)
    assert group.take(RequestKind.SUBMIT, 1, 3.0)


@settings(max_examples=60, deadline=None)
@given(
    shapes=st.lists(st.sampled_from(list(LimitShape)), min_size=0, max_size=3),
    margin=st.sampled_from([0.0, 0.05]),
    steps=st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.0, 0.1, 0.7, 3.0]),
            st.sampled_from([RequestKind.SUBMIT, RequestKind.CANCEL, RequestKind.LOOKUP]),
            st.integers(min_value=1, max_value=3),
            st.sampled_from([None, None, None, None, 0.5, 4.0]),
        ),
        min_size=1,
        max_size=80,
    ),
)
def test_take_answers_exactly_as_ready_at_followed_by_record(
    shapes: list[LimitShape],
    margin: float,
    steps: list[tuple[float, RequestKind, int, float | None]],
) -> None:
    limits = [
        RateLimit(3 + 2 * index, 2.0 + index, shape=shape, lookup_weight=index % 2, per_request_weight=True)
        for index, shape in enumerate(shapes)
    ]
    taking, asking = (LimitGroup(limits, safety_margin=margin, backoff_factor=0.5) for _ in range(2))
    time = 0.0
    for gap, kind, weight, pause in steps:
        time += gap
        if pause is not None:  # a 429 at this instant, as the queue reports it
            taking.on_rate_limited(time, time + pause)
            asking.on_rate_limited(time, time + pause)
        fits = asking.ready_at(kind, weight, time) <= time
        if fits:
            asking.record(kind, weight, time)
        assert taking.take(kind, weight, time) == fits
        assert taking.statistics(time) == asking.statistics(time)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"safety_margin": -1}, "safety_margin"),
        ({"backoff_factor": 0}, "backoff_factor"),
        ({"min_rate_factor": 2}, "min_rate_factor"),
        ({"recovery_period": math.nan}, "recovery_period"),
        ({"limits": ["100/min"]}, "limits[0]"),
    ],
)
def test_a_bad_group_setting_is_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"limits": [RateLimit(10, 1)], **kwargs}
    with pytest.raises(InvalidInputError) as caught:
        LimitGroup(**arguments)  # type: ignore[arg-type]  # deliberately wrong values
    assert caught.value.field == field


def test_429s_answering_sends_made_before_the_pause_lower_the_rate_once() -> None:
    group = LimitGroup([RateLimit(100, 10)], backoff_factor=0.5, min_rate_factor=0.1)
    group.on_rate_limited(1.0, resume_at=3.0)
    group.on_rate_limited(1.1, resume_at=3.2)  # sent before the pause began: the same overload
    group.on_rate_limited(2.9, resume_at=3.5)
    assert group.rate_factor(3.0) == 0.5
    assert group.paused_until() == 3.5
    assert group.statistics(3.0).rate_limited_count == 3
    group.on_rate_limited(4.0, resume_at=5.0)  # sent after the pause: the lower rate still overloads
    assert group.rate_factor(4.0) == 0.25


def test_a_token_bucket_with_a_margin_still_sends_its_burst_and_then_its_full_rate() -> None:
    group = LimitGroup([RateLimit(10, 10.0, shape=LimitShape.TOKEN_BUCKET)], safety_margin=0.05)
    time, times = 0.0, []
    for _ in range(15):
        time = group.ready_at(RequestKind.SUBMIT, 1, time)
        group.record(RequestKind.SUBMIT, 1, time)
        times.append(time)
    assert times == pytest.approx([0.0] * 10 + [1.05, 2.05, 3.05, 4.05, 5.05])

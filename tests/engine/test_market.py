"""Quotes: a bid below the ask, both finite and positive; the mid and spread follow from them."""

from __future__ import annotations

import pytest

from engine import InvalidInputError, Quote


def test_quote_refuses_crossed_and_bad_prices() -> None:
    quote = Quote("X", bid=99, ask="101")
    assert quote.mid == 100
    assert quote.spread == 2
    with pytest.raises(InvalidInputError, match="bid"):
        Quote("X", bid=102, ask=101)
    with pytest.raises(InvalidInputError, match="ask"):
        Quote("X", bid=1, ask=float("nan"))

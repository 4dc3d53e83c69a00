"""A replay's seed: a block bootstrap of its returns, and the typical volatility and volume it shows.

A replay on its own is one path: every seed meets the same prices, so a study over seeds learns
only about latency. With ``bootstrap_block = B`` (a venue setting; 0, the default, replays the
data as it is) the venue seed draws a new path from the data: the close-to-close returns of each
symbol are resampled in blocks of ``B`` consecutive rows (the moving-block bootstrap of Künsch,
"The jackknife and the bootstrap for general stationary observations", Annals of Statistics,
1989; blocks keep volatility clusters and the intraday order of volume), chained from the first
close. The returns are centred first (the data's average log return taken out of each), so no
drawn path is expected to trend: the one drift the data happened to have would otherwise favour
whoever trades early on every path (a buyer, when it rose). Each new row is the source row of its
return moved to the new close (its spread, range and volume kept) at the time of the row it
replaces, so the volume profile over the day stays where it was. Several symbols share the block
starts (as fractions of their rows), which keeps their co-movement roughly. Random numbers come
from ``random.Random(f"{seed}:bootstrap")``.

The ``square_root`` model needs each symbol's typical volatility and volume rate; a replay
measures them: the volatility per square-root second from the squared log returns of the closes
over the time they span, the volume rate from the total volume over the duration.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Protocol, TypeVar

__all__ = ["ReplayedRow", "block_bootstrap", "typical_activity"]


class ReplayedRow(Protocol):
    """What the bootstrap reads of a replayed row."""

    @property
    def time(self) -> float: ...

    @property
    def symbol(self) -> str: ...

    @property
    def last(self) -> Decimal: ...

    @property
    def volume(self) -> Decimal | None: ...


Row = TypeVar("Row", bound=ReplayedRow)


def _indices(length: int, block: int, starts: Sequence[float]) -> list[int]:
    """For rows 1..length-1, the source row of each one's return (row 0 stays where it is)."""
    returns = length - 1
    chosen = [0]
    for position in range(returns):
        number, offset = divmod(position, block)
        start = int(starts[number] * returns)
        chosen.append(1 + (start + offset) % returns)  # circular: a block may wrap around
    return chosen


def block_bootstrap(
    rows: Sequence[Row], block: int, seed: int, rescale: Callable[[Row, Decimal, float], Row]
) -> tuple[Row, ...]:
    """``rows`` with every symbol's returns resampled in blocks of ``block`` rows; ``rescale(row,
    factor, time)`` moves a source row's prices by ``factor`` and puts it at ``time``."""
    rng = random.Random(f"{seed}:bootstrap")
    per_symbol: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        per_symbol.setdefault(row.symbol, []).append(index)
    longest = max(len(positions) for positions in per_symbol.values())
    starts = [rng.random() for _ in range(longest // block + 1)]
    result = list(rows)
    for positions in per_symbol.values():
        if len(positions) < 2:
            continue
        chosen = _indices(len(positions), block, starts)
        close = rows[positions[0]].last
        drift = math.log(rows[positions[-1]].last / close) / (len(positions) - 1)
        centre = Decimal(repr(math.exp(-drift)))
        for place in range(1, len(positions)):
            source = rows[positions[chosen[place]]]
            before = rows[positions[chosen[place] - 1]]
            close = close * source.last / before.last * centre
            target = rows[positions[place]]
            result[positions[place]] = rescale(source, close / source.last, target.time)
    return tuple(result)


def typical_activity(rows: Sequence[ReplayedRow], symbol: str) -> tuple[float, float | None] | None:
    """``(volatility per square-root second, shares per second)`` of ``symbol`` in ``rows``; the
    volume rate is ``None`` for quotes (no volume column), the whole ``None`` for too few rows."""
    mine = [row for row in rows if row.symbol == symbol]
    if len(mine) < 2 or mine[-1].time <= mine[0].time:
        return None
    squares = 0.0
    for before, after in itertools.pairwise(mine):
        squares += math.log(float(after.last) / float(before.last)) ** 2
    span = mine[-1].time - mine[0].time
    volumes = [row.volume for row in mine[1:]]
    sigma = math.sqrt(squares / span)
    if any(volume is None for volume in volumes):
        return sigma, None
    volume = float(sum((v for v in volumes if v is not None), Decimal(0)))
    return sigma, volume / span

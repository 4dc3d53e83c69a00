"""From validated inputs to whole-lot positions: bands, ideal values, budget, rounding, reasons.

The order of the steps is the design:

1. Symbols held without a target are frozen or liquidated; targeted symbols whose weight is
   inside the drift band are frozen. The others share what the frozen ones leave (the
   allocation is recomputed, not merely filtered); a banded name within rounding of the target
   it shares with the names that trade is held with its residual in cash instead
   (``near_targets``). A band holds a name only if a re-plan after the plan's costs would hold
   it the same way (``band_breaches``; the planner re-runs the allocation without the bands of
   the names that fail that).
2. Targets are values of the portfolio net of the estimated trading costs, so the costs come out
   of every name pro rata and re-planning after execution finds the same ideal.
3. The mode removes the forbidden side; buys are scaled down so cash ends at or above the floor
   (sells fund buys); all trades are scaled to the turnover cap.
4. A name already within one lot (plus the hold tolerance) of its ideal keeps its position; so
   does one whose trade is below the venue's or the planner's minimum, unless trading the minimum
   leaves it nearer its ideal (or the cash floor, the mode or the cap moved its target).
5. The rest are rounded together (``engine._planning.rounding``); the costs of the rounded trades feed
   back into step 2 until they agree (a few rounds at most).
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Decimal

from engine._planning.bands import WHOLE_SHARES, near_targets
from engine._planning.inputs import PlanInputs
from engine._planning.options import RebalanceMode, RoundingMethod, TradeReason, UntargetedPolicy
from engine._planning.rounding import RoundingProblem, RoundingResult
from engine._planning.rounding_search import round_heuristic
from engine._planning.settings import Allocation, PlannerSettings
from engine.errors import InvalidInputError

__all__ = ["allocate"]

# The largest trade, in lots, a plan can count exactly: the working values are floats, which hold
# every whole number only up to 2^53. A larger trade is refused, never capped.
_MAX_LOTS = 2**53
_FUZZ = 1e-9  # float noise when a ratio should be a whole number of lots
_ROUNDS = 4  # cost feedback rounds; they agree after one or two in practice
_INFINITY, _MINUS_INFINITY = Decimal("Infinity"), Decimal("-Infinity")
_EXACT_LOTS = 10**6  # past this many lots, whole lots held are counted in Decimal


class _Name:
    """Float working data of one symbol that may trade (a plain slotted class: one per name)."""

    __slots__ = ("cause", "goal", "held_lots", "ideal", "liquidate", "lot", "min_lots", "min_reason",
                 "pinned", "price", "quantity", "reserved", "symbol", "target", "weight")

    def __init__(self, symbol: str, quantity: float, price: float, lot: float, weight: float,
                 min_lots: int, min_reason: TradeReason, liquidate: bool, pinned: bool) -> None:
        self.symbol, self.quantity, self.price, self.lot = symbol, quantity, price, lot
        self.weight, self.min_lots, self.min_reason = weight, min_lots, min_reason
        self.liquidate = liquidate
        self.held_lots = math.floor(quantity / lot + _FUZZ)  # whole lots held (exact if large: below)
        self.pinned = pinned  # inside its band and within rounding of target: never traded
        self.target = 0.0
        self.goal = 0.0  # the target before mode, cash and turnover cuts
        self.ideal = 0.0
        self.cause: TradeReason | None = None
        self.reserved = False  # the target was lowered by more than a lot to keep the cash reserve


class _Planner:
    """One allocation run; holds the float view of the inputs."""

    def __init__(self, inputs: PlanInputs, settings: PlannerSettings, unbanded: frozenset[str]) -> None:
        self.inputs, self.settings = inputs, settings
        self.unbanded = unbanded  # names whose band the plan's own costs would break
        self.value = float(inputs.portfolio_value)
        self.cash = float(inputs.cash)
        self.slippage = float(settings.slippage_bps) / 10_000.0
        floor = settings.cash_reserve - (settings.max_leverage - 1) * inputs.portfolio_value
        self.floor = floor
        # A hair above the true floor so float error never lands a plan below it in Decimal;
        # choices inside the hair are checked exactly.
        self.margin = 1e-9 * self.value + 1e-6
        self.float_floor = float(floor) + self.margin
        self.reasons: dict[str, TradeReason] = {}
        self.notes: dict[str, str] = {}
        self.frozen: list[tuple[str, float, float]] = []  # symbol, value, target weight
        self.names: list[_Name] = []
        self.costs = 0.0  # estimated trading costs, fed back from the last rounding
        self._classify()

    def _set_floor(self, costs: float) -> None:
        """Borrowing is a share of the portfolio's value after the plan's costs, not before:
        otherwise the executed plan sits below the floor a re-plan computes, which then sells."""
        settings = self.settings
        value_after = self.inputs.portfolio_value - Decimal(repr(costs))
        self.floor = settings.cash_reserve - (settings.max_leverage - 1) * value_after
        self.float_floor = float(self.floor) + self.margin

    def _classify(self) -> None:
        inputs, settings = self.inputs, self.settings
        value = inputs.portfolio_value
        min_trade = settings.min_trade_notional
        banded = settings.absolute_band is not None or settings.relative_band is not None
        freeze = settings.untargeted is UntargetedPolicy.FREEZE
        weight_of, rule_of, prices = inputs.weights.get, inputs.instruments.get, inputs.prices
        append, unbanded = self.names.append, self.unbanded
        near = near_targets(inputs, settings, unbanded, value) if banded else {}
        for symbol in inputs.symbols:
            quantity, weight = inputs.positions[symbol], weight_of(symbol)
            if weight is None and freeze:
                self._freeze(symbol, TradeReason.FROZEN, "held without a target; kept as it is")
                continue
            if weight is None and quantity == 0:
                self.reasons[symbol], self.notes[symbol] = TradeReason.AT_TARGET, "not held, no target"
                continue
            price = prices[symbol]
            pinned = False
            if symbol in near:
                note = f"weight {quantity * price / value:.4%} is inside the band around {weight:.4%}"
                if not near[symbol]:
                    self._freeze(symbol, TradeReason.INSIDE_BAND, note)
                    continue
                # Within rounding of its target: held, but its residual stays in cash like any
                # rounding residual rather than re-sizing the others.
                self.notes[symbol], pinned = note, True
            instrument, fprice = rule_of(symbol) or WHOLE_SHARES, float(price)
            lot, min_lots, min_reason = float(instrument.lot_size), 1, TradeReason.BELOW_MIN_NOTIONAL
            if instrument.min_quantity or instrument.min_notional or min_trade:
                by_quantity, by_notional = instrument.min_order_lots(price, min_trade)
                min_lots = max(by_quantity, by_notional)
                if by_quantity > by_notional and instrument.min_quantity:
                    min_reason = TradeReason.BELOW_MIN_QUANTITY
            name = _Name(symbol, float(quantity), fprice, lot, float(weight or 0), min_lots, min_reason,
                         weight is None, pinned)
            if abs(name.held_lots) > _EXACT_LOTS:  # float division can miss a whole lot this far out
                name.held_lots = int((quantity / instrument.lot_size).to_integral_value(ROUND_FLOOR))
            append(name)

    def _freeze(self, symbol: str, reason: TradeReason, note: str) -> None:
        inputs = self.inputs
        position_value = float(inputs.positions[symbol] * inputs.prices[symbol])
        self.frozen.append((symbol, position_value, float(inputs.weights.get(symbol, 0))))
        self.reasons[symbol], self.notes[symbol] = reason, note

    def _set_targets(self, net_value: float) -> None:
        """Step 2: target values of the tradable names, sharing what the frozen names leave.

        Cash is kept at its target weight or at the floor (the reserve), whichever is more; when
        the reserve is the larger, every position gives up its share of the difference. That
        depends on the targets only, not on the positions, so a re-plan finds the same ideals.
        """
        weighted_cash = float(self.inputs.cash_weight) * net_value
        cash_target = max(weighted_cash, float(self.floor))
        frozen_value = sum(position_value for _symbol, position_value, _weight in self.frozen)
        if not self.settings.allow_short:
            for name in self.names:
                if name.liquidate:
                    # Only whole lots can be sold: a stray fraction stays, outside the allocation.
                    lots = name.held_lots
                    frozen_value += max(name.quantity - lots * name.lot, 0.0) * name.price
        weights = sum(n.weight for n in self.names)
        surplus = net_value - frozen_value - cash_target - weights * net_value
        # Cash the reserve needs comes out of the long positions, down to zero: selling short
        # would raise cash that is owed back, at a cost.
        sharing = self.names if surplus >= 0 else [n for n in self.names if n.weight > 0]
        spread = sum(abs(n.weight) for n in sharing)
        for name in self.names:
            name.cause = None
            shares = spread and (surplus >= 0 or name.weight > 0)
            share = surplus * abs(name.weight) / spread if shares else 0.0
            name.target = name.weight * net_value + share
            if surplus < 0 and name.weight > 0:
                name.target = max(name.target, 0.0)
            # Named when the reserve (not the frozen names) is what takes more than a lot away.
            name.reserved = share < 0 and cash_target > weighted_cash \
                and name.weight * net_value - name.target > name.lot * name.price
            if name.liquidate and not self.settings.allow_short:
                stray = name.quantity - name.held_lots * name.lot
                name.target = max(stray, 0.0) * name.price

    def _restrict(self) -> None:
        """Step 3: mode, cash floor (buys shrink first) and turnover cap."""
        mode, names = self.settings.mode, self.names
        for name in names:
            held = name.quantity * name.price
            if (mode is RebalanceMode.INVEST_CASH and name.target < held) or (
                mode is RebalanceMode.RAISE_CASH and name.target > held
            ):
                name.target, name.cause = held, TradeReason.MODE
        projected = self.cash + sum(n.quantity * n.price - n.target for n in names) - self.costs
        # Against the true floor: the float margin guards rounding choices, not ideal sizes.
        shortfall = float(self.floor) - projected
        if shortfall > 1e-9 * self.value:
            buys = [n for n in names if n.target > n.quantity * n.price]
            total = sum(n.target - n.quantity * n.price for n in buys)
            share = min(1.0, shortfall / total) if total > 0 else 0.0
            for name in buys:
                name.target -= share * (name.target - name.quantity * name.price)
                name.cause = TradeReason.CASH_LIMIT
            shortfall -= share * total
            if shortfall > 0 and mode is not RebalanceMode.INVEST_CASH:
                longs = [n for n in names if n.target > 0]
                held = sum(n.target for n in longs)
                for name in longs:
                    name.target -= min(name.target, shortfall * name.target / held)
                    name.cause = TradeReason.CASH_LIMIT
        cap = self.settings.turnover_cap
        if cap is None:
            return
        moves = sum(abs(n.target - n.quantity * n.price) for n in names)
        # Room for each sell's rounding, which may sell up to one lot more than the ideal.
        margin = sum(n.lot * n.price for n in names if n.target < n.quantity * n.price)
        limit = float(cap) * self.value
        if moves > limit:
            scale = max(0.0, (limit - margin) / moves)
            for name in names:
                held = name.quantity * name.price
                name.target = held + scale * (name.target - held)
                name.cause = TradeReason.TURNOVER_CAP

    def _problem(self, active: list[_Name], cash_start: float, cash_target: float) -> RoundingProblem:
        fees, settings = self.settings.fees, self.settings
        k_low: list[int] = []
        k_high: list[int] = []
        k_min: list[int] = []
        k_max: list[int] = []
        self.displaced: set[int] = set()
        floor, ceil = math.floor, math.ceil
        short, mode = settings.allow_short, settings.mode
        for name in active:
            ratio = (name.ideal - name.quantity) / name.lot
            low, high = floor(ratio + _FUZZ), ceil(ratio - _FUZZ)
            if abs(ratio) > _MAX_LOTS:
                raise InvalidInputError(
                    "portfolio_value",
                    self.value,
                    f"{name.symbol} would trade about {abs(ratio):.3g} lots of {name.lot:g}, more than "
                    "the 2^53 lots a plan counts exactly; give it a larger lot size or plan a smaller "
                    "portfolio",
                )
            lowest = -_MAX_LOTS if short else -name.held_lots
            highest = _MAX_LOTS
            if mode is RebalanceMode.INVEST_CASH:
                lowest = max(lowest, 0)
            elif mode is RebalanceMode.RAISE_CASH:
                highest = 0
            if low < lowest:
                low = lowest
            if high < lowest:
                high = lowest
            if low > highest:
                low = highest
            if high > highest:
                high = highest
            m = name.min_lots
            if m > 1 and (0 < abs(low) < m or 0 < abs(high) < m):
                # Move a bracket end out of the zone the venue forbids: (0, m) lots either way.
                self.displaced.add(len(k_low))
                # The minimum is traded only if it leaves the name nearer its ideal than it is:
                # else a re-plan after it would find the name as far off on the other side, and
                # trade the minimum back (paying the costs twice for nothing). A target the
                # cash floor, the mode or the cap moved keeps the old choice: raising the
                # reserve comes first, and a cut plan leaves work for the next one anyway.
                nearer = name.cause is not None or m < 2 * abs(ratio) - _FUZZ
                if 0 < low < m:
                    low = 0
                elif -m < low < 0:
                    # Sell the venue's minimum only if that stays within what is held, unless
                    # the target itself is short: never go short just to make a sell large enough.
                    within = name.quantity - m * name.lot >= -_FUZZ * name.lot or name.ideal < 0
                    low = -m if -m >= lowest and within and nearer else 0
                if 0 < high < m:
                    high = m if m <= highest and nearer else 0
                elif -m < high < 0:
                    high = 0
            k_low.append(low)
            k_high.append(high if high > low else low)
            k_min.append(lowest)
            k_max.append(highest)
        cap = self.settings.turnover_cap
        return RoundingProblem(
            quantity=[n.quantity for n in active], lot=[n.lot for n in active],
            price=[n.price for n in active], target=[n.target for n in active],
            goal=[n.goal for n in active],
            k_low=k_low, k_high=k_high, k_min=k_min, k_max=k_max,
            min_lots=[n.min_lots for n in active],
            cash_start=cash_start, cash_target=cash_target, cash_floor=self.float_floor,
            turnover_cap=math.inf if cap is None else float(cap) * self.value, turnover_start=0.0,
            buy_factor=1.0 + self.slippage, sell_factor=1.0 - self.slippage,
            fee_bps=float(fees.bps), fee_per_share=float(fees.per_share), fee_minimum=float(fees.minimum),
            tolerance=1e-12 * self.value,
            exact_floor_check=lambda ks: self._exact_cash(active, ks) >= self.floor,
            cash_margin=2 * self.margin,
        )

    def _exact_cash(self, active: list[_Name], ks: list[int]) -> Decimal:
        inputs, fees = self.inputs, self.settings.fees
        slip = self.settings.slippage_bps / 10_000
        cash = inputs.cash
        for name, k in zip(active, ks, strict=True):
            if k:
                instrument = inputs.instruments.get(name.symbol)
                lot = instrument.lot_size if instrument else Decimal(1)
                price = inputs.prices[name.symbol]
                quantity = abs(k) * lot
                cash -= k * lot * price + quantity * price * slip + fees.estimate(quantity, price)
        return cash

    def _hold_reason(self, name: _Name, tolerance: float) -> TradeReason | None:
        """Step 4: why this name keeps its position before rounding, if it does."""
        if name.pinned:
            return TradeReason.INSIDE_BAND
        trade = name.ideal - name.quantity
        if name.cause is TradeReason.MODE and abs(trade) * name.price <= _FUZZ * self.value:
            return TradeReason.MODE
        # A held position within a lot of its target is left alone: trading it would only move
        # the rounding error around. A new position, or a cut one, is rounded like any other.
        cut = name.cause is TradeReason.CASH_LIMIT or name.cause is TradeReason.TURNOVER_CAP
        if name.quantity and not cut and not name.liquidate \
                and abs(trade) < name.lot + tolerance * abs(name.target) / name.price:
            return TradeReason.AT_TARGET
        return None

    def run(self) -> Allocation:
        costs, result = 0.0, RoundingResult([], 0.0, 0.0, {})
        held: dict[str, TradeReason] = {}
        active: list[_Name] = []
        ideal: dict[str, float] = {}
        for _ in range(_ROUNDS):
            self.costs = costs
            net_value = self.value - costs
            if costs and self.settings.max_leverage > 1:
                self._set_floor(costs)
            self._set_targets(net_value)
            ideal = {n.symbol: n.target / n.price for n in self.names}
            for name in self.names:
                name.goal = name.target
            self._restrict()
            held, active = {}, []
            tolerance = float(self.settings.hold_tolerance)
            for name in self.names:
                name.ideal = name.target / name.price
                reason = self._hold_reason(name, tolerance)
                if reason is None:
                    active.append(name)
                else:
                    held[name.symbol] = reason
            problem = self._problem(active, self.cash, float(self.inputs.cash_weight) * net_value)
            if self.settings.rounding is RoundingMethod.EXACT:
                from engine._planning.exact_rounding import round_exact

                result = round_exact(problem, self.settings.exact_time_limit)
            else:
                result = round_heuristic(problem)
            if self.settings.fees.is_free and not self.slippage:
                break  # trading costs nothing: the targets need no second look
            # Cost of a trade: what it takes from cash beyond its value at the reference price.
            new_costs = sum(
                -k * n.lot * n.price - problem.cashflow(i, k)
                for i, (k, n) in enumerate(zip(result.k, active, strict=True)) if k
            )
            if abs(new_costs - costs) <= 1e-9 * self.value:
                break
            costs = new_costs
        return self._finish(active, result, held, ideal)

    def _finish(self, active: list[_Name], result: RoundingResult, held: dict[str, TradeReason],
                ideal: dict[str, float]) -> Allocation:
        lots: dict[str, int] = {}
        reasons, notes = self.reasons, self.notes
        for name, reason in ((n, held[n.symbol]) for n in self.names if n.symbol in held):
            gap = abs(ideal[name.symbol] - name.quantity)
            if reason is TradeReason.AT_TARGET and name.cause is not None and gap >= name.lot:
                reason = name.cause  # at its adjusted target, which the cause moved
            reasons[name.symbol] = reason
            if reason is not TradeReason.INSIDE_BAND and reason is not TradeReason.AT_TARGET:
                notes[name.symbol] = _hold_note(name, reason)  # a pinned name keeps its band note
        displaced, chosen, cut = self.displaced, result.k, result.reasons
        for i, name in enumerate(active):
            k = chosen[i]
            if k:
                lots[name.symbol] = k
            why = cut.get(i)
            ratio = (ideal[name.symbol] - name.quantity) / name.lot
            if why is None and abs(k - ratio) >= 1 - _FUZZ:
                if name.cause is not None:
                    why = name.cause
                elif name.min_lots > 1:
                    why = name.min_reason
                else:
                    why = TradeReason.LOT_ROUNDING
            elif why is None and k == 0 and i in displaced:
                why = name.min_reason  # the nearest lot up was below the minimum trade
            if why is None and name.reserved:
                why = TradeReason.CASH_LIMIT
            if why is None:  # the common case: no note, the row itself shows the numbers
                if k == 0:
                    reasons[name.symbol] = TradeReason.MODE if name.cause is TradeReason.MODE \
                        else TradeReason.AT_TARGET
                else:
                    reasons[name.symbol] = TradeReason.LIQUIDATE if name.liquidate else TradeReason.REBALANCE
                continue
            reasons[name.symbol] = why
            notes[name.symbol] = f"{why.text} (ideal {ratio:+.6g} lots, trades {k:+d})"
        return Allocation(lots=lots, ideal=ideal, reasons=self.reasons, notes=self.notes,
                          cash_floor=self.floor)


def _hold_note(name: _Name, reason: TradeReason) -> str:
    gap = name.ideal - name.quantity
    return f"{reason.text} (ideal trade {gap:+.6g}, smallest allowed {name.min_lots} × {name.lot:g})"


def allocate(inputs: PlanInputs, settings: PlannerSettings,
             unbanded: frozenset[str] = frozenset()) -> Allocation:
    """Run the whole allocation of one plan (see the module docstring for the steps).

    Names in ``unbanded`` are not held by their drift band, whatever their weight.
    """
    return _Planner(inputs, settings, unbanded).run()

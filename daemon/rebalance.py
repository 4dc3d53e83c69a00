"""Planning a rebalance for the service: the venue's rules and quotes, the engine's planner."""

from __future__ import annotations

from decimal import Decimal

from daemon.views import PlannedTradeView, RebalanceRequest, RebalanceView
from engine import RebalancingPlanner, TradingGateway

__all__ = ["plan_rebalance"]


async def plan_rebalance(
    gateway: TradingGateway, request: RebalanceRequest, rebalance_id: str
) -> RebalanceView:
    """The plan for ``request`` with each trade's reason; prices default to the venue's mid quotes.

    Unknown symbols and bad weights raise ``InvalidInputError`` naming the field and value.
    """
    symbols = sorted(set(request.target_weights) | set(request.current_positions))
    for symbol in symbols:
        gateway.instrument(symbol)
    prices: dict[str, Decimal] = dict(request.prices or {})
    for symbol in symbols:
        if symbol not in prices:
            prices[symbol] = (await gateway.get_quote(symbol)).mid
    instruments = {symbol: gateway.instrument(symbol) for symbol in symbols}
    plan = RebalancingPlanner().create_plan(
        current_positions=request.current_positions,
        target_weights=request.target_weights,
        prices=prices,
        cash=request.cash,
        instruments=instruments,
    )
    trades = tuple(
        PlannedTradeView(
            symbol=trade.symbol,
            side=trade.side.value,
            quantity=trade.quantity,
            reference_price=trade.reference_price,
            estimated_price=trade.estimated_price,
            notional=trade.notional,
            estimated_fee=trade.estimated_fee,
            reason=trade.reason.value,
            note=trade.note,
        )
        for trade in plan.trades
    )
    return RebalanceView(
        rebalance_id=rebalance_id,
        dry_run=request.dry_run,
        trades=trades,
        parent_ids=(),
        portfolio_value=plan.portfolio_value_before,
        cash_before=plan.cash_before,
        cash_after=plan.cash_after,
    )

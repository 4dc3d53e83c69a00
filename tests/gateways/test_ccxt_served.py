"""The whole engine through CcxtGateway, HTTP and WebSocket, against the served paper exchange.

Real sockets on 127.0.0.1 (an ephemeral port), real time, short schedules: a rebalance by TWAP
with passive slices and deadline completion, with the wire faults on (answers dropped after the
order was accepted, 5xx after executing, slow answers, the user-data socket closed mid-run). The
reports must equal the venue's own fills, read from the ``SimulatedVenue`` behind the server.
These tests run their own (real-time) event loop with ``anyio.run``, not the virtual one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal

import anyio

from engine import ExecutionEngine, OrderFilled, PlanExecutionReport, RebalancingPlanner
from gateways.ccxt import Backoff, CcxtGateway, CcxtSettings
from gateways.served import ServedEndpoints, WireFaults, serve_venue
from gateways.simulated import LatencyModel, SimulatedVenue

RUN_SECONDS = 120.0


def served_gateway(served: ServedEndpoints, venue: SimulatedVenue, *, timeout: float = 2.0) -> CcxtGateway:
    """A gateway on the served venue, naming its markets as the venue does (``AAPL``)."""
    settings = CcxtSettings(
        "binance",
        served.api_key,
        served.secret,
        base_url=f"http://{served.host}:{served.port}",
        timeout=timeout,
    )
    aliases = {symbol: f"{symbol}/USDT" for symbol in venue.instruments}
    return CcxtGateway(settings, aliases=aliases, backoff=Backoff(first=0.05, max_delay=0.5))


def run_served(
    scenario: Callable[[ServedEndpoints, SimulatedVenue], Awaitable[None]], faults: WireFaults, seed: int
) -> None:
    async def main() -> None:
        venue = SimulatedVenue.demo(seed=seed, latency=LatencyModel.zero(), rate_limits=[])
        with anyio.fail_after(RUN_SECONDS):
            async with serve_venue(venue, faults=faults, seed=seed) as served:
                await scenario(served, venue)

    anyio.run(main)


def check_reports_equal_the_venues_fills(report: PlanExecutionReport, venue: SimulatedVenue) -> None:
    fills = [event for event in venue.event_log if isinstance(event, OrderFilled)]
    trade_ids = Counter((fill.symbol, fill.trade_id) for fill in fills)
    assert all(count == 1 for count in trade_ids.values())
    for parent in report.reports:
        mine = [fill for fill in fills if fill.symbol == parent.symbol]
        assert parent.filled_quantity <= parent.quantity  # no overfill
        assert parent.filled_quantity == parent.quantity  # deadline completion finished it
        assert parent.filled_quantity == sum(fill.quantity for fill in mine)  # every fill once
        assert parent.fees == sum(fill.fee for fill in mine)
        notional = sum(fill.quantity * fill.price for fill in mine)
        assert parent.avg_price is not None
        assert abs(parent.avg_price * parent.filled_quantity - notional) < Decimal("1e-6")


def check_no_duplicate_order(venue: SimulatedVenue) -> None:
    submits = [request for request in venue.request_log if request.kind == "submit"]
    ids = Counter(request.client_order_id for request in submits)
    assert ids, "nothing reached the venue"
    assert max(ids.values()) == 1, [client_id for client_id, count in ids.items() if count > 1]


def test_a_twap_rebalance_over_http_with_wire_faults_matches_the_venues_fills() -> None:
    faults = WireFaults(
        drop_answer=0.08,
        server_error=0.08,
        slow=0.1,
        close_user_stream=0.05,
        hold_seconds=3.0,
        slow_seconds=0.3,
    )

    async def scenario(served: ServedEndpoints, venue: SimulatedVenue) -> None:
        async with (
            served_gateway(served, venue, timeout=1.0) as gateway,
            ExecutionEngine(gateway, limits=gateway.limits, seed=11) as engine,
        ):
            prices = {symbol: (await gateway.get_quote(symbol)).mid for symbol in gateway.instruments}
            plan = RebalancingPlanner().create_plan(
                current_positions={"AAPL": 300, "MSFT": 0, "GOOGL": 0},
                target_weights={"AAPL": 0.2, "MSFT": 0.4, "GOOGL": 0.4},
                portfolio_value=100_000,
                prices=prices,
            )
            assert len(plan.trades) == 3
            report = await engine.execute_plan(
                plan, num_slices=4, interval_seconds=1.0, style="passive", complete_at_deadline=True
            )
            statistics = gateway.statistics()
        check_reports_equal_the_venues_fills(report, venue)
        check_no_duplicate_order(venue)
        assert served.statistics().rate_limit_violations == 0
        fired = served.statistics().faults
        assert min(fired.values()) > 0, fired  # every kind of fault did happen
        assert statistics.orders.overfills_dropped == 0

    run_served(scenario, faults, seed=4)


def test_a_user_stream_closed_mid_run_loses_no_fill() -> None:
    async def scenario(served: ServedEndpoints, venue: SimulatedVenue) -> None:
        async with (
            served_gateway(served, venue) as gateway,
            ExecutionEngine(gateway, limits=gateway.limits, seed=3) as engine,
        ):
            report = await engine.twap("MSFT", 60, "buy", num_slices=6, interval_seconds=0.5)
            statistics = gateway.statistics()
        fills = [event for event in venue.event_log if isinstance(event, OrderFilled)]
        assert report.filled_quantity == sum(fill.quantity for fill in fills) == 60
        assert statistics.stream_drops > 0
        assert statistics.reconcile.passes > 0
        assert served.statistics().faults["close_user_stream"] > 0

    run_served(scenario, WireFaults(close_user_stream=0.3), seed=8)

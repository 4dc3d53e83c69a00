"""Faults at the wire, as an unmodified ccxt client meets them: an order answer that never comes,
5xx after the request was executed, slow answers, and the user-data socket closed mid-run. In
each the venue's state is the truth, and the client finds it by looking the order up."""

from __future__ import annotations

import anyio
import ccxt.async_support as ccxt_async
import pytest

from gateways.served import ServedEndpoints, WireFaults
from tests.gateways.served.harness import Clients, run_served


def test_a_dropped_answer_times_out_at_the_client_though_the_order_was_accepted() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest(timeout_ms=300)
        served.exchange.set_wire_faults(WireFaults(drop_answer=1.0))
        with pytest.raises(ccxt_async.RequestTimeout):
            await exchange.create_order("AAPL/USDT", "market", "buy", 2, params={"clientOrderId": "drop-1"})
        served.exchange.set_wire_faults(WireFaults())
        found = await exchange.fetch_order(None, "AAPL/USDT", params={"clientOrderId": "drop-1"})
        assert (found["status"], found["filled"]) == ("closed", 2)
        assert served.statistics().faults["drop_answer"] == 1
        assert served.exchange.venue.positions["AAPL"] == 2

    run_served(scenario)


def test_a_5xx_answer_comes_after_the_order_was_executed() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        served.exchange.set_wire_faults(WireFaults(server_error=1.0))
        with pytest.raises(ccxt_async.ExchangeNotAvailable) as failed:
            await exchange.create_order(
                "AAPL/USDT", "limit", "buy", 1, 100, params={"clientOrderId": "5xx-1"}
            )
        assert "503" in str(failed.value)
        served.exchange.set_wire_faults(WireFaults())
        open_orders = await exchange.fetch_open_orders("AAPL/USDT")
        assert [order["clientOrderId"] for order in open_orders] == ["5xx-1"]

    run_served(scenario)


def test_a_slow_answer_arrives_late_and_a_short_client_timeout_gives_up_first() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        patient = await clients.rest(timeout_ms=10_000)
        hasty = await clients.rest(timeout_ms=100)
        served.exchange.set_wire_faults(WireFaults(slow=1.0, slow_seconds=0.5))
        late = await patient.create_order(
            "AAPL/USDT", "limit", "buy", 1, 100, params={"clientOrderId": "slow-1"}
        )
        assert late["clientOrderId"] == "slow-1"
        with pytest.raises(ccxt_async.RequestTimeout):
            await hasty.create_order("AAPL/USDT", "limit", "buy", 1, 100, params={"clientOrderId": "slow-2"})
        served.exchange.set_wire_faults(WireFaults())
        opened = {order["clientOrderId"] for order in await patient.fetch_open_orders("AAPL/USDT")}
        assert opened == {"slow-1", "slow-2"}
        assert served.statistics().faults["slow"] == 2

    run_served(scenario)


def test_the_user_data_socket_closed_mid_run_fails_the_watch_and_rest_still_knows() -> None:
    async def scenario(served: ServedEndpoints, clients: Clients) -> None:
        exchange = await clients.rest()
        pro = await clients.pro()
        failures: list[BaseException] = []

        async def watch() -> None:
            try:
                await pro.watch_orders("AAPL/USDT")
            except ccxt_async.NetworkError as error:
                failures.append(error)

        served.exchange.set_wire_faults(WireFaults(close_user_stream=1.0))
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch)
            with anyio.fail_after(5):
                await served.exchange.wait_user_stream()
            await exchange.create_order("AAPL/USDT", "market", "sell", 1, params={"clientOrderId": "ws-cut"})
        assert len(failures) == 1
        assert served.statistics().faults["close_user_stream"] == 1
        found = await exchange.fetch_order(None, "AAPL/USDT", params={"clientOrderId": "ws-cut"})
        assert found["status"] == "closed"

    run_served(scenario)


def test_the_same_seed_fires_the_same_faults() -> None:
    from gateways.served.faults import WireFaultInjector

    def draws(seed: int) -> list[bool]:
        injector = WireFaultInjector(WireFaults(server_error=0.3), seed)
        return [injector.fire("server_error") for _ in range(50)]

    assert draws(4) == draws(4)
    assert draws(4) != draws(5)
    with pytest.raises(ValueError, match="drop_answer"):
        WireFaults(drop_answer=1.5)

"""The ccxt exchange object the gateway makes: what every signed request carries."""

from __future__ import annotations

from urllib.parse import parse_qs

import anyio
import pytest

from gateways.ccxt import CcxtSettings
from gateways.ccxt.exchange import make_exchange, recv_window_ms


@pytest.mark.parametrize(
    ("timeout", "window"), [(10.0, 9_000), (30.0, 29_000), (1.5, 1_000), (600.0, 60_000)]
)
def test_a_signed_request_expires_at_the_venue_before_the_gateway_stops_waiting_for_it(
    timeout: float, window: int
) -> None:
    """With the venue's recvWindow a second below the timeout (Binance refuses a signing time more
    than 1 s ahead of its clock), a request not taken when it times out can never be taken later."""

    async def signed_body() -> str:
        exchange = make_exchange(CcxtSettings("binance", "key", "secret", timeout=timeout))
        try:
            request = exchange.sign("order", ["private"], "POST", {"symbol": "BTCUSDT"})
        finally:
            await exchange.close()
        return str(request["body"])

    assert recv_window_ms(int(timeout * 1000)) == window
    assert parse_qs(anyio.run(signed_body))["recvWindow"] == [str(window)]

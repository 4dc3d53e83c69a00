"""``/metrics``: the service's counters in Prometheus' format, read at scrape time."""

from __future__ import annotations

import anyio
from prometheus_client.parser import text_string_to_metric_families

from daemon.api.metrics import make_registry
from tests.daemon.api.harness import AUTH, asgi_client, open_service

TWAP = {"symbol": "AAPL", "side": "buy", "quantity": "40", "num_slices": 4, "interval_seconds": 1}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_orders_fills_parents_and_lateness_after_a_twap() -> None:
    async with open_service(max_orders_per_minute=120) as service, asgi_client(service) as client:
        before = samples((await client.get("/metrics", headers=AUTH)).text)
        await client.post("/v1/twaps", json=TWAP, headers=AUTH)
        await anyio.sleep(10)
        response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = samples(response.text)
    assert before[("twap_engine_orders_sent_total", ())] == 0
    assert after[("twap_engine_orders_sent_total", ())] == 4
    assert after[("twap_engine_orders_accepted_total", ())] == 4
    assert after[("twap_engine_orders_rejected_total", ())] == 0
    assert after[("twap_engine_fills_total", ())] >= 4
    assert after[("twap_engine_rate_limited_total", ())] == 0
    assert after[("twap_engine_queue_depth", ())] == 0
    assert after[("twap_engine_parents", (("state", "completed"),))] == 1
    assert after[("twap_engine_parents", (("state", "working"),))] == 0
    assert after[("twap_engine_slice_lateness_seconds_count", ())] == 4
    assert after[("twap_engine_slice_lateness_seconds_bucket", (("le", "+Inf"),))] == 4
    assert ("twap_engine_journal_write_seconds_count", ()) in after
    limit = [key for key in after if key[0] == "twap_engine_rate_limit_window_capacity"]
    assert len(limit) == 1
    assert after[limit[0]] == 120
    used_key = ("twap_engine_rate_limit_window_used", limit[0][1])
    assert after[used_key] == 4


async def test_each_app_has_a_registry_of_its_own() -> None:
    async with open_service() as first, open_service() as second:
        one = make_registry(first.statistics_nowait)
        other = make_registry(second.statistics_nowait)
        assert one is not other
        assert one.get_sample_value("twap_engine_orders_sent_total") == 0
        assert other.get_sample_value("twap_engine_orders_sent_total") == 0

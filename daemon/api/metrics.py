"""``GET /metrics``: the service's counters in Prometheus' text format, read at scrape time.

A custom collector turns one ``ServiceStatistics`` snapshot into metric families in the app's own
``CollectorRegistry`` (never the process-wide one, so two apps in one process do not collide).
Every name starts with ``twap_engine_``:

- ``orders_sent_total``, ``orders_accepted_total``, ``orders_rejected_total``,
  ``orders_failed_total``, ``cancels_sent_total``, ``fills_total``, ``rate_limited_total`` (429s);
- ``queue_depth``, ``orders_in_flight``; ``rate_limit_window_used{limit}`` and
  ``rate_limit_window_capacity{limit}`` for each configured limit's rolling window;
- ``parents{state}``; ``slice_lateness_seconds`` and ``journal_write_seconds`` (histograms);
  ``journal_enabled``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from daemon.views import LatencySummary, ServiceStatistics

__all__ = ["PROMETHEUS_CONTENT_TYPE", "StatisticsCollector", "make_registry", "router"]

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "twap_engine_"
# Every state a parent can be in, so that a state with no parent shows as 0, not as missing.
PARENT_STATES = (
    "pending",
    "working",
    "completing",
    "completed",
    "cancelled",
    "failed",
    "expired",
    "recovering",
    "held",
)

router = APIRouter(tags=["metrics"])


def _counter(name: str, documentation: str, value: int) -> CounterMetricFamily:
    return CounterMetricFamily(PREFIX + name, documentation, value=value)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, documentation, value=value)


def _histogram(name: str, documentation: str, summary: LatencySummary) -> HistogramMetricFamily:
    buckets = [(repr(float(bound)), float(count)) for bound, count in summary.buckets]
    buckets.append(("+Inf", float(summary.count)))
    return HistogramMetricFamily(
        PREFIX + name, documentation, buckets=buckets, sum_value=summary.total_seconds
    )


class StatisticsCollector(Collector):
    """Reads ``source()`` on every scrape and reports it as metric families."""

    def __init__(self, source: Callable[[], ServiceStatistics]) -> None:
        self._source = source

    def __repr__(self) -> str:
        return "<StatisticsCollector>"

    def collect(self) -> Iterator[Metric]:
        """The metric families of one statistics snapshot."""
        stats = self._source()
        yield _counter("orders_sent", "Child orders sent to the venue.", stats.orders_sent)
        yield _counter("orders_accepted", "Child orders the venue accepted.", stats.orders_accepted)
        yield _counter("orders_rejected", "Child orders the venue rejected.", stats.orders_rejected)
        yield _counter(
            "orders_failed", "Child orders that failed without a venue answer.", stats.orders_failed
        )
        yield _counter("cancels_sent", "Cancel requests sent to the venue.", stats.cancels_sent)
        yield _counter("fills", "Distinct fills (by venue trade id).", stats.fills)
        yield _counter("rate_limited", "Requests the venue refused for load (HTTP 429).", stats.rate_limited)
        yield _gauge("queue_depth", "Orders waiting in the rate-limited queue.", stats.queue_depth)
        yield _gauge("orders_in_flight", "Orders sent and not yet answered.", stats.in_flight)
        used = GaugeMetricFamily(
            PREFIX + "rate_limit_window_used",
            "Requests in each limit's current rolling window.",
            labels=["limit"],
        )
        capacity = GaugeMetricFamily(
            PREFIX + "rate_limit_window_capacity", "What each limit allows per window.", labels=["limit"]
        )
        for limit in stats.limits:
            used.add_metric([limit.name], limit.used)
            capacity.add_metric([limit.name], limit.limit)
        yield used
        yield capacity
        parents = GaugeMetricFamily(PREFIX + "parents", "Parents by state.", labels=["state"])
        by_state = dict.fromkeys(PARENT_STATES, 0) | dict(stats.parents_by_state)
        for state, count in sorted(by_state.items()):
            parents.add_metric([state], count)
        yield parents
        yield _histogram(
            "slice_lateness_seconds", "Each slice's send time after its scheduled time.", stats.slice_lateness
        )
        yield _histogram(
            "journal_write_seconds", "Time of each journal transaction.", stats.journal_write_latency
        )
        yield _gauge(
            "journal_enabled", "1 when the daemon journals, else 0.", 1 if stats.journal_enabled else 0
        )


def make_registry(source: Callable[[], ServiceStatistics]) -> CollectorRegistry:
    """A registry of its own holding one ``StatisticsCollector`` over ``source``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatisticsCollector(source))
    return registry


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {PROMETHEUS_CONTENT_TYPE: {"schema": {"type": "string"}}}}},
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    """The counters in Prometheus' text exposition format (scrape with the bearer token)."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=PROMETHEUS_CONTENT_TYPE)

"""``GET /metrics``: the engine's state in Prometheus text format, read when scraped.

Nothing here sits on the hot path: a collector reads the engine's own counters and views at
scrape time (prometheus-client's custom-collector pattern) into a registry of its own, so two
engines in one process (tests) never share series. Money and positions are floats here because
Prometheus only has floats; they are measurements for dashboards and alerts, never inputs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from engine.control.strategy_metrics import strategy_families

if TYPE_CHECKING:
    from engine.engine import Engine

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The Prometheus text exposition format."""


class EngineCollector(Collector):
    """Every series of one engine, built from its state at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """Yield the engine's metric families."""
        yield from self._trading()
        yield from self._orders()
        yield from self._gateway()
        yield from self._market_data()
        yield from self._recorder()
        yield from strategy_families(self.engine.strategies)

    def _trading(self) -> Iterator[Metric]:
        e = self.engine
        halted = GaugeMetricFamily("hft_trading_halted", "1 while the circuit breaker is tripped")
        halted.add_metric([], 1.0 if e.breaker.tripped else 0.0)
        yield halted
        rejected = CounterMetricFamily(
            "hft_risk_rejections", "Orders refused by each pre-trade check", labels=["reason"]
        )
        for reason, count in e.risk.rejections.items():
            rejected.add_metric([str(reason)], count)
        yield rejected
        view = e.portfolio.snapshot()
        pnl = GaugeMetricFamily("hft_pnl", "Portfolio PnL in quote currency", labels=["kind"])
        for kind, value in (
            ("realised", view.realised),
            ("unrealised", view.unrealised),
            ("fees", view.fees),
            ("net", view.net),
            ("daily", view.daily),
        ):
            pnl.add_metric([kind], float(value))
        yield pnl
        position = GaugeMetricFamily(
            "hft_position_lots", "Net position per instrument in lots", labels=["instrument"]
        )
        for pos in view.positions:
            position.add_metric([pos.key], pos.net_lots)
        yield position

    def _orders(self) -> Iterator[Metric]:
        oms = self.engine.oms
        by_state = GaugeMetricFamily(
            "hft_orders", "Orders this run knows, by state", labels=["state"]
        )
        for state, count in sorted(Counter(str(o.status) for o in oms.orders.values()).items()):
            by_state.add_metric([state], count)
        yield by_state
        odd = CounterMetricFamily(
            "hft_venue_reports_ignored",
            "Venue reports seen twice or for unknown orders",
            labels=["why"],
        )
        odd.add_metric(["duplicate"], oms.duplicates)
        odd.add_metric(["unknown_order"], oms.unknown_reports)
        yield odd
        late = CounterMetricFamily(
            "hft_late_reports",
            "Venue reports that arrived after their order had ended (the normal end of a race)",
            labels=["kind"],
        )
        late.add_metric(["refusal"], oms.late_reports)
        late.add_metric(["fill"], oms.late_fills)
        yield late
        alerts = CounterMetricFamily("hft_alerts", "Alerts kept, by level", labels=["level"])
        for level, count in sorted(Counter(str(a.level) for a in oms.alerts).items()):
            alerts.add_metric([level], count)
        yield alerts

    def _gateway(self) -> Iterator[Metric]:
        gateway = self.engine.gateway
        if gateway is None:
            return
        venue = gateway.venue
        stats = gateway.stats
        healthy = GaugeMetricFamily(
            "hft_gateway_healthy", "1 while orders may be sent", labels=["venue"]
        )
        healthy.add_metric([venue], 1.0 if self.engine.oms.link_healthy(venue) else 0.0)
        yield healthy
        requests = CounterMetricFamily(
            "hft_gateway_requests", "Venue requests by outcome", labels=["venue", "outcome"]
        )
        requests.add_metric([venue, "sent"], stats.requests)
        requests.add_metric([venue, "rejected"], stats.rejects)
        requests.add_metric([venue, "failed"], stats.errors)
        yield requests
        used = GaugeMetricFamily(
            "hft_rate_limit_used", "Venue rate-limit use in its window", labels=["venue", "limit"]
        )
        limit = GaugeMetricFamily(
            "hft_rate_limit_max", "Venue rate limit per window", labels=["venue", "limit"]
        )
        for usage in stats.rate:
            used.add_metric([venue, usage.name], usage.used)
            limit.add_metric([venue, usage.name], usage.limit)
        yield used
        yield limit

    def _market_data(self) -> Iterator[Metric]:
        e = self.engine
        updates = CounterMetricFamily("hft_book_updates", "Book diffs applied since start")
        updates.add_metric([], e.book_updates)
        yield updates
        wire = e.wire
        latency = HistogramMetricFamily(
            "hft_wire_to_book_seconds",
            "Frame receive to book updated, per book update (drained with each heartbeat)",
            labels=["venue"],
        )
        latency.add_metric([wire.venue], wire.cumulative(), sum_value=wire.sum_ns / 1e9)
        yield latency
        feed = e.feed.stats if e.feed is not None else None
        events = CounterMetricFamily(
            "hft_feed_events", "Market-data feed events by kind", labels=["kind"]
        )
        if feed is not None:
            for kind, count in (
                ("frames", feed.frames),
                ("gaps", feed.gaps),
                ("resyncs", feed.resyncs),
                ("reconnects", feed.reconnects),
                ("malformed", e.malformed),
                ("unknown", feed.unknown),
            ):
                events.add_metric([kind], count)
        yield events
        publisher = e.publisher
        if publisher is not None:
            ring = publisher.events_stats()
            yield _gauge("hft_event_ring_depth", "Engine->UI ring records waiting", ring.depth)
            yield _counter(
                "hft_event_ring_dropped", "Engine->UI records dropped (UI behind)", ring.dropped
            )

    def _recorder(self) -> Iterator[Metric]:
        """The recorder's files, rows and losses (no series while recording is off)."""
        recorder = self.engine.recorder
        if recorder is None:
            return
        stats = recorder.stats()
        yield _gauge(
            "hft_recorder_running", "1 while the recorder's writer runs", float(stats.running)
        )
        yield _counter("hft_recorder_files", "Catalog files completed", stats.files_written)
        yield _counter("hft_recorder_rows", "Rows in completed catalog files", stats.rows_written)
        yield _counter(
            "hft_recorder_dropped",
            "Entries pushed out of the recorder's full queue, unwritten",
            stats.dropped,
        )
        yield _counter(
            "hft_recorder_rows_lost",
            "Rows lost with a catalog file that could not be written",
            stats.rows_lost,
        )
        yield _counter(
            "hft_recorder_write_errors", "Catalog writes that failed", stats.write_errors
        )
        yield _gauge("hft_recorder_queue_depth", "Entries waiting to be written", stats.queue_depth)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    """A gauge with one unlabelled sample."""
    family = GaugeMetricFamily(name, doc)
    family.add_metric([], value)
    return family


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    """A counter with one unlabelled sample (exported as ``<name>_total``)."""
    family = CounterMetricFamily(name, doc)
    family.add_metric([], value)
    return family


def registry_for(engine: Engine) -> CollectorRegistry:
    """A registry holding one engine's collector only."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(engine))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The registry's series in the text exposition format."""
    return generate_latest(registry)

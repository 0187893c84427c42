"""Wire-to-book samples: a ring the hot path writes, drained into a histogram and percentiles.

Also through the engine: a book update's latency reaches ``/metrics`` as a histogram, ``/status``
as p50/p99 and the UI's engine view, once the heartbeat drains the ring.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.book.order_book import OrderBook
from engine.core.clock import SimClock
from engine.core.config import load_config
from engine.engine import Engine
from engine.wire_latency import BUCKETS_NS, RING, WireToBook, bucket_of
from tests.engine.venues.feed_harness import until
from tests.integration.in_process import engine_on_local_venue


def test_drain_folds_new_samples_into_buckets_and_percentiles():
    """100 samples of 1..100 µs: p50 51 µs (nearest rank), p99 99 µs, bucketed, summed."""
    wire = WireToBook("sim")
    for us in range(1, 101):
        wire.record(us * 1000)
    assert wire.drain() == 100
    assert (wire.p50_ns, wire.p99_ns) == (51_000, 99_000)  # nearest rank
    assert wire.drained == 100
    assert wire.sum_ns == sum(range(1, 101)) * 1000
    cumulative = dict(wire.cumulative())
    assert cumulative["1e-05"] == 10  # 1..10 µs at or under 10 µs
    assert cumulative["0.0001"] == 100
    assert cumulative["+Inf"] == 100
    assert wire.drain() == 0  # nothing new: nothing counted twice


def test_samples_beyond_the_ring_are_overwritten_and_counted():
    """More than RING samples between drains: the oldest are lost, the latest kept."""
    wire = WireToBook("sim")
    for n in range(RING + 10):
        wire.record(5_000 if n < 10 else 2_000)
    assert wire.drain() == RING
    assert wire.overwritten == 10
    assert wire.p99_ns == 2_000
    assert wire.status()["samples"] == RING + 10


def test_negative_and_huge_latencies_land_in_the_end_buckets():
    """A clock step backwards counts as 0; beyond the last bound goes to +Inf."""
    wire = WireToBook("sim")
    wire.record(-5)
    wire.record(BUCKETS_NS[-1] * 10)
    wire.drain()
    assert wire.bucket_counts[0] == 1
    assert wire.bucket_counts[-1] == 1
    assert bucket_of(BUCKETS_NS[0]) == 0
    assert bucket_of(BUCKETS_NS[-1] + 1) == len(BUCKETS_NS)


def test_the_engine_measures_every_book_update_and_shows_it(tmp_path):
    """on_book after a frame received 40 µs earlier: /metrics, /status and the view say so."""
    config = load_config(
        None, {"HFT__ENGINE__STATE_DIR": str(tmp_path), "HFT__ENGINE__INSTANCE": "wire"}
    )
    clock = SimClock()
    engine = Engine(config, clock=clock)
    try:
        book = OrderBook("BTCUSDT")
        clock.advance(1_000_000)
        for _ in range(3):
            recv = clock.time_ns()
            clock.advance(40_000)
            engine.on_book(0, book, recv - 1000, recv)
        engine.wire.drain()
        doc = engine.status()["wire_to_book"]["sim"]
        assert (doc["p50_us"], doc["p99_us"], doc["samples"]) == (40.0, 40.0, 3)
        families = {f.name: f for f in text_string_to_metric_families(engine.metrics().decode())}
        samples = {
            (s.name, s.labels.get("le")): s.value
            for s in families["hft_wire_to_book_seconds"].samples
        }
        assert samples[("hft_wire_to_book_seconds_count", None)] == 3
        assert samples[("hft_wire_to_book_seconds_bucket", "2.5e-05")] == 0
        assert samples[("hft_wire_to_book_seconds_bucket", "5e-05")] == 3
    finally:
        engine.journal.close()
        engine.breaker.close()


@pytest.mark.integration
async def test_a_running_engine_measures_its_feed(tmp_path):
    """On the local venue: the heartbeat drains samples into /status, /metrics and the view."""
    async with engine_on_local_venue(tmp_path, stop_timeout_s=30) as (_, engine, _):
        await until(lambda: engine.book_updates >= 30, "book updates")
        await until(lambda: engine.status()["wire_to_book"]["sim"]["window"] > 0, "a drain")
        doc = engine.status()["wire_to_book"]["sim"]
        assert doc["p99_us"] >= doc["p50_us"] > 0
        assert engine.engine_view(0).wire_p99_us == doc["p99_us"]
        families = {f.name: f for f in text_string_to_metric_families(engine.metrics().decode())}
        counts = [
            s.value
            for s in families["hft_wire_to_book_seconds"].samples
            if s.name.endswith("_count")
        ]
        assert counts[0] > 0

"""The ipc benchmark runs end to end on tiny sizes and reports every contestant and metric."""

from __future__ import annotations

import pytest

from engine.bench.ipc import CONTESTANTS, OURS, Plan, run

pytestmark = pytest.mark.integration

TINY = Plan(
    throughput_records=3_000, latency_records=400, latency_skip=10, reps=1, warmup_records=50
)


def test_every_contestant_reports_throughput_and_latency():
    """One tiny repetition yields positive throughput and p50 <= p99 for ring, Queue and Pipe."""
    result = run(quick=True, plan=TINY)
    assert result.ours == OURS
    rows = {(r.contestant, r.metric): r for r in result.results}
    assert set(rows) == {
        (c, m) for c in CONTESTANTS for m in ("throughput", "latency_p50", "latency_p99")
    }
    for contestant in CONTESTANTS:
        assert rows[contestant, "throughput"].median > 0
        assert rows[contestant, "latency_p50"].median <= rows[contestant, "latency_p99"].median
        assert rows[contestant, "throughput"].reps == 1

"""The ipc benchmark runs end to end on tiny sizes and reports every contestant and metric."""

from __future__ import annotations

import pytest

from engine.bench.ipc import FIFO, OURS, SIZES, Plan, contestants, run

pytestmark = pytest.mark.integration

TINY = Plan(
    throughput_records=3_000, latency_records=400, latency_skip=10, reps=1, warmup_records=50
)


def test_every_contestant_reports_throughput_and_latency_at_each_size():
    """Each contestant and size: throughput above 0, p50 <= p99; a missing faster-fifo says so."""
    result = run(quick=True, plan=TINY)
    assert result.ours == OURS
    rows = {(r.contestant, r.metric): r for r in result.results}
    metrics = {
        f"{m}_{size}B" for m in ("throughput", "latency_p50", "latency_p99") for size in SIZES
    }
    assert set(rows) == {(c, m) for c in (*contestants(), FIFO) for m in metrics}
    for contestant in contestants():
        for size in SIZES:
            assert rows[contestant, f"throughput_{size}B"].median > 0
            low, high = (
                rows[contestant, f"latency_p50_{size}B"],
                rows[contestant, f"latency_p99_{size}B"],
            )
            assert low.median <= high.median
            assert rows[contestant, f"throughput_{size}B"].reps == 1
    if FIFO not in contestants():
        assert rows[FIFO, "throughput_64B"].missing

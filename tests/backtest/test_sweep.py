"""Sweeps: grid and random points, a local process pool, a real Dask cluster, crashed workers."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import msgspec
import pyarrow.parquet as pq
import pytest

from backtest.capture import CaptureSource
from backtest.catalog_source import SourceSpec
from backtest.latency import latency_curve, slope
from backtest.sweep import (
    _QUIET,
    SweepJob,
    SweepSpecError,
    grid,
    parse_space,
    random_points,
    run_point,
    sweep,
    table,
)
from backtest.walk_forward import walk_forward, windows
from tests.backtest.runs import S, btc_capture, short_config

MARKER_ENV = "HFT_TEST_SWEEP_MARKER"


def test_spaces_grids_and_random_points():
    """Lists and ranges; every combination in order; a seeded draw repeats; bad entries refused."""
    space = parse_space(["half_spread_ticks=10,20", "size_lots=1000:3000:1000", "fair=mid"])
    assert space == {
        "half_spread_ticks": [10, 20],
        "size_lots": [1000, 2000, 3000],
        "fair": ["mid"],
    }
    points = grid(space)
    assert len(points) == 6
    assert points[0] == {"half_spread_ticks": 10, "size_lots": 1000, "fair": "mid"}
    drawn = random_points(space, 3, seed=1)
    assert drawn == random_points(space, 3, seed=1)
    assert len(drawn) == 3
    assert all(p in points for p in drawn)
    for bad in ("nothing", "x=", "x=5:1", "x=a:b"):
        with pytest.raises(SweepSpecError):
            parse_space([bad])


def crash_once_then_fail_always(job: SweepJob) -> dict[str, Any]:
    """Point 1's worker process dies on its first attempt; point 2 always raises."""
    marker = Path(os.environ[MARKER_ENV])
    if job.index == 1 and not marker.exists():
        marker.write_text("crashed")
        os._exit(3)
    if job.index == 2:
        raise RuntimeError("this point always fails")
    return run_point(job)


@pytest.mark.shared_data
def test_a_crashed_worker_is_retried_once_and_a_failing_point_reported(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The pool breaks and is rebuilt; point 1 succeeds on retry, point 2 fails twice; all rows."""
    monkeypatch.setenv(MARKER_ENV, str(tmp_path / "marker"))
    capture = btc_capture(shared_data)
    source = CaptureSource([capture])
    spec = SourceSpec(kind="capture", paths=[str(capture)])
    base = short_config(source, seconds=20)
    points = [{"half_spread_ticks": h} for h in (30, 50, 70)]
    rows = sweep(base, points, spec, workers=2, run=crash_once_then_fail_always)
    assert [r["point"] for r in rows] == [0, 1, 2]
    assert rows[1]["status"] in ("retried", "ok")  # a retried point may also have been charged
    assert rows[1]["net"] is not None
    assert rows[2]["status"] == "failed"
    assert rows[2]["attempts"] == 2
    assert "this point always fails" in rows[2]["error"]
    assert rows[0]["net"] is not None
    path = tmp_path / "sweep.parquet"
    pq.write_table(table(rows), path)
    back = pq.read_table(path).to_pylist()
    assert [r["p_half_spread_ticks"] for r in back] == [30, 50, 70]


@pytest.mark.shared_data
def test_a_sweep_on_a_real_dask_cluster_matches_the_local_run(shared_data: Path):
    """A LocalCluster on 127.0.0.1 (threads) gives the same rows as running the points here."""
    from distributed import Client, LocalCluster

    capture = btc_capture(shared_data)
    source = CaptureSource([capture])
    spec = SourceSpec(kind="capture", paths=[str(capture)])
    base = short_config(source, seconds=20)
    points = [{"half_spread_ticks": h} for h in (30, 60)]
    with (
        LocalCluster(
            n_workers=1,
            processes=False,
            host="127.0.0.1",
            protocol="tcp",
            scheduler_port=0,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        rows = sweep(base, points, spec, executor=cluster.scheduler_address)
        again = sweep(base, points, spec, executor=client)
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert again == rows
    here = [
        run_point(SweepJob(i, msgspec.structs.replace(base, params={**base.params, **p}), spec))
        for i, p in enumerate(points)
    ]
    assert [r["net"] for r in rows] == [h["pnl"]["net"] for h in here]


@pytest.mark.shared_data
def test_latency_curve_and_walk_forward_on_the_capture(shared_data: Path):
    """Five latencies give a curve and a slope; two walk-forward windows give IS and OOS."""
    capture = btc_capture(shared_data)
    source = CaptureSource([capture])
    spec = SourceSpec(kind="capture", paths=[str(capture)])
    base = short_config(source, seconds=60)
    curve = latency_curve(base, spec, (0, 1, 5, 10, 50), workers=2)
    assert [p["added_ms"] for p in curve["curve"]] == [0, 1, 5, 10, 50]
    assert all(p["status"] == "ok" for p in curve["curve"])
    xs = [p["added_ms"] for p in curve["curve"]]
    assert curve["sensitivity_per_ms"] == pytest.approx(
        slope(xs, [p["net"] for p in curve["curve"]])
    )
    first, _ = source.span()
    report = walk_forward(
        short_config(source, seconds=90),
        [{"half_spread_ticks": 30}, {"half_spread_ticks": 60}],
        spec,
        in_sample_s=30,
        out_of_sample_s=30,
        workers=2,
    )
    assert report["summary"]["windows"] == 2
    assert report["windows"][0]["oos_start_ns"] == first + 30 * S
    assert set(report["summary"]) == {
        "mean_in_sample",
        "mean_out_of_sample",
        "efficiency",
        "windows",
    }


def test_windows_tile_the_span_and_refuse_what_does_not_fit():
    """40 s in, 20 s out, stepping 20 s over 100 s: three windows."""
    w = windows(0, 100 * S, 40, 20)
    assert [(x.is_start, x.oos_start, x.oos_end) for x in w] == [
        (0, 40 * S, 60 * S),
        (20 * S, 60 * S, 80 * S),
        (40 * S, 80 * S, 100 * S),
    ]
    from backtest.errors import BacktestSetupError

    with pytest.raises(BacktestSetupError, match="no walk-forward window fits"):
        windows(0, 10 * S, 40, 20)


def test_overlapping_points_give_the_callers_logging_back_after_the_last():
    """Thread workers share logging: warnings stay off until the last point ends, then return."""
    before = logging.root.manager.disable
    first, second = _QUIET, _QUIET
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert logging.root.manager.disable == logging.WARNING
    second.__exit__(None, None, None)
    assert logging.root.manager.disable == before

"""Benchmark reports: summaries, ratios against peers, the JSON shape and the table."""

from __future__ import annotations

import json

import msgspec
import pytest

from engine.bench.__main__ import main
from engine.bench.report import (
    Report,
    SubjectRun,
    build_report,
    missing,
    ratios,
    render_table,
    summarize,
    to_json,
)


def sample_run() -> SubjectRun:
    """A two-contestant run with a rate and a time metric."""
    return SubjectRun(
        subject="ipc",
        ours="ring",
        input="64-byte records",
        results=[
            summarize("ipc", "ring", "throughput", "records/s", [2_000_000, 1_000_000, 3_000_000]),
            summarize("ipc", "ring", "latency_p99", "us", [4.0, 2.0]),
            summarize("ipc", "mp.Queue", "throughput", "records/s", [100_000, 200_000, 150_000]),
            summarize("ipc", "mp.Queue", "latency_p99", "us", [80.0]),
            summarize("ipc", "mp.Queue", "startup", "s", [1.0]),
        ],
    )


def test_summarize_takes_median_min_max_and_counts_reps():
    """A result row carries the median, the extremes and how many repetitions were measured."""
    row = summarize("ipc", "ring", "throughput", "records/s", [3.0, 1.0, 2.0, 10.0])
    assert (row.median, row.min, row.max, row.reps) == (2.5, 1.0, 10.0, 4)


def test_summarize_without_samples_is_a_value_error():
    """No repetitions is an error naming the row."""
    with pytest.raises(ValueError, match="ipc/ring/throughput"):
        summarize("ipc", "ring", "throughput", "records/s", [])


def test_ratios_divide_our_median_by_each_peers():
    """Ratios are ours over the peer, only for metrics both contestants measured."""
    got = {(r.metric, r.ours_over): r.value for r in ratios(sample_run())}
    assert got == {
        ("throughput", "mp.Queue"): 2_000_000 / 150_000,
        ("latency_p99", "mp.Queue"): 3.0 / 80.0,
    }


def test_json_report_has_the_documented_shape():
    """The JSON document has machine, versions, input, results and ratios with their fields."""
    doc = json.loads(to_json(build_report([sample_run()])))
    assert set(doc) == {"machine", "versions", "input", "results", "ratios"}
    assert doc["input"] == "ipc: 64-byte records"
    assert "python" in doc["versions"]
    assert doc["machine"]["cpus"] >= 1
    assert set(doc["results"][0]) == {
        "subject",
        "contestant",
        "metric",
        "unit",
        "median",
        "min",
        "max",
        "reps",
    }
    assert set(doc["ratios"][0]) == {"subject", "metric", "ours_over", "value"}
    assert msgspec.json.decode(to_json(build_report([sample_run()])), type=Report).results


def test_table_lists_every_row_and_ratio():
    """The readable table names each contestant and metric and states the ratios."""
    text = render_table(build_report([sample_run()]))
    assert "mp.Queue" in text
    assert "latency_p99" in text
    assert "2,000,000" in text
    assert "ipc throughput: ours / mp.Queue = 13.3" in text


def test_unknown_subject_is_a_usage_error(capsys):
    """An unknown subject exits with code 2 and names the valid ones."""
    assert main(["nonsense"]) == 2
    assert "choose from ipc" in capsys.readouterr().err


def test_help_exits_cleanly(capsys):
    """--help prints usage and returns 0."""
    assert main(["--help"]) == 0
    assert "--quick" in capsys.readouterr().out


def test_a_missing_peer_has_a_row_that_says_why_and_no_ratio():
    """The row carries the reason (in JSON and the table) and is left out of the ratios."""
    run = SubjectRun(
        subject="ipc",
        ours="ring",
        input="64-byte records",
        results=[
            summarize("ipc", "ring", "throughput", "records/s", [10.0]),
            missing("ipc", "faster-fifo", "throughput", "records/s", "not installed"),
        ],
    )
    report = build_report([run])
    assert ratios(run) == []
    doc = json.loads(to_json(report))
    assert doc["results"][1]["missing"] == "not installed"
    assert "missing" not in doc["results"][0]
    assert "ipc faster-fifo throughput: missing (not installed)" in render_table(report)

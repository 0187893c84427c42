"""The burst subject: registered, and its verdicts and breaking point read from the figures."""

from __future__ import annotations

import msgspec

from engine.bench import SUBJECTS, runner
from hft_tui.bench.burst import SUBJECT, StageResult, breaking_point, table, verdict


def _stage(name: str, **changes) -> StageResult:
    figures = {
        "stage": name,
        "wall_s": 1.0,
        "frames_per_s": 100.0,
        "speed_x": 10.0,
        "book_updates_per_s": 30.0,
        "wire_p50_us": 100.0,
        "wire_p99_us": 900.0,
        "max_lag_s": 0.01,
        "max_lag_diffs": 1,
        "end_lag_s": 0.0,
        "venue_peak_queue": 5,
        "venue_queue_limit": 10_000,
        "cutoffs": 0,
        "resyncs": 0,
        "reconnects": 0,
        "gaps": 0,
        "event_ring_peak": 3,
        "event_ring_capacity": 16_384,
        "event_ring_dropped": 0,
        "command_ring_dropped": 0,
        "commands_sent": 20,
        "states": [],
        "sent_not_live": 0,
        "live_at_end": True,
        "verdict": "",
    }
    figures.update(changes)
    return StageResult(**figures)


def test_the_subject_is_registered():
    """``hft-tui bench burst`` finds it."""
    assert SUBJECTS[SUBJECT] == "hft_tui.bench.burst"
    assert callable(runner(SUBJECT))


def test_verdicts():
    """Kept up, fell behind and caught up, resynced, cut off: each said in words."""
    assert verdict(_stage("1x")) == "kept up"
    behind = verdict(_stage("1000x", max_lag_s=0.3, max_lag_diffs=500))
    assert behind.startswith("fell behind (at most 300 ms, 500 diffs)")
    assert verdict(_stage("max", resyncs=1)).startswith("fell behind and resynced")
    cut = verdict(
        _stage("max", cutoffs=1, states=["stale", "syncing", "live"], resyncs=1, reconnects=1)
    )
    assert cut.startswith("cut off by the venue")
    assert "stale/syncing" in cut
    assert cut.endswith("live again")


def test_the_breaking_point_names_the_first_stage_behind_and_the_first_cut_off():
    """The first stage not kept up (1x stages aside), and the first one cut off."""
    stages = [
        _stage("1x"),
        _stage("100x"),
        _stage("1000x", max_lag_s=0.3, max_lag_diffs=500, venue_peak_queue=1500),
        _stage("max, tight venue", cutoffs=1, venue_queue_limit=1000, states=["stale"]),
    ]
    stages = [msgspec.structs.replace(s, verdict=verdict(s)) for s in stages]
    text = breaking_point(stages)
    assert text.startswith("breaks at 1000x")
    assert "socket buffers" in text
    assert "first cut-off at max, tight venue" in text
    assert table(stages).count("\n") == len(stages) + 1

"""The soak run: a short real run emits its samples and a summary; the summary judges samples."""

from __future__ import annotations

import json

import pytest

from engine.soak import SoakError, SoakSample, run_soak, summarise


def _sample(t_s: float, rss: int, fds: int = 30, segments: int = 5, **extra) -> SoakSample:
    base = {
        "venue_rss_bytes": 0,
        "event_ring_dropped": 0,
        "command_ring_dropped": 0,
        "book_updates": int(t_s),
        "reconnects": 0,
        "orders_known": 0,
        "orders_open": 0,
        "fills": 0,
        "strategy_p99_us": 10.0,
        "strategy_max_us": 20.0,
        "status_ms": 1.0,
        "trading": "running",
        "halt_reason": "",
        "link": "live",
    }
    base.update(extra)
    return SoakSample(t_s=t_s, rss_bytes=rss, fds=fds, segments=segments, **base)


def test_steady_samples_pass_and_growth_is_measured_after_the_warm_up():
    """Growth counts from the first sample after the warm-up; the warm-up's own rise is free."""
    samples = [_sample(0, 50), _sample(60, 100), _sample(120, 102), _sample(180, 104)]
    summary = summarise(samples, warmup_s=60, duration_s=180)
    assert summary.passed, summary.problems
    assert summary.rss_growth_pct == 4.0
    assert summary.rss_after_warmup_bytes == 100


def test_each_failed_criterion_is_named():
    """Memory growth, descriptors, segments, lossless drops, a halt, reconnects and stalls fail."""
    samples = [
        _sample(0, 100, fds=30, segments=5),
        _sample(60, 110, fds=40, segments=6),
        _sample(
            120,
            110,
            fds=40,
            segments=6,
            book_updates=60,
            reconnects=2,
            trading="halted",
            command_ring_dropped=1,
        ),
    ]
    problems = summarise(samples, warmup_s=0, duration_s=120).problems
    assert len(problems) == 7
    assert any("memory grew 10.0%" in p for p in problems)
    assert any("descriptors rose from 30 to 40" in p for p in problems)
    assert any("segments changed (5..6)" in p for p in problems)
    assert any("lossless ring" in p for p in problems)
    assert any("halted" in p for p in problems)
    assert any("reconnected 2 times" in p for p in problems)
    assert any("did not change in 1 intervals" in p for p in problems)


def test_no_samples_is_an_error():
    """A run that took no sample cannot be judged."""
    with pytest.raises(SoakError, match="no samples"):
        summarise([], warmup_s=0, duration_s=0)


@pytest.mark.integration
def test_a_short_soak_samples_the_trading_engine(tmp_path):
    """Six seconds with the market maker: JSON lines every two seconds, then the summary."""
    lines: list[str] = []
    summary = run_soak(6.0, interval_s=2.0, warmup_s=2.0, emit=lines.append, workdir=tmp_path)
    docs = [json.loads(line) for line in lines]
    samples, tail = docs[:-1], docs[-1]
    assert len(samples) >= 3
    assert all(s["rss_bytes"] > 0 and s["fds"] > 0 for s in samples)
    assert all(s["segments"] >= 3 for s in samples)  # events, commands, engine, books
    assert samples[-1]["link"] == "live"
    assert samples[-1]["orders_known"] >= 2  # the market maker quotes both sides
    assert tail["summary"]["samples"] == summary.samples
    assert summary.command_ring_dropped == 0
    assert summary.segments_min == summary.segments_max
    assert summary.trading == "running"

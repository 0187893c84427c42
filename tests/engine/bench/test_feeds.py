"""Bench subject ``feeds``: each venue's capture through its replayer, timed frame by frame."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bench import SUBJECTS, runner
from engine.bench.feeds import CAPTURES, SUBJECT, load, measure, replay_once


def test_the_subject_is_registered():
    """``python -m engine.bench feeds`` finds it."""
    assert SUBJECTS[SUBJECT] == "engine.bench.feeds"
    assert callable(runner(SUBJECT))


def test_without_the_captures_every_venue_says_what_is_missing(tmp_path: Path):
    """No ../shared/data: three rows a venue, each naming the capture it lacks."""
    results, _ = measure(True, root=tmp_path)
    assert len(results) == 3 * len(CAPTURES)
    assert all(r.missing and "not found" in r.missing for r in results)
    assert {r.contestant for r in results} == {c.venue for c in CAPTURES}


@pytest.mark.shared_data
@pytest.mark.parametrize("venue", ["bybit-linear", "okx", "hyperliquid"])
def test_a_timed_replay_applies_what_the_data_tools_apply(shared_data: Path, venue: str):
    """The timed loop rebuilds the same books: as many updates as the replay tests count."""
    capture = next(c for c in CAPTURES if c.venue == venue)
    frames, instruments = load(capture, shared_data, None)
    run = replay_once(venue, frames, instruments)
    assert run.frames == len(frames) == len(run.per_frame_ns)
    assert run.applied == {"bybit-linear": 1598, "okx": 290, "hyperliquid": 46}[venue]

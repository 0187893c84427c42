"""The scale and memory benchmarks: registered, and their real-time replay does what it says."""

from __future__ import annotations

import numpy as np
import pytest

from engine.bench import SUBJECTS, runner
from engine.bench.captures import _synthetic_session
from engine.bench.memory import _growth_per_min, _slice
from engine.bench.realtime import DEPTH, Feeds, replay, schedule


def test_scale_and_memory_are_registered_subjects():
    """``hft-tui bench scale`` and ``memory`` find their run functions."""
    assert SUBJECTS["scale"] == "engine.bench.scale"
    assert SUBJECTS["memory"] == "engine.bench.memory"
    assert callable(runner("scale"))
    assert callable(runner("memory"))


def test_the_schedule_merges_instruments_in_due_order_and_takes_each_depth_frame_once():
    """Due times ascend; each instrument's depth frames come in order, none skipped."""
    session = _synthetic_session(40, seed=3)
    plan = schedule(session, 3, seconds=2.0)
    assert np.all(np.diff(plan.due_ns) >= 0)
    for i in range(3):
        frames = plan.frame[(plan.instrument == i) & (plan.kind == DEPTH)]
        assert frames.tolist() == list(range(len(frames)))


def test_replay_updates_every_book_and_measures_each_frame():
    """After a short replay every instrument's book moved past the snapshot; one latency each."""
    session = _synthetic_session(8, seed=3)
    feeds = Feeds(session, 2)
    plan = schedule(session, 2, seconds=0.5)
    latency, busy = replay(feeds, plan)
    assert len(latency) == len(plan.due_ns)
    assert (latency >= 0).all()
    assert 0 < busy <= 1
    for sync in feeds.syncs:
        assert sync.update_id > session.snapshot_id


def test_a_slice_rebases_due_times_and_growth_is_a_slope_per_minute():
    """Slices cover their window only; growth is MB per minute over the second half."""
    session = _synthetic_session(20, seed=3)
    plan = schedule(session, 2, seconds=2.0)
    part = _slice(plan, 1_000_000_000, 2_000_000_000)
    assert len(part.due_ns) > 0
    assert part.due_ns.min() >= 0
    assert part.due_ns.max() < 1_000_000_000
    assert _growth_per_min([0, 1, 2, 3], [10, 10, 11, 12]) == pytest.approx(60.0)

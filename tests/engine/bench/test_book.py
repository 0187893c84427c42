"""The book benchmark runs end to end on a few frames, and its inputs are what they claim."""

from __future__ import annotations

import msgspec

from engine.bench import SUBJECTS, runner
from engine.bench.book import NAUTILUS, OURS, Plan, run
from engine.bench.captures import _synthetic_session

TINY = Plan(frames=40, reads=10, reps=1)


def test_book_is_a_registered_subject():
    """``hft-tui bench book`` finds the subject's run function."""
    assert SUBJECTS["book"] == "engine.bench.book"
    assert runner("book") is run


def test_a_tiny_run_reports_ours_and_says_which_peers_are_missing():
    """Ours has positive figures; a peer left out has a row that says why, with zeros."""
    result = run(quick=True, plan=TINY, with_peers_env=False)
    rows = {(r.contestant, r.metric): r for r in result.results}
    assert rows[OURS, "pipeline"].median > 0
    assert rows[OURS, "top10_read"].reps == 1
    assert rows[NAUTILUS, "pipeline"].missing == "the peers' environment was not used"
    assert rows[NAUTILUS, "pipeline"].reps == 0
    assert "40 frames" in result.input


def test_the_synthetic_session_is_binance_shaped_and_contiguous():
    """Frames are combined-stream depthUpdates whose ids follow the snapshot without gaps."""
    session = _synthetic_session(30, seed=1)
    assert "seeded synthetic" in session.source
    last = session.snapshot_id
    for raw in session.depth:
        data = msgspec.json.decode(raw)["data"]
        assert data["e"] == "depthUpdate"
        assert data["U"] == last + 1
        last = data["u"]
    assert len(session.trades) == 30

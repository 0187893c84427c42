"""The backtest bench subject's own parts on a slice of the capture (no peers, no timings)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from engine.bench import SUBJECTS
from engine.bench import backtest as bench


@pytest.mark.shared_data
def test_a_replay_and_its_profile_over_the_first_events(shared_data: Path):
    """The run replays every event loaded, fills, and the profile's shares add up to 100 %."""
    logging.disable(logging.WARNING)
    try:
        data = bench.load(3000)
        _, book, trades, fills = bench._replay_once(data)
        shares, tops = bench.profile(data)
    finally:
        logging.disable(logging.NOTSET)
    assert book + trades == 3001
    assert fills > 0
    assert sum(shares.values()) == pytest.approx(100, abs=0.5)
    assert shares["venue_matching"] > 0
    assert len(tops) == 12
    assert SUBJECTS["backtest"] == "engine.bench.backtest"

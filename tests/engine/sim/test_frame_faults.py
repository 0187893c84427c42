"""The frame faults of the local venue: duplicated, reordered and oversized depth frames."""

from __future__ import annotations

import pytest

from engine.sim import SimError
from engine.sim.faults import OVERSIZED_BYTES, FaultInjector


class _Target:
    """A venue with one symbol whose immediate faults do nothing."""

    def has_symbol(self, symbol: str) -> bool:
        return symbol == "BTCUSDT"

    def skip_update_ids(self, symbol: str, missing: int) -> None:
        pass

    def drop_connections(self) -> int:
        return 0


def test_duplicate_sends_a_diff_twice_then_stops():
    """A duplicate fault sends one diff twice, then frames flow normally."""
    faults = FaultInjector(_Target())
    faults.duplicate_next(1)
    assert faults.armed().duplicated == 1
    assert faults.depth_frames("s", "a") == ["a", "a"]
    assert faults.depth_frames("s", "b") == ["b"]


def test_reorder_holds_a_diff_until_the_next_of_its_stream():
    """A reordered diff goes out after the next diff of its own stream."""
    faults = FaultInjector(_Target())
    faults.reorder_next(1)
    assert faults.depth_frames("s", "a") == []
    assert faults.depth_frames("other", "x") == ["x"]
    assert faults.depth_frames("s", "b") == ["b", "a"]
    assert faults.depth_frames("s", "c") == ["c"]


def test_oversized_frame_is_valid_json_over_the_limit_and_fires_once():
    """An oversized frame is JSON just over the client limit, sent once."""
    faults = FaultInjector(_Target())
    faults.oversized_next()
    frame = faults.take_oversized()
    assert frame is not None
    assert len(frame) > OVERSIZED_BYTES
    assert frame.startswith('{"pad":"')
    assert faults.take_oversized() is None


def test_clear_drops_held_frames_and_counts():
    """clear() disarms every frame fault and forgets a held diff."""
    faults = FaultInjector(_Target())
    faults.reorder_next(2)
    faults.duplicate_next(2)
    faults.oversized_next(2, size_bytes=10)
    faults.depth_frames("s", "a")
    faults.clear()
    armed = faults.armed()
    assert (armed.reordered, armed.duplicated, armed.oversized) == (0, 0, 0)
    assert faults.depth_frames("s", "b") == ["b"]


@pytest.mark.parametrize("count", [0, -1, True])
def test_bad_counts_are_refused_by_name(count):
    """Counts below one are refused naming the argument."""
    faults = FaultInjector(_Target())
    with pytest.raises(SimError, match="count must be"):
        faults.duplicate_next(count)

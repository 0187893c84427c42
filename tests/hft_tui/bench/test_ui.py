"""The ``ui`` bench subject: registered, its engine side publishes a live book the UI can read."""

from __future__ import annotations

import uuid

from engine.bench import SUBJECTS, runner
from engine.bench.captures import spot_session
from engine.ipc.publisher import EnginePublisher
from hft_tui.bench.ui import _p99_ms, _Replay
from hft_tui.bridge import EngineBridge


def test_ui_is_a_registered_subject():
    """`hft-tui bench ui` finds the module's run."""
    assert SUBJECTS["ui"] == "hft_tui.bench.ui"
    assert callable(runner("ui"))


def test_the_engine_side_publishes_a_live_book_ending_on_the_last_update():
    """A short replay run: every update counted, the last book on the page, live and uncrossed."""
    instance = f"bu{uuid.uuid4().hex[:10]}"
    publisher = EnginePublisher.create(instance, ["BTCUSDT"])
    try:
        replay = _Replay(spot_session(300), publisher)
        updates, seconds = replay.run(0.05, instance)
        assert updates > 0
        assert seconds > 0
        bridge = EngineBridge.attach(instance)
        try:
            view = bridge.read_book(0)
            assert bridge.read_engine() is not None
        finally:
            bridge.close()
        assert view is not None
        assert view.state == "live"
        assert view.update_count == replay.updates
        assert len(view.bids) == len(view.asks) == 20
        assert view.bids[0][0] < view.asks[0][0]
    finally:
        publisher.close()


def test_p99_of_frame_times():
    """Nanosecond samples to the 99th percentile in milliseconds."""
    assert _p99_ms([1_000_000] * 99 + [50_000_000]) == 50.0
    assert _p99_ms([2_000_000]) == 2.0

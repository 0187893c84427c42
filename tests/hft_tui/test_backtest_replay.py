"""A finished run built again for watching: the same fills as the worker's run, paced, readable."""

from __future__ import annotations

from pathlib import Path

import pytest

from hft_tui.backtest_jobs import BacktestForm, build_job, run_job
from hft_tui.backtest_replay import SPEEDS, ReplayOpenError, ReplayWatch, faster, open_replay

PARAMS = "half_spread_ticks=20 size_lots=100"


def _job(shared_data: Path, end: str = "+20s"):
    capture = str(shared_data / "hftbacktest" / "spot" / "btcusdt")
    return build_job(BacktestForm(capture, PARAMS, "", end), 1)


@pytest.mark.shared_data
def test_the_replay_ends_with_the_same_fills_and_pnl_as_the_run(shared_data):
    """Replayed to its end, the run has the worker's fill count and net PnL."""
    job = _job(shared_data)
    result = run_job(job)
    assert "error" not in result, result
    watch = ReplayWatch(open_replay(job))
    assert watch.control.paused
    start = watch.state()
    assert start.events == 0  # nothing replayed yet
    watch.control.seek(start.end_ns)
    watch.control.replay.run()
    end = watch.state()
    assert end.done
    assert end.fills == result["headline"]["fills"]
    assert float(end.net) == pytest.approx(result["headline"]["net"])


@pytest.mark.shared_data
def test_the_state_shows_the_book_and_our_orders_with_their_queue(shared_data):
    """Five seconds in, the book is live and the quotes rest on it with a queue estimate."""
    watch = ReplayWatch(open_replay(_job(shared_data)))
    control = watch.control
    control.seek(control.replay.now_ns + 5_000_000_000)
    state = watch.state()
    assert state.book is not None
    assert state.book.state == "live"
    assert state.book.bids[0][0] < state.book.asks[0][0]
    assert state.open_orders >= 1
    assert state.ours
    assert all(lots > 0 and count >= 1 and ahead >= 0 for lots, count, ahead in state.ours.values())


def test_a_run_that_cannot_be_built_is_refused(tmp_path):
    """A capture path that vanished after the run: the replay says so."""
    import msgspec

    from backtest.catalog_source import SourceSpec
    from backtest.config import BacktestConfig
    from hft_tui.backtest_jobs import BacktestJob

    job = BacktestJob(
        number=4,
        config=BacktestConfig(),
        spec=SourceSpec(kind="capture", paths=[str(tmp_path / "gone")]),
    )
    assert msgspec.to_builtins(job.config)["strategy"] == "market_maker"
    with pytest.raises(ReplayOpenError, match="run #4 cannot be replayed"):
        open_replay(job)


def test_speeds_step_through_the_list_and_stop_at_its_ends():
    """+ and - move one place; the ends hold."""
    assert faster(1.0, 1) == 2.0
    assert faster(1.0, -1) == 0.5
    assert faster(SPEEDS[-1], 1) == SPEEDS[-1]
    assert faster(SPEEDS[0], -1) == SPEEDS[0]

"""ReplayScreen: a finished run replayed on the ladder: step, skip, speed, play; ctrl+k works."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.ipc.protocol import CommandKind
from hft_tui.screens.backtest import BacktestScreen
from hft_tui.screens.replay_view import ReplayScreen
from hft_tui.widgets import Ladder
from tests.hft_tui.backtest_runs import finished_run
from tests.hft_tui.pilot import show_mode, text_of, wait_until

PARAMS = "half_spread_ticks=2 size_lots=100"


def _ladder(view: ReplayScreen) -> list[str]:
    ladder = view.query_one("#replay-ladder", Ladder)
    return [ladder.render_line(y).text for y in range(ladder.size.height)]


@pytest.mark.shared_data
async def test_a_finished_run_replays_on_the_ladder_with_its_orders(
    app, publisher, shared_data: Path
):
    """L opens it paused; . steps, ] skips ten seconds, + speeds up, space plays and pauses."""
    capture = str(shared_data / "hftbacktest" / "spot" / "btcusdt")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await show_mode(pilot, "w", "backtest")
        assert isinstance(screen, BacktestScreen)
        screen.finish(finished_run(1, PARAMS, 0.1, data=capture))
        await pilot.pause()
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReplayScreen), "the replay")
        view = pilot.app.screen
        assert isinstance(view, ReplayScreen)
        await pilot.pause()
        assert "REPLAY #1  PAUSED" in text_of(view, "#replay-status")
        await pilot.press("full_stop", "full_stop")
        assert view.replay.control.replay.events == 2
        await pilot.press("right_square_bracket")
        await pilot.pause()
        status = text_of(view, "#replay-status")
        assert "speed x1" in status
        state = view.replay.state()
        assert state.open_orders >= 1
        assert any("●" in line for line in _ladder(view))  # our quotes on their levels
        await pilot.press("plus")
        assert view.replay.control.speed == 2.0
        await pilot.press("space")
        assert not view.replay.control.paused
        assert "PLAYING" in text_of(view, "#replay-status")
        await pilot.press("space")
        assert view.replay.control.paused
        await pilot.press("ctrl+k")
        assert [c.kind for c in publisher.poll_commands()] == [CommandKind.KILL]
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is screen, "the runs again")


async def test_replay_needs_a_finished_run(app, publisher):
    """L on no run, or on data that is gone, opens nothing and says why."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "w", "backtest")
        assert isinstance(screen, BacktestScreen)
        await pilot.press("l")
        assert "select a finished run to replay" in text_of(screen, "#backtest-message")
        screen.finish(finished_run(1, PARAMS, 0.1, data="/nowhere/btcusdt"))
        await pilot.pause()
        await pilot.press("l")
        assert "no replay:" in text_of(screen, "#backtest-message")
        assert pilot.app.screen is screen

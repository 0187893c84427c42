"""Snapshots of the backtest views: two runs compared, a sweep's table and heat map, a replay."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from hft_tui.app import TradingApp, UiSettings
from hft_tui.screens.backtest import BacktestScreen
from hft_tui.screens.replay_view import ReplayScreen
from hft_tui.screens.run_compare import RunCompareScreen
from hft_tui.screens.sweep_view import SweepScreen
from tests.hft_tui.backtest_runs import finished_run, sweep_file
from tests.hft_tui.conftest import LocalSession
from tests.hft_tui.control_desk import TOKEN_ENV
from tests.hft_tui.pilot import wait_until
from tests.hft_tui.snapshots.conftest import INSTANCE, SIZES, drawn

#: the large size: the backtest screen's own snapshots use it too
LARGE = [SIZES[0], (200, 50)]


def _app(clock, *, ansi: bool = False) -> TradingApp:
    return TradingApp(LocalSession(INSTANCE), UiSettings(ansi=ansi, token_env=TOKEN_ENV), clock)


async def _backtest(pilot: Pilot[None]) -> BacktestScreen:
    await drawn(pilot)
    await pilot.press("w")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, BacktestScreen), "backtest")
    screen = pilot.app.screen
    assert isinstance(screen, BacktestScreen)
    return screen


async def _compared(pilot: Pilot[None]) -> None:
    screen = await _backtest(pilot)
    screen.finish(finished_run(1, "half_spread_ticks=50 size_lots=1000", 0.58))
    screen.finish(finished_run(2, "half_spread_ticks=30 size_lots=1000", 1.7342))
    screen.marked = {1, 2}
    await pilot.pause()
    await pilot.press("c")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunCompareScreen), "compare")
    await pilot.pause()


@pytest.mark.parametrize("size", LARGE, ids=lambda s: f"{s[0]}x{s[1]}")
def test_runs_compared(seeded, sim_clock, snap_compare, size):
    """Two runs in columns, the best of each row marked."""
    assert snap_compare(_app(sim_clock), terminal_size=size, run_before=_compared)


async def _sweep(pilot: Pilot[None]) -> None:
    screen = await _backtest(pilot)
    screen.sweep_path = "sweep.parquet"
    await pilot.press("s")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SweepScreen), "the sweep")
    view = pilot.app.screen
    assert isinstance(view, SweepScreen)
    await wait_until(pilot, lambda: view.table is not None, "the table")
    await pilot.pause()


@pytest.mark.parametrize("size", LARGE, ids=lambda s: f"{s[0]}x{s[1]}")
def test_sweep_table_and_heat_map(seeded, sim_clock, snap_compare, size, tmp_path, monkeypatch):
    """Six points sorted by net (one failed, last), the net heat map over the two parameters."""
    sweep_file(tmp_path)
    monkeypatch.chdir(tmp_path)  # the title shows the path as given: the same in every run
    assert snap_compare(_app(sim_clock), terminal_size=size, run_before=_sweep)


def test_sweep_heat_map_ansi_80x24(seeded, sim_clock, snap_compare, tmp_path, monkeypatch):
    """In 16 colours the map still reads: the shading characters carry the order."""
    sweep_file(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert snap_compare(_app(sim_clock, ansi=True), terminal_size=(80, 24), run_before=_sweep)


def _replayed(capture: str):
    async def run_before(pilot: Pilot[None]) -> None:
        screen = await _backtest(pilot)
        screen.finish(finished_run(1, "half_spread_ticks=2 size_lots=100", 0.1, data=capture))
        await pilot.pause()
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ReplayScreen), "replay")
        view = pilot.app.screen
        assert isinstance(view, ReplayScreen)
        await pilot.pause()
        await pilot.press("right_square_bracket", "plus", "plus")
        await pilot.pause()

    return run_before


@pytest.mark.shared_data
@pytest.mark.parametrize("size", LARGE, ids=lambda s: f"{s[0]}x{s[1]}")
def test_replay_on_the_ladder(seeded, sim_clock, snap_compare, size, shared_data: Path):
    """Ten seconds into the BTCUSDT capture, paused: the book, our two quotes, the figures."""
    capture = str(shared_data / "hftbacktest" / "spot" / "btcusdt")
    assert snap_compare(_app(sim_clock), terminal_size=size, run_before=_replayed(capture))

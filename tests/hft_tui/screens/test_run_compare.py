"""RunCompareScreen: marked finished runs in columns, the best of each row marked; ctrl+k works."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable

from engine.ipc.protocol import CommandKind
from hft_tui.screens.backtest import BacktestScreen
from hft_tui.screens.run_compare import RunCompareScreen, compare_rows
from tests.hft_tui.backtest_runs import finished_run
from tests.hft_tui.pilot import show_mode, table_rows, text_of, wait_until


async def _three_runs(pilot: Pilot[None]) -> BacktestScreen:
    screen = await show_mode(pilot, "w", "backtest")
    assert isinstance(screen, BacktestScreen)
    screen.finish(finished_run(1, "half_spread_ticks=50", 0.5))
    screen.finish(finished_run(2, "half_spread_ticks=30", 1.25))
    screen.finish(finished_run(3, "half_spread_ticks=10", -0.75))
    await pilot.pause()
    return screen


def _grid(view: RunCompareScreen) -> dict[str, list[str]]:
    table = view.query_one("#compare-table", DataTable)
    return {
        str(row.key.value): [c.plain for c in table.get_row(row.key)] for row in table.ordered_rows
    }


async def test_marked_runs_compare_side_by_side(app, publisher):
    """M marks #1 and #3 (newest first in the table); c shows them in columns, best marked."""
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _three_runs(pilot)
        await pilot.press("m", "up", "up", "m")  # the cursor starts on #1, the first finished
        await pilot.pause()
        assert "#3 *" in table_rows(screen, "#runs-table")["3"][0]
        assert "marked for comparing: #1, #3" in text_of(screen, "#backtest-message")
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunCompareScreen), "compare")
        view = pilot.app.screen
        assert isinstance(view, RunCompareScreen)
        await pilot.pause()
        grid = _grid(view)
        assert grid["params"] == ["params", "half_spread_ticks=50", "half_spread_ticks=10"]
        assert grid["net PnL"] == ["net PnL", "0.5000 *", "-0.7500"]
        assert grid["sharpe"] == ["sharpe", "1.50", "4.50 *"]
        assert grid["max drawdown"] == ["max drawdown", "-0.0400 *", "-0.1200"]
        assert grid["fills"] == ["fills", "100", "300"]  # more is not better: no mark
        assert "COMPARE RUNS #1, #3" in text_of(view, "#compare-title")
        await pilot.press("ctrl+k")
        assert [c.kind for c in publisher.poll_commands()] == [CommandKind.KILL]
        assert isinstance(pilot.app.screen, RunCompareScreen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is screen, "the runs again")


async def test_fewer_than_two_finished_runs_marked_says_what_to_do(app, publisher):
    """C with one run marked opens nothing and says how to mark."""
    async with app.run_test() as pilot:
        screen = await _three_runs(pilot)
        await pilot.press("m", "c")
        assert "mark two or more finished runs" in text_of(screen, "#backtest-message")
        assert pilot.app.screen is screen


def test_rows_mark_nothing_when_every_run_ties():
    """Equal figures mark no best."""
    same = finished_run(1, "", 1.0).result
    rows = dict(compare_rows([(1, "", same), (2, "", same)]))
    assert rows["net PnL"] == [("1.0000", False), ("1.0000", False)]

"""SweepScreen: a sweep file as a sortable table and a heat map; bad files named; ctrl+k works."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable

from engine.ipc.protocol import CommandKind
from hft_tui.screens.sweep_view import SweepScreen
from tests.hft_tui.backtest_runs import sweep_file
from tests.hft_tui.pilot import show_mode, text_of, wait_until


async def _sweep(pilot: Pilot[None]) -> SweepScreen:
    await show_mode(pilot, "w", "backtest")
    await pilot.press("s")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, SweepScreen), "the sweep view")
    view = pilot.app.screen
    assert isinstance(view, SweepScreen)
    return view


def _column(view: SweepScreen, key: str) -> list[str]:
    table = view.query_one("#sweep-table", DataTable)
    return [table.get_cell(row.key, key).plain for row in table.ordered_rows]


async def test_a_sweep_file_opens_sorted_with_its_heat_map(app, publisher, tmp_path):
    """Typed path + enter: points sorted by net, best first; the map of net over the two params."""
    path = sweep_file(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        view = await _sweep(pilot)
        assert view.query_one("#sweep-path").has_focus
        view.query_one("#sweep-path").value = str(path)
        await pilot.press("enter")
        await wait_until(pilot, lambda: view.table is not None, "the table read")
        assert "6 points (1 failed) · sorted by net descending" in text_of(view, "#sweep-title")
        assert _column(view, "net") == ["4", "2", "1", "1", "0", "-"]
        heat = text_of(view, "#sweep-heat").splitlines()
        assert heat[0].strip() == "net over half_spread_ticks (across) by skew_ticks (down)"
        assert heat[1].split() == ["skew_tick", "10", "20", "40"]
        assert heat[2].split() == ["0", "▒▒", "1", "▓▓", "2", "██", "4"]
        assert heat[3].split() == ["20", "░░", "0", "▒▒", "1", "·"]
        assert "░ lowest 0 … █ highest 4" in heat[4]


async def test_sort_keys_move_the_column_and_flip_the_order(app, publisher, tmp_path):
    """> sorts by the next column (sharpe), r flips it; < goes back to net."""
    async with app.run_test(size=(100, 30)) as pilot:
        view = await _sweep(pilot)
        view.open(str(sweep_file(tmp_path)))
        await pilot.pause()
        await pilot.press("greater_than_sign")
        assert view.sort_column == "sharpe"
        assert _column(view, "sharpe")[:2] == ["40", "20"]
        await pilot.press("r")
        assert _column(view, "sharpe")[:2] == ["-10", "0"]
        assert "sorted by sharpe ascending" in text_of(view, "#sweep-title")
        await pilot.press("less_than_sign")
        assert view.sort_column == "net"


async def test_heat_map_keys_change_the_metric_and_the_axes(app, publisher, tmp_path):
    """M picks the next metric; Y puts the other parameter down too."""
    async with app.run_test(size=(100, 30)) as pilot:
        view = await _sweep(pilot)
        view.open(str(sweep_file(tmp_path)))
        await pilot.pause()
        await pilot.press("M")
        assert text_of(view, "#sweep-heat").startswith(" sharpe over half_spread_ticks")
        await pilot.press("Y")
        assert "by half_spread_ticks (down)" in text_of(view, "#sweep-heat")


async def test_a_file_that_is_not_a_sweep_is_named_and_ctrl_k_still_halts(app, publisher, tmp_path):
    """A missing file is named on the title line; the kill switch works in the path line."""
    async with app.run_test(size=(100, 30)) as pilot:
        view = await _sweep(pilot)
        view.query_one("#sweep-path").value = str(tmp_path / "none.parquet")
        await pilot.press("enter")
        assert "does not exist" in text_of(view, "#sweep-title")
        await pilot.press("ctrl+k")
        assert [c.kind for c in publisher.poll_commands()] == [CommandKind.KILL]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, SweepScreen), "closed")

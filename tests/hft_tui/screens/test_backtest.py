"""BacktestScreen: the form, runs in worker processes, their figures and equity curve."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from engine.ipc.protocol import CommandKind
from hft_tui.screens.backtest import BacktestScreen
from hft_tui.widgets.pnl_chart import PnlChart
from tests.hft_tui.pilot import show_mode, table_rows, text_of, wait_until


async def _backtest(pilot: Pilot[None]) -> BacktestScreen:
    screen = await show_mode(pilot, "w", "backtest")
    assert isinstance(screen, BacktestScreen)
    return screen


async def _type(pilot: Pilot[None], field: str, text: str) -> None:
    """Put ``text`` into a form field (replacing what is there)."""
    pilot.app.screen.query_one(f"#bt-{field}").value = text
    await pilot.pause()


async def test_a_form_that_cannot_run_says_why_and_starts_nothing(app, publisher):
    """With no data the message names the field; no run is listed."""
    async with app.run_test() as pilot:
        screen = await _backtest(pilot)
        await pilot.press("n")
        assert "not started: data: give a capture" in text_of(screen, "#backtest-message")
        assert screen.runs == {}
        assert table_rows(screen, "#runs-table") == {}


async def test_ctrl_k_works_while_typing_in_the_form(app, publisher):
    """The kill switch is not swallowed by the form's fields; esc goes back to the runs."""
    async with app.run_test() as pilot:
        screen = await _backtest(pilot)
        await pilot.press("e", "a", "ctrl+k")
        assert screen.query_one("#bt-data").value == "a"
        kills = [r for r in publisher.poll_commands() if r.kind == CommandKind.KILL]
        assert len(kills) == 1
        await pilot.press("escape")
        assert screen.query_one("#runs-table").has_focus


@pytest.mark.shared_data
async def test_a_run_in_a_worker_process_lists_its_figures_and_curve(
    app, publisher, shared_data: Path
):
    """Enter in the form starts a run in a worker; the UI keeps drawing; the result is listed."""
    capture = str(shared_data / "hftbacktest" / "spot" / "btcusdt")
    async with app.run_test() as pilot:
        screen = await _backtest(pilot)
        await _type(pilot, "data", capture)
        await _type(pilot, "params", "half_spread_ticks=50 size_lots=1000")
        await _type(pilot, "end", "+60s")
        await pilot.press("e", "enter")
        await wait_until(pilot, lambda: 1 in screen.runs, "the run listed")
        for _ in range(600):  # a worker process starts and replays a minute: seconds, not ms
            if screen.runs[1].state in ("done", "failed"):
                break
            await pilot.pause(0.1)
        run = screen.runs[1]
        assert run.state == "done", run.error
        row = table_rows(screen, "#runs-table")["1"]
        assert row[0] == "#1"
        assert row[1] == "half_spread_ticks=5…"  # the whole of them is on the detail line
        assert row[2].startswith("done")
        assert row[3] != "-"
        assert len(screen.query_one(PnlChart).curve.points) >= 2
        detail = text_of(screen, "#run-detail")
        assert "btcusdt" in detail.lower()
        assert "half_spread_ticks=50 size_lots=1000" in detail

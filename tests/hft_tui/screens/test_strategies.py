"""StrategiesScreen: strategies from the control plane, parameter edits, stop/start/reload."""

from __future__ import annotations

from textual.pilot import Pilot

from engine.ipc.protocol import CommandKind
from engine.strategy.reload import ReloadError
from hft_tui.screens.base import DeskScreen
from hft_tui.screens.confirm import ConfirmScreen
from tests.hft_tui.control_desk import TOKEN, TOKEN_ENV
from tests.hft_tui.pilot import key_bar_text, show_mode, table_rows, text_of, wait_until


async def _strategies(pilot: Pilot[None]) -> DeskScreen:
    screen = await show_mode(pilot, "y", "strategies")
    await wait_until(pilot, lambda: bool(table_rows(screen, "#strategies-table")), "strategies")
    return screen


async def _to_param(pilot: Pilot[None], screen: DeskScreen, field: str) -> None:
    """Move to the parameters table and down to ``field``."""
    await pilot.press("tab")
    keys = list(table_rows(screen, "#params-table"))
    for _ in range(keys.index(field)):
        await pilot.press("down")


async def test_strategies_are_listed_with_state_and_callback_times(app, publisher, control):
    """One row per strategy: state, callbacks, p50/p99 µs, over budget, sent, refused."""
    async with app.run_test() as pilot:
        screen = await _strategies(pilot)
        rows = table_rows(screen, "#strategies-table")
        assert rows["mm-btc"] == [
            "mm-btc", "running", "48,213", "11.4", "86.9", "0", "1,204", "3",
        ]  # fmt: skip
        assert rows["mm-slow"][1] == "failed"
        params = table_rows(screen, "#params-table")
        assert params["half_spread_ticks"] == ["half_spread_ticks", "5"]
        assert params["post_only"] == ["post_only", "true"]
        assert "mm-btc (MarketMaker) running" in text_of(screen, "#strategy-detail")
        assert "y Strategies" in key_bar_text(screen)


async def test_moving_to_another_strategy_shows_its_parameters_and_error(app, publisher, control):
    """The cursor on mm-slow shows its parameters and why it stopped."""
    async with app.run_test() as pilot:
        screen = await _strategies(pilot)
        await pilot.press("down")
        await wait_until(
            pilot, lambda: "ZeroDivisionError" in text_of(screen, "#strategy-detail"), "the error"
        )
        assert table_rows(screen, "#params-table")["fair"][1] == "microprice"


async def test_a_parameter_edit_goes_to_the_engine(
    app, publisher, control, control_desk, monkeypatch
):
    """Key e on a parameter opens the editor; enter sends PUT; the new value is listed."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    desk = control_desk.strategy_control
    async with app.run_test() as pilot:
        screen = await _strategies(pilot)
        await _to_param(pilot, screen, "half_spread_ticks")
        await pilot.press("e")
        assert screen.has_class("-editing")
        await pilot.press(*"12", "enter")
        await wait_until(pilot, lambda: ("params", "mm-btc") in desk.actions, "the change")
        assert desk.params["mm-btc"].half_spread_ticks == 12
        await wait_until(
            pilot,
            lambda: table_rows(screen, "#params-table")["half_spread_ticks"][1] == "12",
            "the new value",
        )
        assert "mm-btc.half_spread_ticks is now 12" in text_of(screen, "#strategies-message")


async def test_an_out_of_range_value_is_refused_inline_and_the_old_one_stays(
    app, publisher, control, control_desk, monkeypatch
):
    """levels=50 is past its range: the engine's words and the allowed range show; 2 stays."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    desk = control_desk.strategy_control
    async with app.run_test() as pilot:
        screen = await _strategies(pilot)
        await _to_param(pilot, screen, "levels")
        await pilot.press("enter", *"50", "enter")
        await wait_until(
            pilot, lambda: "refused" in text_of(screen, "#strategies-message"), "the refusal"
        )
        message = text_of(screen, "#strategies-message")
        assert "levels=50" in message
        assert "1 <= int <= 20" in message
        assert desk.params["mm-btc"].levels == 2
        assert table_rows(screen, "#params-table")["levels"][1] == "2"


async def test_text_for_a_whole_number_is_not_sent(
    app, publisher, control, control_desk, monkeypatch
):
    """size_lots must be a whole number: 'big' is refused before anything is sent."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async with app.run_test() as pilot:
        screen = await _strategies(pilot)
        await _to_param(pilot, screen, "size_lots")
        await pilot.press("e", *"big", "enter")
        await wait_until(
            pilot, lambda: "not sent" in text_of(screen, "#strategies-message"), "the refusal"
        )
        assert "size_lots must be a whole number" in text_of(screen, "#strategies-message")
        assert control_desk.strategy_control.actions == []


async def test_escape_keeps_the_value_and_no_token_says_which_variable(
    app, publisher, control, control_desk, monkeypatch
):
    """Escape closes the editor unchanged; without the token, e names the variable to set."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async with app.run_test() as pilot:
        screen = await _strategies(pilot)
        await _to_param(pilot, screen, "levels")
        await pilot.press("e", "escape")
        assert not screen.has_class("-editing")
        assert "not changed" in text_of(screen, "#strategies-message")
        monkeypatch.delenv(TOKEN_ENV)
        await pilot.press("e")
        assert not screen.has_class("-editing")
        assert TOKEN_ENV in text_of(screen, "#strategies-message")
        assert control_desk.strategy_control.actions == []


async def test_stop_start_and_reload(app, publisher, control, control_desk, monkeypatch):
    """Keys x stop, g start, L asks y/n before reloading; a refused reload names file and line."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    desk = control_desk.strategy_control
    async with app.run_test() as pilot:
        screen = await _strategies(pilot)
        await pilot.press("x")
        await wait_until(pilot, lambda: ("stop", "mm-btc") in desk.actions, "the stop")
        await wait_until(
            pilot,
            lambda: table_rows(screen, "#strategies-table")["mm-btc"][1] == "stopped",
            "stopped",
        )
        await pilot.press("g")
        await wait_until(pilot, lambda: ("start", "mm-btc") in desk.actions, "the start")
        await pilot.press("L")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await pilot.press("L")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: ("reload", "mm-btc") in desk.actions, "the reload")
        assert desk.actions.count(("reload", "mm-btc")) == 1
        desk.reload_error = ReloadError("strategies/mm.py", 14, "SyntaxError: invalid syntax")
        await pilot.press("L")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await wait_until(
            pilot, lambda: "strategies/mm.py:14" in text_of(screen, "#strategies-message"),
            "the refused reload",
        )  # fmt: skip


async def test_ctrl_k_works_in_the_editor_and_in_the_reload_question(
    app, publisher, control, monkeypatch
):
    """The kill switch is not swallowed by the parameter editor or the y/n dialog."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async with app.run_test() as pilot:
        screen = await _strategies(pilot)
        await _to_param(pilot, screen, "levels")
        await pilot.press("e", "ctrl+k")
        await pilot.press("escape", "L")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("ctrl+k")
        kills = [r for r in publisher.poll_commands() if r.kind == CommandKind.KILL]
        assert len(kills) == 2

"""HelpScreen and the modes: ? lists every key; modes wait for dialogs; ctrl+k works everywhere."""

from __future__ import annotations

from engine.ipc.protocol import CommandKind
from hft_tui.keys import MODE_KEYS
from hft_tui.screens.confirm import ConfirmScreen
from hft_tui.screens.help import HelpScreen
from tests.hft_tui.pilot import ladder_lines, show_mode, text_of, wait_until


async def _ready(pilot) -> None:
    await wait_until(pilot, lambda: "65000.01" in "\n".join(ladder_lines(pilot)), "the book")


async def test_question_mark_lists_the_screens_keys_the_modes_and_the_global_keys(app):
    """On the trade screen ? lists the ticket keys, every mode and ctrl+k; ? closes it."""
    async with app.run_test(size=(80, 40)) as pilot:
        await _ready(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the key list")
        keys = text_of(app.screen, "#help-keys")
        assert "buy limit GTC at the best bid (joins the bid)" in keys
        assert "first size preset" in keys
        assert "cancel every order on this instrument" in keys
        assert all(f"{m.label}: " in keys for m in MODE_KEYS)
        assert "^K" in keys
        assert "halt trading now" in keys
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), "closed")


async def test_mode_keys_wait_while_a_dialog_is_open(app):
    """With the reset question open, o does not switch screens; after n it does."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("o")
        await pilot.pause()
        assert app.current_mode == "trade"
        await pilot.press("n")
        await show_mode(pilot, "o", "orders")


async def test_ctrl_k_kills_from_every_screen_and_from_help(app, publisher):
    """The kill switch sends KILL on each of the screens and with the key list open."""
    async with app.run_test() as pilot:
        await _ready(pilot)
        for mode in MODE_KEYS:
            await show_mode(pilot, mode.key, mode.mode)
            await pilot.press("ctrl+k")
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the key list")
        await pilot.press("ctrl+k")
        kinds = [c.kind for c in publisher.poll_commands()]
        assert kinds == [CommandKind.KILL] * (len(MODE_KEYS) + 1)

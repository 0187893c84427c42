"""Helpers for pilot tests: wait for the UI to reach a state, read what a widget shows."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.screen import Screen

from hft_tui.screens.base import DeskScreen
from hft_tui.screens.engine_lost import EngineLostScreen
from hft_tui.widgets import HaltBanner, KeyBar, Ladder, StatusBar, TradesTape
from hft_tui.widgets.keyed_table import KeyedTable

#: pauses before a wait gives up; each pause lets the app run its timers and messages
MAX_PAUSES = 250


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition()`` holds; fail naming ``what`` if it never does."""
    for _ in range(MAX_PAUSES):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"the UI never showed {what}")


def _trade(pilot: Pilot[None]) -> Screen[None]:
    """The trade screen, even while a dialog is on top of it."""
    return pilot.app.get_screen_stack("trade")[0]


def ladder_lines(pilot: Pilot[None]) -> list[str]:
    """The ladder's lines as plain text."""
    ladder = _trade(pilot).query_one(Ladder)
    return [ladder.render_line(y).text for y in range(ladder.size.height)]


def tape_lines(pilot: Pilot[None]) -> list[str]:
    """The trades tape's lines as plain text."""
    tape = _trade(pilot).query_one(TradesTape)
    return [tape.render_line(y).text for y in range(tape.size.height)]


def banner_text(pilot: Pilot[None]) -> str:
    """The halt banner's text."""
    return _trade(pilot).query_one(HaltBanner).render().plain


def status_text(pilot: Pilot[None]) -> str:
    """The status bar's text."""
    return _trade(pilot).query_one(StatusBar).render().plain


async def engine_lost_dialog(pilot: Pilot[None]) -> EngineLostScreen:
    """Wait until the engine-lost dialog is on top and mounted, and return it."""

    def shown() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, EngineLostScreen) and screen.is_mounted

    await wait_until(pilot, shown, "the engine-lost dialog")
    screen = pilot.app.screen
    assert isinstance(screen, EngineLostScreen)
    return screen


async def show_mode(pilot: Pilot[None], key: str, mode: str) -> DeskScreen:
    """Press a mode key and wait until that mode's screen is on show and drawn once."""
    await pilot.press(key)

    def shown() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, DeskScreen) and mode == screen.MODE and screen.frame is not None

    await wait_until(pilot, shown, f"the {mode} screen")
    screen = pilot.app.screen
    assert isinstance(screen, DeskScreen)
    return screen


def text_of(screen: Screen[None], selector: str) -> str:
    """What a Static (or any widget that renders text) shows, as plain text."""
    return str(screen.query_one(selector).render())


def table_rows(screen: Screen[None], selector: str) -> dict[str, list[str]]:
    """A keyed table's rows as plain text, by row key, in display order."""
    table = screen.query_one(selector, KeyedTable)
    rows = {}
    for row in table.ordered_rows:
        assert row.key.value is not None
        rows[row.key.value] = [cell.plain for cell in table.get_row(row.key)]
    return rows


def key_bar_text(screen: Screen[None]) -> str:
    """The key bar's text."""
    return screen.query_one(KeyBar).render().plain

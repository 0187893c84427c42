"""ctrl+k where the other tests do not press it: editors, the engine-lost dialog, tiny terminals.

Every screen and the help, reset and reload dialogs are covered next to them (test_help,
test_app, test_strategies); here the kill switch is pressed while a text editor has the focus, while
the engine-lost dialog is up, and on a terminal too small for the layout.
"""

from __future__ import annotations

from engine.ipc.protocol import CommandKind
from tests.hft_tui.control_desk import TOKEN, TOKEN_ENV
from tests.hft_tui.pilot import engine_lost_dialog, show_mode, table_rows, wait_until

SECOND = 1_000_000_000


def _kills(publisher) -> int:
    return sum(c.kind == CommandKind.KILL for c in publisher.poll_commands())


async def test_ctrl_k_in_the_risk_limit_editor(app, publisher, control, monkeypatch):
    """The editor's Input has the focus; ctrl+k still halts and types nothing into it."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "r", "risk")
        await wait_until(pilot, lambda: bool(table_rows(screen, "#limits-table")), "the limits")
        await pilot.press("e")
        assert screen.has_class("-editing")
        await pilot.press("ctrl+k")
        assert _kills(publisher) == 1
        assert screen.has_class("-editing")


async def test_ctrl_k_in_the_engine_lost_dialog(app, publisher, sim_clock):
    """A silent engine puts the dialog up; the kill still goes on the command ring."""
    async with app.run_test() as pilot:
        await show_mode(pilot, "t", "trade")
        sim_clock.advance(2 * SECOND)
        await engine_lost_dialog(pilot)
        await pilot.press("ctrl+k")
        assert _kills(publisher) == 1


async def test_ctrl_k_on_a_terminal_too_small_for_the_layout(app, publisher):
    """At 60x20 only the enlarge request shows, and ctrl+k halts all the same."""
    async with app.run_test(size=(60, 20)) as pilot:
        screen = await show_mode(pilot, "t", "trade")
        assert screen.has_class("-too-small")
        await pilot.press("ctrl+k")
        assert _kills(publisher) == 1

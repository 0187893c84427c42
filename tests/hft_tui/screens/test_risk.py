"""RiskScreen: limits from the control plane with their use, edits through PUT, the breaker."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from engine.ipc.protocol import CommandKind, PositionRow
from hft_tui.screens.base import DeskScreen
from hft_tui.screens.confirm import ConfirmScreen
from tests.hft_tui.conftest import engine_view, order_row, trading_view
from tests.hft_tui.control_desk import TOKEN, TOKEN_ENV
from tests.hft_tui.pilot import show_mode, table_rows, text_of, wait_until


@pytest.fixture
def seeded(publisher, instance):
    """A trading page: two working orders, a long position, a loss today."""
    publisher.publish_trading(
        trading_view(
            orders=[order_row(1, instance=instance), order_row(2, instance=instance, side=2)],
            positions=[
                PositionRow(
                    instrument=0,
                    net_lots=300,
                    avg_entry="65000",
                    realised="-12.5",
                    unrealised="0",
                    fees="0",
                )
            ],
            daily="-12.5",
        )
    )
    return publisher


async def _risk(pilot: Pilot[None]) -> DeskScreen:
    screen = await show_mode(pilot, "r", "risk")
    await wait_until(pilot, lambda: bool(table_rows(screen, "#limits-table")), "the limits")
    return screen


async def _select(pilot: Pilot[None], screen: DeskScreen, key: str) -> None:
    """Move the table's cursor down to the limit ``key``."""
    keys = list(table_rows(screen, "#limits-table"))
    for _ in range(keys.index(key)):
        await pilot.press("down")


async def test_limits_are_listed_with_their_use_now(app, seeded, control):
    """Every limit from GET /risk/limits is a row; daily loss, orders and position show use."""
    async with app.run_test() as pilot:
        screen = await _risk(pilot)
        rows = table_rows(screen, "#limits-table")
        assert rows["daily_loss_limit"] == [
            "account",
            "daily_loss_limit",
            "2000",
            "today -12.5 (0.6%)",
        ]
        assert rows["defaults.max_open_orders"][2:] == ["50", "2 working (BTCUSDT)"]
        assert rows["defaults.max_position"][2:] == ["5", "0.00300 (BTCUSDT)"]
        assert rows["defaults.price_band_bps"][2:] == ["500", ""]
        assert "refused by risk: price_band 3" in text_of(screen, "#breaker")
        assert "trading RUNNING" in text_of(screen, "#breaker")


async def test_an_edit_with_the_token_changes_the_engines_limits(
    app, seeded, control, control_desk, monkeypatch
):
    """The e key opens the editor on the selected limit; enter sends PUT; the new value shows."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async with app.run_test() as pilot:
        screen = await _risk(pilot)
        await _select(pilot, screen, "defaults.max_position")
        await pilot.press("e")
        assert screen.has_class("-editing")
        await pilot.press(*"2.5", "enter")
        await wait_until(pilot, lambda: bool(control_desk.changes), "the engine's limits changed")
        assert control_desk.limits.defaults.max_position == "2.5"
        await wait_until(
            pilot,
            lambda: table_rows(screen, "#limits-table")["defaults.max_position"][2] == "2.5",
            "the new value",
        )
        assert "defaults.max_position is now 2.5" in text_of(screen, "#risk-message")
        assert not screen.has_class("-editing")


async def test_an_invalid_value_shows_the_engines_error_and_keeps_the_old_one(
    app, seeded, control, control_desk, monkeypatch
):
    """The engine refuses -1 with its reason, shown under the table; the old 5 stays."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async with app.run_test() as pilot:
        screen = await _risk(pilot)
        await _select(pilot, screen, "defaults.max_position")
        await pilot.press("enter")  # enter edits too
        await pilot.press(*"-1", "enter")
        await wait_until(
            pilot, lambda: "refused" in text_of(screen, "#risk-message"), "the refusal"
        )
        message = text_of(screen, "#risk-message")
        assert "max_position" in message
        assert "must be positive" in message
        assert "the old value stays" in message
        assert control_desk.changes == []
        assert table_rows(screen, "#limits-table")["defaults.max_position"][2] == "5"


async def test_a_count_that_is_not_a_whole_number_is_not_sent(
    app, seeded, control, control_desk, monkeypatch
):
    """max_open_orders must stay a whole number: text is refused before anything is sent."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async with app.run_test() as pilot:
        screen = await _risk(pilot)
        await _select(pilot, screen, "defaults.max_open_orders")
        await pilot.press("e", *"lots", "enter")
        await wait_until(pilot, lambda: "not sent" in text_of(screen, "#risk-message"), "refusal")
        assert "whole number" in text_of(screen, "#risk-message")
        assert control_desk.changes == []


async def test_without_the_token_the_screen_says_which_variable_to_set(
    app, seeded, control, control_desk, monkeypatch
):
    """With the token's variable unset, e says so and opens no editor."""
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    async with app.run_test() as pilot:
        screen = await _risk(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: TOKEN_ENV in text_of(screen, "#risk-message"), "the hint")
        assert "control token" in text_of(screen, "#risk-message")
        assert not screen.has_class("-editing")
        assert control_desk.changes == []


async def test_escape_closes_the_editor_without_sending(
    app, seeded, control, control_desk, monkeypatch
):
    """Escape leaves the limit as it was and sends nothing."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async with app.run_test() as pilot:
        screen = await _risk(pilot)
        await pilot.press("e", *"9", "escape")
        await wait_until(pilot, lambda: not screen.has_class("-editing"), "the editor closed")
        assert "not changed" in text_of(screen, "#risk-message")
        assert control_desk.changes == []


async def test_no_control_plane_is_said_plainly(app, seeded):
    """An engine that announced no control plane: the screen says the limits are unavailable."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "r", "risk")
        await wait_until(
            pilot, lambda: "unavailable" in text_of(screen, "#risk-message"), "the message"
        )
        assert "has not announced a control plane" in text_of(screen, "#risk-message")


async def test_breaker_state_kill_and_reset_from_the_risk_screen(
    app, seeded, control, sim_clock, instance
):
    """A tripped breaker is shown with its reason; ctrl+k kills, ctrl+r asks before RESET."""
    async with app.run_test() as pilot:
        screen = await _risk(pilot)
        await pilot.press("ctrl+k")
        seeded.publish_engine(
            engine_view(
                sim_clock, instance, trading="halted", halt_reason="kill switch (ui)",
                halted_at_ns=sim_clock.time_ns(),
            )
        )  # fmt: skip
        await wait_until(pilot, lambda: "TRIPPED" in text_of(screen, "#breaker"), "TRIPPED")
        assert "kill switch (ui)" in text_of(screen, "#breaker")
        assert screen.has_class("-halted")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen, "the risk screen again")
        kinds = [c.kind for c in seeded.poll_commands()]
        assert kinds == [CommandKind.KILL, CommandKind.RESET]

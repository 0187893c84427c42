"""EngineLostScreen: a failed restart shows why and r can be pressed again."""

from __future__ import annotations

from engine.errors import EngineError
from hft_tui.app import TradingApp, UiSettings
from tests.hft_tui.conftest import LocalSession
from tests.hft_tui.pilot import engine_lost_dialog, wait_until

SECOND = 1_000_000_000


async def test_failed_restart_shows_the_error_and_allows_another_try(
    publisher, sim_clock, instance
):
    """A restart that raises leaves the dialog up with the error, and r tries again."""
    attempts: list[int] = []

    def restart() -> None:
        attempts.append(1)
        raise EngineError("engine exited with code 2 during start-up")

    session = LocalSession(instance, restart=restart)
    app = TradingApp(session, UiSettings(refresh_hz=50.0), sim_clock)
    async with app.run_test() as pilot:
        sim_clock.advance(2 * SECOND)
        dialog = await engine_lost_dialog(pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: bool(dialog.error), "the restart error")
        assert "exited with code 2" in dialog.error
        assert not dialog.restarting
        await pilot.press("r")
        await wait_until(pilot, lambda: len(attempts) == 2, "a second attempt")
        assert app.screen is dialog

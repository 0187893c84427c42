"""AlertsScreen: alerts newest first, kept beyond the page, filtered by level and source."""

from __future__ import annotations

from engine.ipc.protocol import AlertRow, EventKind, pack
from tests.hft_tui.conftest import trading_view
from tests.hft_tui.pilot import show_mode, table_rows, text_of, wait_until

SECOND = 1_000_000_000


def _alert(n: int, level: str, source: str) -> AlertRow:
    return AlertRow(ts_ns=n * SECOND, level=level, source=source, message=f"alert {n}")


def _messages(screen) -> list[str]:
    return [row[3] for row in table_rows(screen, "#alerts-table").values()]


async def test_alerts_newest_first_and_kept_after_they_leave_the_page(app, publisher):
    """Alerts show newest first; one the page dropped stays; the cursor stays on its alert."""
    publisher.publish_trading(
        trading_view(alerts=[_alert(1, "info", "engine"), _alert(2, "warning", "risk")])
    )
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "a", "alerts")
        await wait_until(pilot, lambda: _messages(screen) == ["alert 2", "alert 1"], "2 alerts")
        publisher.publish_trading(
            trading_view(alerts=[_alert(2, "warning", "risk"), _alert(3, "critical", "oms")])
        )
        publisher.emit(pack(EventKind.ALERT, engine_ts=3 * SECOND, aux=3))
        await wait_until(pilot, lambda: len(_messages(screen)) == 3, "3 alerts")
        assert _messages(screen) == ["alert 3", "alert 2", "alert 1"]
        rows = list(table_rows(screen, "#alerts-table").values())
        assert rows[0][:3] == ["00:00:03.000", "CRITICAL", "oms"]
        assert "raised: 1 critical" in text_of(screen, "#alerts-filter")
        assert "risk: alert 2" in text_of(screen, "#alert-detail")  # the cursor kept its alert


async def test_level_and_source_filters(app, publisher):
    """The l key raises the lowest level shown; s cycles through the sources seen."""
    alerts = [
        _alert(1, "info", "engine"),
        _alert(2, "warning", "risk"),
        _alert(3, "critical", "oms"),
        _alert(4, "warning", "oms"),
    ]
    publisher.publish_trading(trading_view(alerts=alerts))
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "a", "alerts")
        await wait_until(pilot, lambda: len(_messages(screen)) == 4, "4 alerts")
        await pilot.press("l")
        await wait_until(pilot, lambda: len(_messages(screen)) == 3, "warning and up")
        assert _messages(screen) == ["alert 4", "alert 3", "alert 2"]
        await pilot.press("l")
        await wait_until(pilot, lambda: _messages(screen) == ["alert 3"], "critical only")
        await pilot.press("l", "s")  # every level again, then the first source: engine
        await wait_until(pilot, lambda: _messages(screen) == ["alert 1"], "source engine")
        await pilot.press("s")
        await wait_until(pilot, lambda: _messages(screen) == ["alert 4", "alert 3"], "source oms")
        assert "source oms" in text_of(screen, "#alerts-filter")


async def test_no_alerts_says_so(app, publisher):
    """With no alerts the detail line says there are none."""
    publisher.publish_trading(trading_view())
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "a", "alerts")
        await wait_until(pilot, lambda: "no alerts" in text_of(screen, "#alert-detail"), "none")

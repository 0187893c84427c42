"""The UI attached to a real engine process: prices in the ladder, ctrl+k halts it everywhere."""

from __future__ import annotations

import re

import pytest

from engine.core.clock import LiveClock
from hft_tui.app import TradingApp, UiSettings
from hft_tui.launcher import AttachedSession
from tests.hft_tui.pilot import banner_text, ladder_lines, status_text, wait_until
from tests.integration.control import get_status
from tests.integration.live import announced_engine

pytestmark = pytest.mark.integration

PRICE = re.compile(r"\b\d{5}\.\d{2}\b")


@pytest.fixture
def running_engine(engine_config, engine_env):
    """An engine started as `hft-tui --no-ui` would start it, on the local venue: its URL."""
    with announced_engine(
        engine_config,
        engine_env,
        until=lambda url: get_status(url)["books"]["BTCUSDT"]["state"] == "live",
        what="a live book",
        timeout=120,
    ) as url:
        yield url


async def test_ctrl_k_on_a_live_engine_shows_halted_and_status_agrees(running_engine, instance):
    """On a running engine the ladder shows prices; ctrl+k halts it on screen and in /status."""
    app = TradingApp(AttachedSession(instance), UiSettings(ansi=False), LiveClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot,
            lambda: sum(bool(PRICE.search(line)) for line in ladder_lines(pilot)) >= 20,
            "20 priced ladder rows",
        )
        assert "live" in status_text(pilot)
        assert get_status(running_engine)["trading"] == "running"
        await pilot.press("ctrl+k")
        await wait_until(pilot, lambda: "HALTED" in banner_text(pilot), "the HALTED banner")
        assert app.get_screen_stack("trade")[0].has_class("-halted")
        assert get_status(running_engine)["trading"] == "halted"
        await pilot.press("q")
    # Quitting an attached UI leaves the engine running.
    assert get_status(running_engine)["trading"] == "halted"


@pytest.fixture
def paper_mode(engine_config, engine_env):
    """The engine in paper mode (orders match in-process) on a calmer local market.

    At 50 events a second a bid joining the best one rests long enough to be seen.
    """
    engine_env["HFT__ENGINE__MODE"] = "paper"
    text = engine_config.read_text().replace(
        "events_per_second = 2000.0", "events_per_second = 50.0"
    )
    engine_config.write_text(text)


async def test_a_bid_from_the_ticket_shows_its_queue_on_the_ladder(
    paper_mode, running_engine, instance
):
    """The b key joins the best bid on the paper engine; its level shows our size and queue.

    While the bid rests, the trading page carries the public size queued ahead of it.
    """
    app = TradingApp(AttachedSession(instance), UiSettings(ansi=False), LiveClock())
    seen: list[tuple[int, bool]] = []

    def resting() -> bool:
        frame = app.get_screen_stack("trade")[0].frame
        page = frame.desk.page if frame is not None else None
        for order in page.orders if page is not None else []:
            if order.request == 1 and order.status in ("accepted", "partially_filled"):
                marked = any("●" in line and " q" in line for line in ladder_lines(pilot))
                seen.append((order.queue_ahead, marked))
        return any(ahead >= 0 and marked for ahead, marked in seen)

    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: sum(bool(PRICE.search(line)) for line in ladder_lines(pilot)) >= 20,
            "20 priced ladder rows",
        )
        await pilot.press("b")
        await wait_until(pilot, resting, "our resting bid with its queue on the ladder")
        order = app.get_screen_stack("trade")[0].frame.desk.page.orders[0]
        assert (order.venue, order.strategy) == ("sim", "")  # sent from the UI, not a strategy
        await pilot.press("X", "q")

"""The strategies screen on a real engine running a market maker: listed, edited, stopped."""

from __future__ import annotations

import json
import urllib.request

import pytest

from engine.core.clock import LiveClock
from hft_tui.app import TradingApp, UiSettings
from hft_tui.launcher import AttachedSession
from tests.hft_tui.pilot import show_mode, table_rows, text_of, wait_until
from tests.integration.live import announced_engine

pytestmark = pytest.mark.integration

TOKEN = "strategies-screen-token"  # made up for this test
CONFIG = """
[engine]
mode = "paper"
[sim]
port = 0
seed = 11
events_per_second = 400.0
depth_interval_ms = 20
[control]
port = 0
[strategies.mm]
symbol = "BTCUSDT"
[strategies.mm.params]
half_spread_ticks = 500
size_lots = 100
requote_ticks = 200
"""


def _strategies(url: str) -> list[dict]:
    with urllib.request.urlopen(url + "/strategies", timeout=5) as answer:
        return json.loads(answer.read())


@pytest.fixture
def engine_with_mm(tmp_path, engine_env, monkeypatch):
    """A paper engine quoting with [strategies.mm], the token in both environments: its URL."""
    monkeypatch.setenv("HFT_CONTROL_TOKEN", TOKEN)
    config = tmp_path / "mm.toml"
    config.write_text(CONFIG)
    env = {**engine_env, "HFT_CONTROL_TOKEN": TOKEN}
    with announced_engine(
        config,
        env,
        until=lambda url: _strategies(url)[0]["callbacks"],
        what="the market maker's first callback",
        timeout=120,
    ) as url:
        yield url


async def test_the_screen_lists_edits_stops_and_starts_the_engines_strategy(
    engine_with_mm, instance
):
    """The market maker is listed running with callback times; a change and stop reach it."""
    url = engine_with_mm
    app = TradingApp(AttachedSession(instance), UiSettings(ansi=False), LiveClock())
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await show_mode(pilot, "y", "strategies")
        await wait_until(pilot, lambda: "mm" in table_rows(screen, "#strategies-table"), "mm")
        row = table_rows(screen, "#strategies-table")["mm"]
        assert row[1] == "running"
        assert int(row[2].replace(",", "")) > 0  # callbacks
        await pilot.press("tab")
        keys = list(table_rows(screen, "#params-table"))
        for _ in range(keys.index("half_spread_ticks")):
            await pilot.press("down")
        await pilot.press("e", *"400", "enter")
        await wait_until(
            pilot,
            lambda: _strategies(url)[0]["params"]["half_spread_ticks"] == 400,
            "the engine's new parameter",
        )
        await pilot.press("e", *"-3", "enter")
        await wait_until(
            pilot, lambda: "refused" in text_of(screen, "#strategies-message"), "the refusal"
        )
        assert _strategies(url)[0]["params"]["half_spread_ticks"] == 400
        await pilot.press("tab", "x")
        await wait_until(pilot, lambda: not _strategies(url)[0]["running"], "mm stopped")
        await pilot.press("g")
        await wait_until(pilot, lambda: _strategies(url)[0]["running"], "mm running again")
        await pilot.press("q")

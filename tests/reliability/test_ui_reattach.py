"""UI fault: the UI is killed (SIGKILL) while the engine trades, then a new UI attaches.

The engine never waits on a UI: its book update rate is the same with a UI attached, after the
UI died and with the new one attached; its trading state and orders are untouched; the dead UI's
lock goes with its process, so the new UI attaches at once and shows prices.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from engine.core.clock import LiveClock
from engine.ipc.segments import read_instance, runtime_dir
from hft_tui.app import TradingApp, UiSettings
from hft_tui.launcher import AttachedSession
from tests.hft_tui.pilot import ladder_lines, wait_until
from tests.integration.control import get_status
from tests.integration.live import wait_for

pytestmark = pytest.mark.integration

PRICE = re.compile(r"\b\d{5}\.\d{2}\b")
UI_SCRIPT = """
import asyncio, sys
from engine.core.clock import LiveClock
from hft_tui.app import TradingApp, UiSettings
from hft_tui.launcher import AttachedSession

async def main():
    app = TradingApp(AttachedSession(sys.argv[1]), UiSettings(ansi=False), LiveClock())
    async with app.run_test(size=(80, 24)):
        await asyncio.sleep(600)

asyncio.run(main())
"""


def _ui_attached(instance: str) -> bool:
    """Whether some process holds the instance's UI lock."""
    fd = os.open(runtime_dir() / f"{instance}.ui.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _rate(url: str, seconds: float = 1.0) -> float:
    """Book updates per second over ``seconds``."""
    first = get_status(url)["books"]["BTCUSDT"]["update_count"]
    time.sleep(seconds)
    return (get_status(url)["books"]["BTCUSDT"]["update_count"] - first) / seconds


@pytest.fixture
def engine_proc(engine_config, engine_env, instance):
    """An engine on the local venue, its book live; its control URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "--config", str(engine_config), "--log-format", "json"],
        env=engine_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def live() -> str:
        assert proc.poll() is None, "the engine exited"
        info = read_instance(instance)
        if info is None or info.pid != proc.pid or not info.control_url:
            return ""
        live = get_status(info.control_url)["books"]["BTCUSDT"]["state"] == "live"
        return info.control_url if live else ""

    try:
        yield wait_for("a live book", live, 60)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def _kill_a_ui(url: str, instance: str, fault) -> tuple[float, float, dict]:
    """Attach a UI process, measure, SIGKILL it, measure: (rate with, rate without, status)."""
    ui = subprocess.Popen([sys.executable, "-c", UI_SCRIPT, instance], env=dict(os.environ))
    try:
        wait_for("the first UI to attach", lambda: _ui_attached(instance), 60)
        with_ui = _rate(url)
        before = get_status(url)
        fault.inject("UI killed (SIGKILL) and re-attached")
        ui.send_signal(signal.SIGKILL)
        ui.wait(timeout=10)
        assert not _ui_attached(instance), "the dead UI's lock was not released"
        fault.detected("ui lock: released by the kernel with the dead process")
        return with_ui, _rate(url), before
    finally:
        if ui.poll() is None:
            ui.kill()
            ui.wait(timeout=10)


async def test_ui_killed_and_reattached_while_the_engine_runs(engine_proc, instance, fault):
    """SIGKILL the UI: the engine's rate holds, nothing changes, a new UI attaches at once."""
    url = engine_proc
    with_ui, without_ui, before = await asyncio.to_thread(_kill_a_ui, url, instance, fault)
    app = TradingApp(AttachedSession(instance), UiSettings(ansi=False), LiveClock())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot,
            lambda: sum(bool(PRICE.search(line)) for line in ladder_lines(pilot)) >= 10,
            "prices on the new UI's ladder",
        )
        fault.recovered()
        reattached = await asyncio.to_thread(_rate, url)
        await pilot.press("q")
    after = get_status(url)
    assert after["trading"] == before["trading"] == "running"
    assert after["orders"]["known"] == before["orders"]["known"]
    slowest, fastest = sorted((with_ui, without_ui, reattached))[::2]
    assert slowest > 0
    assert slowest >= fastest / 2, (with_ui, without_ui, reattached)
    fault.detected_by = (
        "ui lock: released with the dead process; engine book updates "
        f"{with_ui:.0f}/{without_ui:.0f}/{reattached:.0f} per s (with, without, re-attached)"
    )
    fault.lost(0, 0)

"""Snapshots of the backtest screen with two finished runs and one failed, on fixed results."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from hft_tui.app import TradingApp, UiSettings
from hft_tui.backtest_jobs import BacktestForm
from hft_tui.screens.backtest import BacktestRun, BacktestScreen
from tests.hft_tui.conftest import LocalSession
from tests.hft_tui.control_desk import TOKEN_ENV
from tests.hft_tui.pilot import wait_until
from tests.hft_tui.snapshots.conftest import INSTANCE, SECOND, drawn

DATA = "../shared/data/hftbacktest/spot/btcusdt"
START = 1_723_075_200 * SECOND  # 2024-08-08 00:00:00 UTC
#: net PnL every 10 s of a ten-minute replay: a dip, then a slow climb
CURVE = [0, -1, -3, -2, -5, -4, -1, 2, 1, 4, 6, 5, 8, 7, 9, 12, 11, 13, 15, 14, 17, 16, 18, 21,
         20, 22, 25, 24, 23, 26, 28, 27, 30, 29, 31, 33, 32, 35, 34, 36, 38, 37, 40, 39, 41, 43,
         42, 44, 46, 45, 47, 49, 48, 50, 52, 51, 53, 55, 54, 56, 58]  # fmt: skip


def _run(number: int, params: str, net: float, *, error: str = "") -> BacktestRun:
    run = BacktestRun(number, BacktestForm(DATA, params, "", "+10m"), submitted=0.0)
    run.finished = 0.8 * number
    if error:
        run.result, run.state = {"error": error}, "failed"
        return run
    scale = net / CURVE[-1]
    run.state = "done"
    run.result = {
        "headline": {
            "net": net,
            "gross": net + 0.9,
            "fees": 0.9,
            "sharpe": 1.42 * number,
            "sortino": 2.1,
            "max_drawdown": -0.05 * number,
            "fills": 120 * number,
            "orders_sent": 410 * number,
            "fill_ratio": 0.29,
            "maker_share": 0.97,
            "spread_capture": 3.2,
        },
        "equity": [(START + n * 10 * SECOND, f"{v * scale:.4f}") for n, v in enumerate(CURVE)],
        "start_ns": START,
        "end_ns": START + 600 * SECOND,
        "source": "capture btcusdt",
        "halted": "",
    }
    return run


async def _with_runs(pilot: Pilot[None]) -> None:
    await drawn(pilot)
    await pilot.press("w")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, BacktestScreen), "backtest")
    screen = pilot.app.screen
    assert isinstance(screen, BacktestScreen)
    screen.finish(_run(1, "half_spread_ticks=50 size_lots=1000", 0.58))
    screen.finish(_run(2, "levels=99", 0.0, error="ParamsError: levels=99 refused"))
    screen.finish(_run(3, "half_spread_ticks=30 size_lots=1000 skew_ticks=20", 1.7342))
    await pilot.pause()


def _app(clock) -> TradingApp:
    settings = UiSettings(token_env=TOKEN_ENV, backtest_data=DATA, ansi=False)  # not from TERM
    return TradingApp(LocalSession(INSTANCE), settings, clock)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_backtest_screen(seeded, sim_clock, snap_compare, size):
    """The form, three runs (newest first, one failed), the newest one's figures and curve."""
    assert snap_compare(_app(sim_clock), terminal_size=size, run_before=_with_runs)

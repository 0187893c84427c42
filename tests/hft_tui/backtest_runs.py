"""Fixed backtest results for the backtest views' tests: finished runs and a sweep file."""

from __future__ import annotations

import itertools
from pathlib import Path

import pyarrow.parquet as pq

from backtest.sweep import table
from hft_tui.backtest_jobs import BacktestForm
from hft_tui.screens.backtest import BacktestRun

SECOND = 1_000_000_000
DATA = "../shared/data/hftbacktest/spot/btcusdt"
START = 1_723_075_200 * SECOND  # 2024-08-08 00:00:00 UTC


def finished_run(number: int, params: str, net: float, *, data: str = DATA) -> BacktestRun:
    """A run that ended with ``net`` and figures that grow with its number."""
    run = BacktestRun(number, BacktestForm(data, params, "", "+20s"), submitted=0.0)
    run.finished = 0.5 * number
    run.state = "done"
    run.result = {
        "headline": {
            "net": net,
            "gross": net + 0.5,
            "fees": 0.5,
            "sharpe": 1.5 * number,
            "sortino": 2.0,
            "max_drawdown": -0.04 * number,
            "fills": 100 * number,
            "orders_sent": 400 * number,
            "fill_ratio": 0.25,
            "maker_share": 0.95,
            "turnover": 1200.0 * number,
            "spread_capture": 2.5 + number,
        },
        "equity": [(START, "0"), (START + 20 * SECOND, f"{net:.4f}")],
        "start_ns": START,
        "end_ns": START + 20 * SECOND,
        "source": "capture btcusdt",
        "halted": "",
    }
    return run


def sweep_file(folder: Path) -> Path:
    """A 3 x 2 grid over half_spread_ticks and skew_ticks, one point failed, as a sweep writes it.

    ``net`` is ``half_spread / 10 - skew / 20`` so the map's corners are known.
    """
    rows = []
    for n, (half, skew) in enumerate(itertools.product((10, 20, 40), (0, 20))):
        failed = (half, skew) == (40, 20)
        net = None if failed else half / 10 - skew / 20
        rows.append({
            "point": n,
            "p_half_spread_ticks": half,
            "p_skew_ticks": skew,
            "net": net,
            "sharpe": None if failed else float(half - skew),
            "fills": None if failed else float(10 * half),
            "status": "failed" if failed else "ok",
            "attempts": 2 if failed else 1,
            "error": "RuntimeError: worker died" if failed else "",
        })  # fmt: skip
    path = folder / "sweep.parquet"
    pq.write_table(table(rows), path)
    return path

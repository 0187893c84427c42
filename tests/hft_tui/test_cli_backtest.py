"""``hft-tui backtest``: the metrics JSON on stdout, bad input refused with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hft_tui.cli import cli
from hft_tui.cli_backtest import parse_time


def test_times_read_as_ns_or_iso():
    """Integer ns, or ISO-8601 read as UTC without an offset."""
    assert parse_time("", "--start") == 0
    assert parse_time("1723161253937085768", "--start") == 1723161253937085768
    assert parse_time("2024-08-08T23:55:00Z", "--start") == 1723161300 * 10**9
    assert parse_time("2024-08-08T23:55:00.5", "--start") == 1723161300 * 10**9 + 500_000_000
    with pytest.raises(ValueError, match="--end 'soon' is neither ns nor ISO-8601"):
        parse_time("soon", "--end")


@pytest.mark.shared_data
def test_backtest_run_prints_the_metrics_json(shared_data: Path, tmp_path: Path):
    """A run over the first two minutes: metrics, exact config and range, the results folder."""
    capture = shared_data / "hftbacktest" / "spot" / "btcusdt"
    out = tmp_path / "res"
    result = CliRunner().invoke(
        cli,
        [
            "backtest", "run", "--strategy", "market_maker", "--capture", str(capture),
            "-p", "half_spread_ticks=50", "-p", "size_lots=1000", "-p", "max_inventory_lots=10000",
            "--end", "2024-08-08T23:56:00Z", "--set", "maker_fee=0.0001", "--out", str(out),
            "--report", "html", "--json", "--no-ui",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["config"]["params"]["half_spread_ticks"] == 50
    assert doc["data"]["end"] == "2024-08-08T23:56:00.000Z"
    assert doc["metrics"]["fills"] > 0
    assert {p.name for p in out.iterdir()} >= {"fills.parquet", "metrics.json", "report.html"}


@pytest.mark.shared_data
def test_backtest_refuses_a_missing_range_and_bad_options(shared_data: Path):
    """Exit 2 with what was wrong, before anything runs."""
    capture = shared_data / "hftbacktest" / "spot" / "btcusdt"
    runner = CliRunner()
    late = runner.invoke(
        cli, ["backtest", "run", "--capture", str(capture), "--end", "2024-08-10T00:00:00Z"]
    )
    assert late.exit_code == 2
    assert "missing: binance:BTCUSDT after 2024-08-09T00:05:04" in late.stderr
    both = runner.invoke(cli, ["backtest", "run", "--capture", str(capture), "--catalog", "x"])
    assert both.exit_code == 2
    assert "exactly one of --catalog PATH or --capture PATH" in both.stderr
    bad = runner.invoke(
        cli, ["backtest", "sweep", "--capture", str(capture), "--grid", "half_spread_ticks=9:1"]
    )
    assert bad.exit_code == 2
    assert "lo <= hi" in bad.stderr

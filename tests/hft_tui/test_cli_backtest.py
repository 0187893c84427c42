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
def test_backtest_without_a_subcommand_is_a_run(shared_data: Path, tmp_path: Path):
    """``hft-tui backtest --no-ui ... --json`` writes what ``backtest run`` writes, to the byte."""
    capture = shared_data / "hftbacktest" / "spot" / "btcusdt"
    args = ["--capture", str(capture), "--end", "2024-08-08T23:55:30Z", "--json", "--no-ui"]
    runner = CliRunner()
    alias = runner.invoke(cli, ["backtest", *args, "--out", str(tmp_path / "a")])
    run = runner.invoke(cli, ["backtest", "run", *args, "--out", str(tmp_path / "b")])
    assert alias.exit_code == run.exit_code == 0, alias.output
    assert json.loads(alias.stdout) == json.loads(run.stdout)
    for name in ("fills.parquet", "orders.parquet", "equity.parquet", "metrics.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    before = runner.invoke(cli, ["backtest", "--json", "sweep", "--capture", str(capture)])
    assert before.exit_code == 2
    assert "--json: the options of a run; give them after the subcommand" in before.stderr


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

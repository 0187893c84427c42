"""Backtest runs: deterministic to the byte, bad ranges and parameters refused before the run."""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec
import pytest

from backtest.capture import CaptureSource
from backtest.errors import BacktestSetupError, DataRangeError
from backtest.report import write_results
from backtest.runner import run_backtest
from tests.backtest.runs import S, btc_capture, short_config

pytestmark = pytest.mark.shared_data

FILES = ("fills.parquet", "orders.parquet", "equity.parquet", "metrics.json", "report.html")


@pytest.fixture(autouse=True)
def _quiet() -> None:
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def _results(source: CaptureSource, folder: Path, **fields: object) -> dict[str, bytes]:
    result = run_backtest(short_config(source, **fields), source)
    write_results(result, folder, html_report=True)
    return {name: (folder / name).read_bytes() for name in FILES}


def test_the_same_inputs_params_and_seed_give_byte_identical_results(
    shared_data: Path, tmp_path: Path
):
    """Two runs (sampled latencies, seeded) write the same bytes; another seed does not."""
    source = CaptureSource([btc_capture(shared_data)])
    fields = {"latency_model": "lognormal", "seed": 7, "feed_latency_us": 200}
    one = _results(source, tmp_path / "one", **fields)
    two = _results(source, tmp_path / "two", **fields)
    assert one == two
    doc = msgspec.json.decode(one["metrics.json"])
    assert doc["metrics"]["fills"] > 20
    other = _results(source, tmp_path / "three", **{**fields, "seed": 8})
    assert other["fills.parquet"] != one["fills.parquet"]


def test_the_html_report_is_self_contained(shared_data: Path, tmp_path: Path):
    """Inline SVG charts and no external asset."""
    source = CaptureSource([btc_capture(shared_data)])
    page = _results(source, tmp_path / "r")["report.html"].decode()
    assert page.count("<svg") >= 3
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    assert "<script" not in page


def test_a_range_past_the_data_is_refused_before_the_run_naming_what_is_missing(
    shared_data: Path,
):
    """Nothing runs; the error lists the missing part."""
    source = CaptureSource([btc_capture(shared_data)])
    _, last = source.span()
    config = short_config(source, end_ns=last + 3600 * S)
    with pytest.raises(DataRangeError, match="missing: binance:BTCUSDT after 2024-08-09T00:05:04"):
        run_backtest(config, source)


def test_a_bad_parameter_or_symbol_is_refused_with_field_value_and_range(shared_data: Path):
    """The strategy's own ranges apply before the run."""
    source = CaptureSource([btc_capture(shared_data)])
    bad = short_config(source, params={"half_spread_ticks": -1})
    with pytest.raises(BacktestSetupError, match=r"half_spread_ticks=-1.*allowed"):
        run_backtest(bad, source)
    with pytest.raises(BacktestSetupError, match="symbol 'ETHUSDT' is not in the data"):
        run_backtest(short_config(source, symbol="ETHUSDT"), source)


def test_the_strategy_starts_at_start_after_the_books_warm_up(shared_data: Path):
    """No order before ``start_ns``; the book was built from the earlier data."""
    source = CaptureSource([btc_capture(shared_data)])
    first, _ = source.span()
    start = first + 60 * S
    result = run_backtest(short_config(source, start_ns=start), source)
    assert result.orders
    assert min(o.history[0].ts_ns for o in result.orders) >= start
    assert result.equity[0].ts_ns >= start


def test_exchange_time_replay_runs_the_same_strategy(shared_data: Path):
    """``time = "exch"`` orders and clocks the replay by the venue's stamps."""
    source = CaptureSource([btc_capture(shared_data)])
    result = run_backtest(short_config(source, seconds=60, time="exch"), source)
    assert result.book_events > 500
    assert result.fills

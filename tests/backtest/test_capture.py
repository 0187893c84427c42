"""The capture source: real Binance spot captures become a continuous, ordered event stream."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from backtest.capture import CaptureSource, capture_files
from backtest.errors import CaptureError, DataRangeError
from backtest.source import merge
from engine.core.events import BookDelta, BookSnapshot, Trade
from tests.backtest.runs import S, btc_capture


@pytest.mark.shared_data
def test_btcusdt_capture_is_a_snapshot_then_continuous_diffs_in_receive_order(shared_data: Path):
    """One snapshot first, every diff continuing the last, receive times never going back."""
    source = CaptureSource([btc_capture(shared_data)])
    events = list(source.events(2**62, "recv"))
    assert isinstance(events[0][1], BookSnapshot)
    last_id = events[0][1].update_id
    last_ts = 0
    deltas = trades = 0
    for ts, event in events:
        assert ts >= last_ts
        last_ts = ts
        if isinstance(event, BookDelta):
            assert event.first_id <= last_id + 1 <= event.last_id
            last_id = event.last_id
            deltas += 1
        trades += isinstance(event, Trade)
    assert deltas > 6000
    assert trades > 19000


@pytest.mark.shared_data
def test_two_captures_merge_in_replay_time_order_by_exchange_time(shared_data: Path):
    """BTCUSDT and ETHUSDT interleave by exchange time when asked; ids are the order given."""
    spot = shared_data / "hftbacktest" / "spot"
    source = CaptureSource([spot / "btcusdt", spot / "ethusdt"])
    assert [i.symbol for i in source.instruments] == ["BTCUSDT", "ETHUSDT"]
    first, _ = source.span()
    stamps = [ts for ts, _ in source.events(first + 60 * S, "exch")]
    assert stamps == sorted(stamps)
    kinds = {e.instrument for _, e in source.events(first + 60 * S, "exch")}
    assert kinds == {0, 1}


@pytest.mark.shared_data
def test_a_range_outside_the_capture_is_reported_with_what_is_missing(shared_data: Path):
    """Before and after the capture's span are named with their times."""
    source = CaptureSource([btc_capture(shared_data)])
    first, last = source.span()
    missing = source.missing(first - 60 * S, last + 60 * S)
    assert len(missing) == 2
    assert missing[0].startswith("binance:BTCUSDT before 2024-08-08T23:54:13")
    assert "after 2024-08-09T00:05:04" in missing[1]
    assert source.missing(first, last + 1) == []


def _write(path: Path, lines: list[str]) -> None:
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")


SNAP = '{"lastUpdateId":100,"bids":[["10.00","1.000000"]],"asks":[["10.01","1.000000"]]}'


def _diff(first: int, last: int) -> str:
    return (
        '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT",'
        f'"U":{first},"u":{last},"b":[["10.00","2.000000"]],"a":[]}}}}'
    )


def test_a_gap_in_the_diffs_names_the_file_and_line(tmp_path: Path):
    """A diff that does not follow on is refused, not papered over."""
    path = tmp_path / "btcusdt_20240808.gz"
    _write(path, [f"1 {SNAP}", f"2 {_diff(101, 102)}", f"3 {_diff(105, 106)}"])
    source = CaptureSource([path])
    with pytest.raises(CaptureError, match=r"btcusdt_20240808.gz:3: gap: diff U=105 after u=102"):
        list(source.events(2**62, "recv"))


def test_a_garbled_line_and_an_unknown_symbol_are_refused(tmp_path: Path):
    """Bad input names the file and line; a symbol without a known grid is refused up front."""
    path = tmp_path / "btcusdt_20240808.gz"
    _write(path, [f"1 {SNAP}", "not a line"])
    with pytest.raises(CaptureError, match=r"btcusdt_20240808.gz:2"):
        list(CaptureSource([path]).events(2**62, "recv"))
    _write(tmp_path / "dogeusdt_20240808.gz", [f"1 {SNAP}"])
    with pytest.raises(DataRangeError, match="no tick/lot grid known for DOGEUSDT"):
        CaptureSource([tmp_path / "dogeusdt"])
    with pytest.raises(DataRangeError, match="no capture files"):
        capture_files(tmp_path / "xrpusdt")


def test_merge_keeps_stream_order_on_ties():
    """Equal stamps: the first stream's event first, each stream's own order kept."""
    a = [(1, "a1"), (2, "a2")]
    b = [(1, "b1"), (2, "b2")]
    assert [e for _, e in merge([a, b])] == ["a1", "b1", "a2", "b2"]  # type: ignore[list-item]

from __future__ import annotations

import gzip

import pytest

from engine.data.captures import (
    SNAPSHOT_STREAM,
    CaptureError,
    read_cryptofeed,
    read_hftbacktest,
    read_tardis,
    seconds_to_ns,
    tardis_table,
)
from tests.engine.data.handmade import T0, clean_lines, write_capture


def test_seconds_become_exact_nanoseconds():
    """Decimal seconds convert without float rounding."""
    assert seconds_to_ns("1626992741.06217") == 1_626_992_741_062_170_000
    assert seconds_to_ns("1626992741.3105128") == 1_626_992_741_310_512_800
    with pytest.raises(ValueError, match="not a decimal"):
        seconds_to_ns("soon")


def test_hftbacktest_day_files_merge_by_receive_time(tmp_path):
    """Two day files give one ordered stream; streams are named from the frames."""
    lines = clean_lines()
    a = write_capture(tmp_path / "x_20240808.gz", lines[0::2])
    b = write_capture(tmp_path / "x_20240809.gz", lines[1::2])
    records = list(read_hftbacktest([b, a]))
    assert [r.recv_ns for r in records] == [ts for ts, _ in lines]
    assert records[0].stream == "btcusdt@depth@100ms"
    assert records[1].stream == SNAPSHOT_STREAM
    assert records[3].stream == "btcusdt@trade"
    assert records[0].payload.startswith(b'{"stream":"btcusdt@depth@100ms"')


def test_a_bad_hftbacktest_line_is_named(tmp_path):
    """A line without a receive time names the file and line."""
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as f:
        f.write(b'1 {"a":1}\nnot-a-time {"a":2}\n')
    with pytest.raises(CaptureError, match=r"bad.gz:2: expected"):
        list(read_hftbacktest([path]))


def test_cryptofeed_v1_pairs_merge_http_and_ws(tmp_path):
    """REST snapshots and received frames interleave by time; sent frames are left out."""
    http = tmp_path / "BINANCE.http.0.0"
    http.write_bytes(
        b"https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000"
        b' -> 1.5: {"lastUpdateId":1}\n\n'
    )
    ws = tmp_path / "BINANCE.ws.1.0"
    ws.write_bytes(
        b"wss://stream.binance.com/stream?streams=btcusdt@depth <-> 1.0\n"
        b'wss://stream.binance.com/stream?streams=btcusdt@depth <- 1.1: {"method":"SUBSCRIBE"}\n'
        b'1.2: {"a":1}\n'
        b'1.7: {"b":2}\n'
    )
    records = list(read_cryptofeed([http, ws]))
    assert [r.recv_ns for r in records] == [1_200_000_000, 1_500_000_000, 1_700_000_000]
    assert records[1].stream.startswith("https://api.binance.com/api/v3/depth?symbol=BTCUSDT")
    assert records[0].stream.startswith("wss://stream.binance.com/stream")
    assert records[2].payload == b'{"b":2}'


def test_tardis_tables_are_recognised(tmp_path):
    """Each Tardis table is told apart by its header; rows keep their exact text."""
    base = "exchange,symbol,timestamp,local_timestamp"
    assert tardis_table(f"{base},id,side,price,amount".split(",")) == "trades"
    assert tardis_table(f"{base},ask_amount,ask_price,bid_price,bid_amount".split(",")) == "quotes"
    assert tardis_table(f"{base},is_snapshot,side,price,amount".split(",")) == "incremental_book_L2"
    assert (
        tardis_table(f"{base},asks[0].price,asks[0].amount,bids[0].price,bids[0].amount".split(","))
        == "book_snapshot_1"
    )
    path = tmp_path / "t.csv"
    path.write_text(f"{base},id,side,price,amount\nx,BTC,1,2,7,buy,1.5,0.1\n")
    (rec,) = read_tardis([path])
    assert rec.recv_ns == 2000
    assert rec.stream == "tardis:trades"
    assert rec.payload == b"x,BTC,1,2,7,buy,1.5,0.1"


def test_tardis_time_going_back_is_named(tmp_path):
    """Rows out of local_timestamp order are refused with the line."""
    path = tmp_path / "t.csv"
    path.write_text(
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "x,BTC,1,5,7,buy,1.5,0.1\nx,BTC,1,4,8,buy,1.5,0.1\n"
    )
    with pytest.raises(CaptureError, match=r"t.csv:3: local_timestamp goes back"):
        list(read_tardis([path]))


def test_time_zero_is_the_handmade_epoch():
    """The hand-made captures start at 2024-08-09T00:00:00Z."""
    assert T0 % 3_600_000_000_000 == 0

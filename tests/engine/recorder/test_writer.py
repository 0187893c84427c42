from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from engine.core.events import BookDelta, BookSnapshot, Side, Trade
from engine.core.instruments import Instrument
from engine.recorder import schema
from engine.recorder.writer import CatalogWriteError, CatalogWriter, parse_roll

INST = Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
T0 = 1_723_161_600_000_000_000  # 2024-08-09T00:00:00Z


def arr(*values):
    """An int64 array of the values."""
    return np.array(values, dtype=np.int64)


def delta(recv_ts, first, last, bids=(), asks=()):
    """A one-level diff."""
    return BookDelta(
        instrument=0,
        first_id=first,
        last_id=last,
        prev_id=-1,
        bid_px=arr(*(p for p, _ in bids)),
        bid_sz=arr(*(s for _, s in bids)),
        ask_px=arr(*(p for p, _ in asks)),
        ask_sz=arr(*(s for _, s in asks)),
        exch_ts=recv_ts - 5,
        recv_ts=recv_ts,
    )


def test_rows_land_in_the_partition_with_metadata(tmp_path):
    """Book, trade and raw rows land in their partitions with the metadata keys."""
    writer = CatalogWriter(tmp_path, source="live")
    snap = BookSnapshot(
        instrument=0,
        update_id=10,
        bid_px=arr(100, 99),
        bid_sz=arr(5, 6),
        ask_px=arr(101),
        ask_sz=arr(7),
        recv_ts=T0 + 1,
    )
    writer.write_snapshot(INST, snap)
    writer.write_delta(INST, delta(T0 + 2, 11, 12, bids=[(100, 0)], asks=[(102, 3)]))
    trade = Trade(
        instrument=0, trade_id=9, price=101, size=2, aggressor=Side.BUY, exch_ts=T0, recv_ts=T0 + 3
    )
    writer.write_trade(INST, trade)
    writer.write_raw("binance", "BTCUSDT", T0 + 4, "btcusdt@depth", b'{"x": 1}')
    files = writer.close()
    assert len(files) == 3
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}  # owner-only, as the state
    assert stat.S_IMODE(files[0].parent.stat().st_mode) & 0o077 == 0
    book = tmp_path / "book/venue=binance/symbol=BTCUSDT/date=2024-08-09" / f"00-{T0 + 1}.parquet"
    assert book in files
    table = pq.read_table(book)
    meta = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert meta == {
        "venue": "binance",
        "symbol": "BTCUSDT",
        "tick_size": "0.01",
        "lot_size": "0.00001",
        "source": "live",
        "schema_version": "1",
    }
    rows = table.to_pylist()
    assert rows[0]["kind"] == 0
    assert rows[0]["first_id"] == rows[0]["last_id"] == 10
    assert rows[0]["bid_px"] == [100, 99]
    assert rows[1]["kind"] == 1
    assert rows[1]["ask_px"] == [102]
    (raw_file,) = (f for f in files if f.parts[len(tmp_path.parts)] == "raw")
    raw = pq.read_table(raw_file)
    assert raw.to_pylist() == [
        {"recv_ts": T0 + 4, "stream": "btcusdt@depth", "payload": b'{"x": 1}'}
    ]
    assert writer.files_written == 3
    assert writer.rows_written == 4
    assert not list(tmp_path.rglob(".*.tmp"))


def test_hourly_roll_closes_the_old_file(tmp_path):
    """A row in the next hour completes the file of the last one."""
    writer = CatalogWriter(tmp_path, source="live", row_group_rows=2)
    for n in range(5):
        writer.write_delta(INST, delta(T0 + n, n + 1, n + 1, bids=[(100, n + 1)]))
    writer.write_delta(INST, delta(T0 + schema.HOUR_NS + 7, 6, 6, bids=[(100, 1)]))
    assert writer.files_written == 1  # the first hour was completed by the roll
    files = writer.close()
    names = [f.name for f in files]
    assert names == [f"00-{T0}.parquet", f"01-{T0 + schema.HOUR_NS + 7}.parquet"]
    assert pq.read_table(files[0]).num_rows == 5
    assert pq.ParquetFile(files[0]).metadata.num_row_groups == 3


def test_roll_by_time_completes_quiet_files(tmp_path):
    """roll(now) completes files whose hour is over."""
    writer = CatalogWriter(tmp_path, source="live")
    writer.write_delta(INST, delta(T0 + 1, 1, 1, bids=[(100, 1)]))
    writer.roll(T0 + 10)
    assert writer.files_written == 0
    writer.roll(T0 + schema.HOUR_NS)
    assert writer.files_written == 1
    assert writer.open_files() == 0


def test_symbols_with_slashes_are_one_folder(tmp_path):
    """A symbol with a slash is percent-encoded into one folder."""
    inst = Instrument(venue="kraken", symbol="XBT/CHF", tick_size="0.1", lot_size="0.00000001")
    writer = CatalogWriter(tmp_path, source="cryptofeed")
    writer.write_delta(inst, delta(T0, 1, 1, bids=[(100, 1)]))
    (path,) = writer.close()
    assert path.parent.parent.name == "symbol=XBT%2FCHF"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_root_raises_a_write_error_naming_the_file(tmp_path):
    """A read-only catalog folder raises a write error naming the file."""
    root = tmp_path / "catalog"
    root.mkdir()
    root.chmod(0o500)
    try:
        writer = CatalogWriter(root, source="live")
        writer.write_delta(INST, delta(T0, 1, 1, bids=[(100, 1)]))
        with pytest.raises(CatalogWriteError, match="cannot write catalog file") as info:
            writer.close()
        assert str(root) in str(info.value.path)
    finally:
        root.chmod(0o700)


def test_an_unwritable_root_raises_a_write_error(tmp_path):
    """A root that is a file fails the write; the next row starts a new file."""
    root = tmp_path / "catalog"
    root.write_text("a file where the catalog folder should be")
    writer = CatalogWriter(root, source="live")
    writer.write_delta(INST, delta(T0, 1, 1, bids=[(100, 1)]))
    with pytest.raises(CatalogWriteError, match="cannot write catalog file"):
        writer.close()
    writer.write_delta(INST, delta(T0 + 1, 2, 2, bids=[(100, 1)]))
    assert writer.open_files() == 1  # the next row starts a new file
    writer.abandon()


def test_parse_roll():
    """Roll periods divide an hour."""
    assert parse_roll("1h") == 3600
    assert parse_roll("15m") == 900
    assert parse_roll("30s") == 30
    with pytest.raises(ValueError, match="divide an hour"):
        parse_roll("7m")
    with pytest.raises(ValueError, match="not <n>h"):
        parse_roll("hourly")


def test_file_names_round_trip():
    """File names parse back to their hour and first receive time."""
    assert schema.parse_file_name(schema.file_name(T0 + 5)) == (0, T0 + 5)
    assert schema.parse_file_name(".00-1.parquet.tmp") is None
    assert isinstance(schema.partition_dir(Path("/r"), "book", "a", "b", T0), Path)

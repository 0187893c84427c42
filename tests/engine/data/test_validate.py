from __future__ import annotations

import numpy as np

from engine.core.events import BookDelta, BookSnapshot, Side, Trade
from engine.core.instruments import Instrument
from engine.data.importer import import_capture
from engine.data.validate import validate_path
from engine.recorder.writer import CatalogWriter
from tests.engine.data.handmade import (
    MS,
    T0,
    clean_lines,
    crossing_lines,
    faulty_lines,
    write_capture,
)

INST = Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.001")


def kinds(report):
    """Problem kinds in the order found."""
    return [p.kind for p in report.problems]


def test_a_clean_capture_has_no_problems(tmp_path):
    """Counts and rates of a continuous capture, nothing wrong."""
    path = write_capture(tmp_path / "c.gz", clean_lines())
    report = validate_path([path])
    assert report.ok
    assert report.kind == "capture"
    assert report.messages == {"depth": 4, "snapshot": 1, "trade": 1}
    assert report.duration_s == 0.005
    assert report.rates_per_s["total"] == 1200.0


def test_injected_problems_are_each_found(tmp_path):
    """Duplicate, time gap, sequence gap, bad size and out-of-order, each where it is."""
    path = write_capture(tmp_path / "f.gz", faulty_lines())
    report = validate_path([path])
    assert kinds(report) == ["duplicate", "time_gap", "gap", "bad_size", "out_of_order"]
    gap = report.problems[2]
    assert gap.symbol == "BTCUSDT"
    assert gap.seq == 111
    assert gap.detail == "expected U=105, got U=110"
    assert report.problems[1].ts_recv == T0 + 2_500 * MS
    assert "-1.000" in report.problems[3].detail
    assert report.problem_counts == {
        "duplicate": 1,
        "time_gap": 1,
        "gap": 1,
        "bad_size": 1,
        "out_of_order": 1,
    }


def test_a_crossed_book_is_found(tmp_path):
    """A diff that lifts the bid over the ask is reported as crossed."""
    path = write_capture(tmp_path / "x.gz", crossing_lines())
    report = validate_path([path])
    assert kinds(report) == ["crossed"]
    assert "crossed book" in report.problems[0].detail


def arr(*v):
    """An int64 array."""
    return np.array(v, dtype=np.int64)


def test_a_catalog_with_injected_problems(tmp_path):
    """Catalog rows: gap, duplicate, time gap, crossed, bad sizes, a truncated file."""
    writer = CatalogWriter(tmp_path, source="live")
    writer.write_snapshot(
        INST,
        BookSnapshot(
            instrument=0,
            update_id=10,
            bid_px=arr(100),
            bid_sz=arr(1),
            ask_px=arr(102),
            ask_sz=arr(1),
            recv_ts=T0,
        ),
    )

    def delta(first, last, ts, bid=(100, 1), ask=None):
        return BookDelta(
            instrument=0,
            first_id=first,
            last_id=last,
            prev_id=-1,
            bid_px=arr(bid[0]),
            bid_sz=arr(bid[1]),
            ask_px=arr(*(ask[:1] if ask else ())),
            ask_sz=arr(*(ask[1:] if ask else ())),
            exch_ts=0,
            recv_ts=ts,
        )

    writer.write_delta(INST, delta(11, 11, T0 + 1))
    writer.write_delta(INST, delta(11, 11, T0 + 2))  # duplicate
    writer.write_delta(INST, delta(13, 13, T0 + 3))  # gap: 12 missing
    writer.write_delta(INST, delta(14, 14, T0 + 2_000 * MS))  # 2 s quiet
    writer.write_delta(INST, delta(15, 15, T0 + 2_001 * MS, bid=(103, 1)))  # crosses 102
    trade = Trade(
        instrument=0, trade_id=5, price=101, size=0, aggressor=Side.BUY, exch_ts=0, recv_ts=T0
    )
    writer.write_trade(INST, trade)  # no size
    files = writer.close()
    report = validate_path([tmp_path])
    assert report.kind == "catalog"
    assert report.messages == {"snapshot": 1, "delta": 5, "trade": 1}
    assert sorted(kinds(report)) == sorted(["duplicate", "gap", "time_gap", "crossed", "bad_size"])
    trade_file = next(f for f in files if "/trade/" in str(f))
    trade_file.write_bytes(trade_file.read_bytes()[:40])
    report = validate_path([tmp_path])
    unreadable = [p for p in report.problems if p.kind == "unreadable"]
    assert len(unreadable) == 1
    assert str(trade_file) in unreadable[0].detail


def test_an_imported_catalog_validates_clean(tmp_path):
    """What import writes passes validation."""
    path = write_capture(tmp_path / "c.gz", clean_lines())
    import_capture("hftbacktest", [path], tmp_path / "cat")
    report = validate_path([tmp_path / "cat"])
    assert report.ok, report.problems
    assert report.messages == {"snapshot": 1, "delta": 3, "trade": 1}

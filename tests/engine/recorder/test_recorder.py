from __future__ import annotations

import numpy as np

from backtest.catalog import Catalog
from engine.book.order_book import OrderBook
from engine.core.events import AlertLevel, BookDelta, BookSnapshot, Side, Trade
from engine.core.instruments import Instrument
from engine.recorder import schema
from engine.recorder.recorder import Recorder
from engine.recorder.tap import OTHER_SYMBOL, TappedParser

INST = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
T0 = 1_723_161_600_000_000_000


def arr(*values):
    """An int64 array of the values."""
    return np.array(values, dtype=np.int64)


def trade(n):
    """Trade number ``n``, received ``n`` ns after T0."""
    return Trade(
        instrument=0,
        trade_id=n,
        price=100 + n,
        size=1,
        aggressor=Side.BUY,
        exch_ts=T0,
        recv_ts=T0 + n,
    )


def test_round_trip_through_the_writer_thread_equals_the_events(tmp_path):
    """What the hot path hands over comes back from the catalog reader, field for field."""
    book = OrderBook("BTCUSDT")
    book.apply_snapshot(arr(100, 99), arr(1, 2), arr(101), arr(3), 41)
    deltas = [
        BookDelta(
            instrument=0,
            first_id=42 + n,
            last_id=42 + n,
            prev_id=-1,
            bid_px=arr(100),
            bid_sz=arr(n + 1),
            ask_px=arr(101 + n),
            ask_sz=arr(n),
            exch_ts=T0 + 10 * n,
            recv_ts=T0 + 10 * n + 5,
        )
        for n in range(1, 50)
    ]
    recorder = Recorder(tmp_path, [INST])
    recorder.start()
    recorder.book_live(0, book, 0, T0)
    for n, d in enumerate(deltas):
        recorder.book_delta(d)
        recorder.trade(trade(10 * n + 6))
    recorder.raw("sim", "BTCUSDT", T0 + 1, "btcusdt@depth", b'{"exact": "bytes" }')
    stats = recorder.stop()
    assert stats.dropped == 0
    assert stats.write_errors == 0
    assert stats.rows_written == 1 + 2 * len(deltas) + 1
    assert stats.files_written == 3
    got = list(Catalog(tmp_path).events([INST], T0, T0 + schema.HOUR_NS))
    assert isinstance(got[0], BookSnapshot)
    assert got[0].update_id == 41
    assert got[0].bid_px.tolist() == [100, 99]
    assert got[0].ask_sz.tolist() == [3]
    books = [e for e in got if isinstance(e, BookDelta)]
    trades = [e for e in got if isinstance(e, Trade)]
    assert [(d.first_id, d.bid_sz.tolist(), d.ask_px.tolist(), d.exch_ts) for d in books] == [
        (d.first_id, d.bid_sz.tolist(), d.ask_px.tolist(), d.exch_ts) for d in deltas
    ]
    assert trades == [trade(10 * n + 6) for n in range(len(deltas))]
    (raw_file,) = Catalog(tmp_path).files("raw")
    assert raw_file.symbol == "BTCUSDT"


def test_an_unwritable_catalog_drops_the_oldest_counts_and_alerts(tmp_path):
    """The producer never waits: a full queue pushes the oldest out; failed writes alert."""
    root = tmp_path / "catalog"
    root.write_text("a file, so no folder can be made here")
    alerts = []
    recorder = Recorder(
        root,
        [INST],
        queue_size=10,
        on_alert=lambda level, message: alerts.append((level, message)),
        retry_after_s=0.0,
        alert_every_s=0.0,
    )
    for n in range(1000):  # the writer is not even running: nothing can block
        recorder.trade(trade(n))
    assert recorder.dropped == 990
    assert [item[1].trade_id for item in recorder._queue] == list(range(990, 1000))
    recorder.start()
    stats = recorder.stop()
    assert stats.offered == 1000
    assert stats.dropped == 990
    assert stats.rows_lost == 10
    assert stats.files_written == 0
    assert stats.write_errors >= 1
    assert "cannot write catalog file" in stats.last_error
    assert stats.queue_depth == 0
    messages = [m for _, m in alerts]
    assert any("recorder cannot write" in m for m in messages)
    assert any("dropped 990 of 1000" in m for m in messages)
    assert {level for level, _ in alerts} == {AlertLevel.WARNING}


def test_the_tapped_parser_records_exact_bytes_then_parses():
    """Frames reach the sink byte for byte, partitioned by their stream's symbol."""
    seen = []
    parser = TappedParser([INST], "sim", lambda *row: seen.append(row))
    frame = (
        b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":7,'
        b'"p":"100.01","q":"0.00002","T":1,"m":true}}'
    )
    event = parser.parse_frame(frame, 123)
    assert isinstance(event, Trade)
    assert event.price == 10001
    ack = b'{"result":null,"id":1}'
    assert parser.parse_frame(ack, 124) is None
    body = b'{"lastUpdateId":5,"bids":[["100.00","1"]],"asks":[["100.02","1"]]}'
    snap = parser.parse_snapshot(body, INST, 125)
    assert snap.update_id == 5
    assert seen == [
        ("sim", "BTCUSDT", 123, "btcusdt@trade", frame),
        ("sim", OTHER_SYMBOL, 124, "", ack),
        ("sim", "BTCUSDT", 125, "/api/v3/depth?symbol=BTCUSDT", body),
    ]


def test_a_slow_disk_costs_the_oldest_entries_not_the_producer(tmp_path, monkeypatch):
    """While the writer is stuck in a write, the hot path keeps appending and drops the oldest."""
    import threading

    from engine.recorder.writer import CatalogWriter

    gate = threading.Event()
    entered = threading.Event()
    real = CatalogWriter.write_trade

    def slow_write(self, instrument, trade_):
        entered.set()
        gate.wait(30)
        real(self, instrument, trade_)

    monkeypatch.setattr(CatalogWriter, "write_trade", slow_write)
    recorder = Recorder(tmp_path, [INST], queue_size=100)
    recorder.start()
    recorder.trade(trade(0))
    assert entered.wait(30)  # the writer holds entry 0 and is stuck on the disk
    for n in range(1, 1001):
        recorder.trade(trade(n))
    assert recorder.stats().queue_depth == 100
    assert recorder.dropped == 900  # entries 1..900 went, oldest first
    gate.set()
    stats = recorder.stop()
    assert stats.rows_written == 101
    assert stats.dropped == 900
    got = [e.trade_id for e in Catalog(tmp_path).events([INST], T0, T0 + schema.HOUR_NS)]
    assert got == [0, *range(901, 1001)]


async def test_alerts_reach_the_event_loop_from_the_writer_thread(tmp_path):
    """With a loop given, alerts are handed to it (the engine's OMS runs there)."""
    import asyncio
    import threading

    root = tmp_path / "catalog"
    root.write_text("not a folder")
    seen = []
    recorder = Recorder(
        root,
        [INST],
        on_alert=lambda level, message: seen.append((threading.current_thread().name, message)),
        loop=asyncio.get_running_loop(),
        retry_after_s=0.0,
    )
    recorder.trade(trade(1))
    recorder.start()
    await asyncio.to_thread(recorder.stop)
    await asyncio.sleep(0)
    assert seen
    assert {name for name, _ in seen} == {threading.current_thread().name}
    assert "recorder cannot write" in seen[0][1]

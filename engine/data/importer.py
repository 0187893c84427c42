"""``hft-tui data import``: other tools' captures into the catalog, through the venues' books.

A Binance capture is replayed by :class:`~engine.data.binance.BinanceReplay` with the venue's
sync rules; only what a live book accepted is written (a snapshot row each time a book goes live,
a delta row per diff applied, every trade), exactly as the recorder writes live data. A venue
with its own replayer is imported from the books it rebuilds: a snapshot row when a book first
goes live (and after any resync), then a delta row per update holding the levels that changed
(absolute sizes, 0 for a level gone), numbered by the update's ``seq`` with ``prev_id`` the
previous row's (the replayer has checked the venue's own continuity rule). Tardis CSV maps onto the
catalog directly (:mod:`engine.data.tardis`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import msgspec
import numpy as np

from engine.core.events import BookDelta, BookSnapshot, Trade
from engine.core.instruments import Instrument
from engine.data.binance import BinanceReplay, snapshot_of
from engine.data.captures import CaptureRecord, read_capture, tardis_header, tardis_table
from engine.data.replay import capture_updates
from engine.data.sources import capture_instruments, guess_venue
from engine.data.tardis import tardis_instruments, tardis_rows
from engine.data.venues import replayer
from engine.recorder.writer import CatalogWriter
from engine.venues.replaying import Replayer


class ImportReport(msgspec.Struct, kw_only=True):
    """What an import read and wrote."""

    source: str
    venue: str
    catalog: str
    instruments: list[dict[str, str]]
    inferred: list[str]
    """Grids inferred from the data rather than given (check them)."""
    records: int
    book_rows: int = 0
    trade_rows: int = 0
    files: list[str] = msgspec.field(default_factory=list)
    resyncs: dict[str, int] = msgspec.field(default_factory=dict)
    malformed: int = 0
    seconds: float = 0.0
    messages_per_s: float = 0.0
    """Records parsed, applied and written per second of the import."""


class _Writer:
    """Counts rows by kind on their way into the catalog writer."""

    def __init__(self, writer: CatalogWriter, report: ImportReport) -> None:
        self.writer = writer
        self.report = report

    def row(self, inst: Instrument, event: BookSnapshot | BookDelta | Trade) -> None:
        if type(event) is Trade:
            self.writer.write_trade(inst, event)
            self.report.trade_rows += 1
        elif type(event) is BookDelta:
            self.writer.write_delta(inst, event)
            self.report.book_rows += 1
        else:
            assert type(event) is BookSnapshot
            self.writer.write_snapshot(inst, event)
            self.report.book_rows += 1


def import_capture(
    source: str,
    paths: Sequence[Path],
    catalog: str | Path,
    *,
    venue: str | None = None,
    symbols: Sequence[str] = (),
    tick: str | None = None,
    lot: str | None = None,
) -> ImportReport:
    """Import capture files into the catalog at ``catalog``.

    Raises:
        engine.data.captures.CaptureError: a file cannot be read.
        engine.data.sources.DataToolError: grids or symbols are missing or wrong.
        engine.data.venues.UnknownVenue: no replayer for the venue.
        engine.recorder.writer.CatalogWriteError: the catalog cannot be written.
    """
    started = time.perf_counter()
    records = list(read_capture(source, paths))
    writer = CatalogWriter(catalog, source=source)
    if source == "tardis":
        report = _import_tardis(records, paths, writer, venue=venue, tick=tick, lot=lot)
    else:
        venue = venue or guess_venue(source, paths, records)
        found = capture_instruments(venue, records, symbols=symbols, tick=tick, lot=lot)
        report = ImportReport(
            source=source,
            venue=venue,
            catalog=str(catalog),
            instruments=[_inst_doc(i) for i in found.instruments],
            inferred=found.inferred,
            records=len(records),
        )
        sink = _Writer(writer, report)
        rep = replayer(venue, found.instruments)
        if isinstance(rep, BinanceReplay):
            for rec in records:
                rep.feed(rec.recv_ns, rec.payload, rec.stream)
                if rep.rows:
                    for inst, event in rep.take_rows():
                        sink.row(inst, event)
        else:
            _import_rebuilt(rep, records, found.instruments, sink)
        report.resyncs = dict(rep.stats.resyncs)
        report.malformed = rep.stats.malformed
    report.files = [str(p) for p in writer.close()]
    report.seconds = round(time.perf_counter() - started, 3)
    report.messages_per_s = round(report.records / report.seconds, 1) if report.seconds else 0.0
    return report


def _inst_doc(inst: Instrument) -> dict[str, str]:
    return {
        "venue": inst.venue,
        "symbol": inst.symbol,
        "tick_size": inst.tick_size,
        "lot_size": inst.lot_size,
    }


def _import_tardis(
    records: list[CaptureRecord],
    paths: Sequence[Path],
    writer: CatalogWriter,
    *,
    venue: str | None,
    tick: str | None,
    lot: str | None,
) -> ImportReport:
    headers: dict[str, list[str]] = {}
    for path in paths:
        header = tardis_header(Path(path))
        headers[f"tardis:{tardis_table(header)}"] = header
    instruments, notes = tardis_instruments(records, headers, venue=venue, tick=tick, lot=lot)
    report = ImportReport(
        source="tardis",
        venue=venue or ",".join(sorted({i.venue for i in instruments})),
        catalog=str(writer.root),
        instruments=[_inst_doc(i) for i in instruments],
        inferred=notes,
        records=len(records),
    )
    sink = _Writer(writer, report)
    for inst, event in tardis_rows(records, headers, instruments, venue=venue):
        sink.row(inst, event)
    return report


def _levels(side: list[tuple[int, int]]) -> dict[int, int]:
    return dict(side)


def _changes(before: dict[int, int], after: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    px = [p for p, s in after.items() if before.get(p) != s]
    px += [p for p in before if p not in after]
    sz = [after.get(p, 0) for p in px]
    return np.array(px, dtype=np.int64), np.array(sz, dtype=np.int64)


def _import_rebuilt(
    rep: Replayer, records: list[CaptureRecord], instruments: list[Instrument], sink: _Writer
) -> None:
    """Rows from the books a venue's own replayer rebuilds (and the trades it parsed)."""
    previous: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
    last_seq: dict[str, int] = {}
    resyncs = 0
    trades: list[Trade] = getattr(rep, "trades", [])
    by_id = {i.instrument_id: i for i in instruments}
    for update in capture_updates(rep, records):
        total = sum(rep.stats.resyncs.values())
        if total != resyncs:  # some book was thrown away: every book starts with a snapshot
            resyncs = total
            previous.clear()
        inst, book = update.instrument, update.book
        bids, asks = book.levels()
        now = (_levels(bids), _levels(asks))
        before = previous.get(inst.symbol)
        previous[inst.symbol] = now
        prev_seq = last_seq.get(inst.symbol, -1)
        last_seq[inst.symbol] = update.seq
        if before is None:
            snap = snapshot_of(book, inst, update.exch_ts, update.recv_ts)
            sink.row(inst, msgspec.structs.replace(snap, update_id=update.seq))
            continue
        bid_px, bid_sz = _changes(before[0], now[0])
        ask_px, ask_sz = _changes(before[1], now[1])
        sink.row(
            inst,
            BookDelta(
                instrument=inst.instrument_id,
                first_id=update.seq,
                last_id=update.seq,
                prev_id=prev_seq,
                bid_px=bid_px,
                bid_sz=bid_sz,
                ask_px=ask_px,
                ask_sz=ask_sz,
                exch_ts=update.exch_ts,
                recv_ts=update.recv_ts,
            ),
        )
    for trade in trades:
        owner = by_id.get(trade.instrument)
        if owner is not None:
            sink.row(owner, trade)

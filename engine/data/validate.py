"""``hft-tui data validate``: what is wrong with a capture or a catalog folder, as one report.

The report (JSON) has message counts by kind, the span and rates, and every problem found, each
with its kind, symbol, receive time, sequence and what was seen:

- ``time_gap``: more than a second between two diffs of a book (captures) or two book rows
  (catalog);
- ``gap``, ``duplicate``, ``out_of_order``: the venue's sequence skipped, repeated or went back
  (Binance: ``U == prev_u + 1`` spot, ``pu == prev_u`` futures; catalog rows: ``prev_id`` when
  present, else ``first_id == previous last_id + 1``);
- ``crossed``: best bid at or above best ask after an update;
- ``bad_size``: a negative size, a zero size in a snapshot, a trade of no size, a size off the
  grid; ``malformed``: a frame that does not parse; ``stale_snapshot``;
- ``unreadable``: a catalog file that cannot be read.

A capture of a venue with its own replayer is checked by that replayer (its resync counts) and
for time gaps per stream.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import msgspec

from backtest.catalog import Catalog, CorruptCatalogFile, CorruptFileWarning
from engine.book.order_book import BadLevel, OrderBook
from engine.core.events import BookDelta, BookSnapshot, Trade
from engine.core.instruments import Instrument
from engine.data.binance import TIME_GAP_NS, BinanceReplay, Problem
from engine.data.captures import CaptureRecord, frame_stream, read_capture
from engine.data.replay import capture_updates
from engine.data.sources import DataToolError, capture_instruments, guess_venue
from engine.data.venues import replayer
from engine.recorder import schema

_NS = 1_000_000_000


class ValidationReport(msgspec.Struct, kw_only=True):
    """The outcome of one validation."""

    path: str
    kind: str
    """``capture`` or ``catalog``."""
    venue: str
    messages: dict[str, int]
    """Messages (capture) or rows (catalog) by kind."""
    first_ts: int
    last_ts: int
    duration_s: float
    rates_per_s: dict[str, float]
    problem_counts: dict[str, int]
    problems: list[Problem]
    notes: list[str] = msgspec.field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.problems


def _finish(
    path: str,
    kind: str,
    venue: str,
    messages: Counter[str],
    span: tuple[int, int],
    problems: list[Problem],
    notes: list[str],
) -> ValidationReport:
    first, last = span
    duration = max(0.0, (last - first) / _NS) if last else 0.0
    total = sum(messages.values())
    rates = {k: round(v / duration, 3) for k, v in messages.items()} if duration else {}
    if duration:
        rates["total"] = round(total / duration, 3)
    return ValidationReport(
        path=path,
        kind=kind,
        venue=venue,
        messages=dict(messages),
        first_ts=first,
        last_ts=last,
        duration_s=round(duration, 6),
        rates_per_s=rates,
        problem_counts=dict(Counter(p.kind for p in problems)),
        problems=problems,
        notes=notes,
    )


def _message_kind(rec: CaptureRecord) -> str:
    stream = rec.stream
    named = frame_stream(rec.payload[:200])
    if named and not stream.startswith(("http://", "https://")):
        stream = named
    if stream.startswith(("http://", "https://", "rest:")):
        return "snapshot"
    if stream.startswith("tardis:"):
        return stream.removeprefix("tardis:")
    if "@" in stream:
        channel = stream.partition("@")[2]
        return "depth" if channel.startswith("depth") else channel
    return stream or "frame"


def validate_capture(
    source: str,
    paths: Sequence[Path],
    *,
    venue: str | None = None,
    tick: str | None = None,
    lot: str | None = None,
    symbols: Sequence[str] = (),
) -> ValidationReport:
    """Validate capture files.

    Raises:
        engine.data.captures.CaptureError: a file cannot be read at all.
    """
    records = list(read_capture(source, paths))
    messages = Counter(_message_kind(r) for r in records)
    span = (records[0].recv_ns, records[-1].recv_ns) if records else (0, 0)
    label = ",".join(str(p) for p in paths)
    if source == "tardis":
        return _finish(
            label, "capture", venue or "", messages, span, [], ["tardis rows are not sequenced"]
        )
    venue = venue or guess_venue(source, paths, records)
    found = capture_instruments(venue, records, symbols=symbols, tick=tick, lot=lot)
    rep = replayer(venue, found.instruments)
    problems: list[Problem] = []
    if isinstance(rep, BinanceReplay):
        rep.keep_rows = False
        for _ in rep.feed_records(records):
            pass
        problems = sorted(rep.problems, key=lambda p: p.ts_recv)
    else:
        for _ in capture_updates(rep, records):
            pass
        problems = _stream_time_gaps(records)
        for cause, count in rep.stats.resyncs.items():
            problems.append(
                Problem(kind=cause, symbol="", ts_recv=0, seq=-1, detail=f"{count} book resyncs")
            )
        if rep.stats.malformed:
            problems.append(
                Problem(
                    kind="malformed",
                    symbol="",
                    ts_recv=0,
                    seq=-1,
                    detail=f"{rep.stats.malformed} frames did not parse",
                )
            )
    return _finish(label, "capture", venue, messages, span, problems, found.inferred)


def _stream_time_gaps(records: list[CaptureRecord]) -> list[Problem]:
    last: dict[str, int] = {}
    problems: list[Problem] = []
    for rec in records:
        before = last.get(rec.stream)
        if before is not None and rec.recv_ns - before > TIME_GAP_NS:
            problems.append(
                Problem(
                    kind="time_gap",
                    symbol=rec.stream,
                    ts_recv=rec.recv_ns,
                    seq=-1,
                    detail=f"nothing on the stream for {(rec.recv_ns - before) / _NS:.3f} s",
                )
            )
        last[rec.stream] = rec.recv_ns
    return problems


class _CatalogBook:
    """One instrument's catalog rows checked in order."""

    def __init__(self, symbol: str, problems: list[Problem]) -> None:
        self.symbol = symbol
        self.book = OrderBook(symbol)
        self.problems = problems
        self.last_ids: tuple[int, int] | None = None
        self.last_ts = 0
        self.trade_ids: set[int] = set()

    def problem(self, kind: str, ts: int, seq: int, detail: str) -> None:
        self.problems.append(
            Problem(kind=kind, symbol=self.symbol, ts_recv=ts, seq=seq, detail=detail)
        )

    def trade(self, t: Trade) -> None:
        if t.size <= 0 or t.price <= 0:
            self.problem("bad_size", t.recv_ts, t.trade_id, f"price {t.price} size {t.size}")
        if t.trade_id in self.trade_ids:
            self.problem("duplicate", t.recv_ts, t.trade_id, f"trade id {t.trade_id} again")
        self.trade_ids.add(t.trade_id)

    def row(self, ev: BookSnapshot | BookDelta) -> None:
        if self.last_ts and ev.recv_ts - self.last_ts > TIME_GAP_NS:
            gap = (ev.recv_ts - self.last_ts) / _NS
            self.problem("time_gap", ev.recv_ts, _last(ev), f"no book row for {gap:.3f} s")
        self.last_ts = ev.recv_ts
        if type(ev) is BookSnapshot:
            if (ev.bid_sz <= 0).any() or (ev.ask_sz <= 0).any():
                self.problem("bad_size", ev.recv_ts, ev.update_id, "snapshot level of size <= 0")
            self._apply(ev, snapshot=True)
            self.last_ids = (ev.update_id, ev.update_id)
            return
        assert type(ev) is BookDelta
        if (ev.bid_sz < 0).any() or (ev.ask_sz < 0).any():
            self.problem("bad_size", ev.recv_ts, ev.last_id, "negative size in a delta")
        last = self.last_ids
        if last is not None:
            if ev.last_id <= last[1]:
                kind = "duplicate" if (ev.first_id, ev.last_id) == last else "out_of_order"
                self.problem(kind, ev.recv_ts, ev.last_id, f"u={ev.last_id} after u={last[1]}")
                return
            follows = ev.prev_id == last[1] if ev.prev_id >= 0 else ev.first_id == last[1] + 1
            if not follows:
                self.problem(
                    "gap",
                    ev.recv_ts,
                    ev.last_id,
                    f"first_id={ev.first_id} prev_id={ev.prev_id} after last_id={last[1]}",
                )
        self.last_ids = (ev.first_id, ev.last_id)
        self._apply(ev, snapshot=False)

    def _apply(self, ev: BookSnapshot | BookDelta, *, snapshot: bool) -> None:
        try:
            if snapshot:
                self.book.apply_snapshot(ev.bid_px, ev.bid_sz, ev.ask_px, ev.ask_sz, _last(ev))
            else:
                self.book.apply_delta(ev.bid_px, ev.bid_sz, ev.ask_px, ev.ask_sz, _last(ev))
        except BadLevel as exc:
            self.problem("bad_size", ev.recv_ts, _last(ev), str(exc))
            return
        if self.book.is_crossed():
            bid, ask = self.book.best_bid(), self.book.best_ask()
            self.problem("crossed", ev.recv_ts, _last(ev), f"best bid {bid} >= best ask {ask}")


def _last(ev: BookSnapshot | BookDelta) -> int:
    return ev.update_id if isinstance(ev, BookSnapshot) else ev.last_id


def validate_catalog(root: Path) -> ValidationReport:
    """Validate every instrument's rows in a catalog folder."""
    catalog = Catalog(root)
    problems: list[Problem] = []
    messages: Counter[str] = Counter()
    first = last = 0
    pairs = sorted({(f.venue, f.symbol) for f in catalog.files() if f.kind != schema.RAW})
    for venue, symbol in pairs:
        grid = catalog.grid(venue, symbol)
        if grid is None:
            continue  # no readable file: each is reported below
        inst = Instrument(venue=venue, symbol=symbol, tick_size=grid[0], lot_size=grid[1])
        state = _CatalogBook(inst.key, problems)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CorruptFileWarning)
            for ev in catalog.events([inst], 0, 1 << 62, on_corrupt="skip"):
                ts = ev.recv_ts
                first = ts if not first else min(first, ts)
                last = max(last, ts)
                if type(ev) is Trade:
                    messages["trade"] += 1
                    state.trade(ev)
                elif type(ev) is BookSnapshot or type(ev) is BookDelta:
                    messages["snapshot" if type(ev) is BookSnapshot else "delta"] += 1
                    state.row(ev)
    unreadable = {str(c.path): c for c in catalog.skipped}
    for f in catalog.files():
        if (
            f.kind != schema.RAW
            and str(f.path) not in unreadable
            and catalog.grid(f.venue, f.symbol) is None
        ):
            unreadable[str(f.path)] = CorruptCatalogFile(f.path, "unreadable")
    for path, error in sorted(unreadable.items()):
        problems.append(
            Problem(
                kind="unreadable", symbol="", ts_recv=0, seq=-1, detail=f"{path}: {error.reason}"
            )
        )
    raw = len(catalog.files(schema.RAW))
    notes = [f"{raw} raw files not checked row by row"] if raw else []
    venues = ",".join(sorted({v for v, _ in pairs}))
    return _finish(str(root), "catalog", venues, messages, (first, last), problems, notes)


def is_catalog(path: Path) -> bool:
    """True for a folder laid out as a catalog."""
    return path.is_dir() and any((path / kind).is_dir() for kind in schema.KINDS)


def detect_source(path: Path) -> str:
    """The capture format of a file, from its name."""
    name = path.name
    if name.endswith((".csv", ".csv.gz")):
        return "tardis"
    if name.endswith(".zst") or ".http." in name or ".ws." in name:
        return "cryptofeed"
    if name.endswith((".data", ".data.zip")):
        return "bybit"
    return "hftbacktest"


def validate_path(
    paths: Sequence[Path],
    *,
    venue: str | None = None,
    tick: str | None = None,
    lot: str | None = None,
    symbols: Sequence[str] = (),
) -> ValidationReport:
    """Validate a catalog folder, or capture files of one format."""
    if len(paths) == 1 and is_catalog(paths[0]):
        return validate_catalog(paths[0])
    sources = {detect_source(p) for p in paths}
    if len(sources) != 1:
        raise DataToolError(f"the files are of several formats ({', '.join(sorted(sources))})")
    return validate_capture(sources.pop(), paths, venue=venue, tick=tick, lot=lot, symbols=symbols)

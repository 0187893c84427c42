"""Real Binance spot captures (hftbacktest's raw format) as a backtest data source.

Each file is gzip text, one ``<receive ns> <json>`` line per frame: combined-stream depth diffs,
trades and bookTickers, and the REST depth snapshot in-stream (the line holding
``lastUpdateId``). Day files of one capture (``<symbol>_<YYYYMMDD>.gz``) are replayed
concatenated. Frames become engine events through the live parser
(:class:`~engine.venues.binance.protocol.BinanceSpotParser`); the book is synced by Binance's
spot rule, as the live feed does: diffs before the snapshot are buffered, those it covers
dropped, the first applied one must straddle ``lastUpdateId + 1``, every later one must follow
on (``U == previous u + 1``). A gap is a :class:`~backtest.errors.CaptureError` naming file and
line: the captures have none, and a replay must not paper over one.

Buffered diffs applied at the snapshot are stamped with the snapshot's receive time (that is
when the book they make became known); the snapshot, which Binance sends without an event time,
takes the exchange time of the first diff applied after it. Trades before the book is live are
dropped, as the strategy and the matching core have no book to put them against.

The captures carry no exchangeInfo: :data:`CAPTURE_GRIDS` are grids every price and size in them
fits (a few far BTCUSDT and ETHUSDT levels are one decimal finer than the listed lot).
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from backtest.errors import CaptureError, DataRangeError
from backtest.source import MarketEvent, TimeBase, merge, replay_ts
from engine.core.events import BookDelta, BookSnapshot, Trade
from engine.core.instruments import Instrument
from engine.errors import EngineError
from engine.venues.binance.protocol import BinanceSpotParser

CAPTURE_GRIDS: dict[str, tuple[str, str]] = {
    "BTCUSDT": ("0.01", "0.000001"),
    "ETHUSDT": ("0.01", "0.00001"),
}
"""Symbol -> (tick size, lot size) for the spot captures."""

_DAY_FILE = re.compile(r"(?P<symbol>[a-z0-9]+)_(?P<day>\d{8})\.gz")


def capture_files(path: Path) -> list[Path]:
    """The day files of one capture: ``path`` itself, or every ``<symbol>_*.gz`` beside it.

    ``path`` may name one day file (its siblings of the same symbol are taken too), or a
    ``<folder>/<symbol>`` stem.

    Raises:
        DataRangeError: no file matches.
    """
    match = _DAY_FILE.fullmatch(path.name)
    folder, symbol = (path.parent, match["symbol"]) if match else (path.parent, path.name.lower())
    files = sorted(folder.glob(f"{symbol}_*.gz"))
    if not files:
        raise DataRangeError(f"no capture files {folder}/{symbol}_YYYYMMDD.gz", [str(path)])
    return files


def capture_instrument(files: Sequence[Path], instrument_id: int) -> Instrument:
    """The instrument a capture trades (symbol from the file name, grids from CAPTURE_GRIDS).

    Raises:
        DataRangeError: the symbol has no known grid.
    """
    match = _DAY_FILE.fullmatch(files[0].name)
    symbol = (match["symbol"] if match else files[0].stem).upper()
    if symbol not in CAPTURE_GRIDS:
        raise DataRangeError(
            f"capture {files[0]}: no tick/lot grid known for {symbol} "
            f"(known: {', '.join(CAPTURE_GRIDS)})",
            [symbol],
        )
    tick, lot = CAPTURE_GRIDS[symbol]
    return Instrument(
        venue="binance",
        symbol=symbol,
        tick_size=tick,
        lot_size=lot,
        instrument_id=instrument_id,
    )


def _lines(files: Sequence[Path]) -> Iterator[tuple[str, int, int, bytes]]:
    """(file, line number, receive ns, payload) over the day files in order."""
    for path in files:
        try:
            with gzip.open(path, "rb") as f:
                for number, line in enumerate(f, 1):
                    stamp, _, payload = line.rstrip(b"\n").partition(b" ")
                    if not stamp.isdigit() or not payload:
                        raise CaptureError(str(path), number, "not '<receive ns> <json>'")
                    yield str(path), number, int(stamp), payload
        except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
            raise CaptureError(str(path), 0, f"unreadable: {exc}") from exc


def span_of(files: Sequence[Path]) -> tuple[int, int]:
    """First and last receive time in a capture (reads it through once)."""
    first = last = 0
    for _, _, ts, _ in _lines(files):
        first = first or ts
        last = ts
    return first, last


def capture_events(files: Sequence[Path], instrument: Instrument) -> Iterator[MarketEvent]:
    """The capture's snapshot, then its continuous diffs and trades, in receive order.

    Raises:
        CaptureError: a frame does not parse, no snapshot comes, or the diffs have a gap.
    """
    parser = BinanceSpotParser([msgspec_replace_id(instrument, 0)])
    iid = instrument.instrument_id
    buffered: list[BookDelta] = []
    last_id = -1  # -1 until the snapshot
    snapshot: BookSnapshot | None = None
    for path, number, recv_ts, payload in _lines(files):
        try:
            if payload.startswith(b'{"lastUpdateId"'):
                if snapshot is not None:
                    continue  # one session: the first snapshot holds; later ones are resyncs
                snap = parser.parse_snapshot(payload, parser.instruments[0], recv_ts)
                applied = [d for d in buffered if d.last_id > snap.update_id]
                first_exch = applied[0].exch_ts if applied else 0
                snapshot = BookSnapshot(
                    instrument=iid,
                    update_id=snap.update_id,
                    bid_px=snap.bid_px,
                    bid_sz=snap.bid_sz,
                    ask_px=snap.ask_px,
                    ask_sz=snap.ask_sz,
                    exch_ts=first_exch,
                    recv_ts=recv_ts,
                )
                yield snapshot
                last_id = snap.update_id
                for delta in applied:
                    last_id = _check(delta, last_id, snapshot.update_id, path, number)
                    yield _restamp(delta, iid, recv_ts)
                buffered.clear()
                continue
            event = parser.parse_frame(payload, recv_ts)
        except EngineError as exc:
            raise CaptureError(path, number, str(exc)) from exc
        if isinstance(event, BookDelta):
            if snapshot is None:
                buffered.append(event)
                continue
            last_id = _check(event, last_id, snapshot.update_id, path, number)
            yield _restamp(event, iid, event.recv_ts)
        elif isinstance(event, Trade) and snapshot is not None:
            yield Trade(
                instrument=iid,
                trade_id=event.trade_id,
                price=event.price,
                size=event.size,
                aggressor=event.aggressor,
                exch_ts=event.exch_ts,
                recv_ts=event.recv_ts,
            )
    if snapshot is None:
        raise CaptureError(str(files[-1]), 0, "no depth snapshot (lastUpdateId) in the capture")


def msgspec_replace_id(instrument: Instrument, instrument_id: int) -> Instrument:
    """The same instrument under another dense id."""
    return Instrument(
        venue=instrument.venue,
        symbol=instrument.symbol,
        tick_size=instrument.tick_size,
        lot_size=instrument.lot_size,
        min_notional=instrument.min_notional,
        instrument_id=instrument_id,
    )


def _check(delta: BookDelta, last_id: int, snapshot_id: int, path: str, number: int) -> int:
    """The spot continuity rule; returns the new last id."""
    if last_id == snapshot_id:
        if not delta.first_id <= snapshot_id + 1 <= delta.last_id:
            raise CaptureError(
                path,
                number,
                f"first diff U={delta.first_id} u={delta.last_id} does not straddle "
                f"lastUpdateId+1={snapshot_id + 1}",
            )
    elif delta.first_id != last_id + 1:
        raise CaptureError(
            path, number, f"gap: diff U={delta.first_id} after u={last_id} (expected {last_id + 1})"
        )
    return delta.last_id


def _restamp(delta: BookDelta, iid: int, recv_ts: int) -> BookDelta:
    return BookDelta(
        instrument=iid,
        first_id=delta.first_id,
        last_id=delta.last_id,
        prev_id=delta.prev_id,
        bid_px=delta.bid_px,
        bid_sz=delta.bid_sz,
        ask_px=delta.ask_px,
        ask_sz=delta.ask_sz,
        exch_ts=delta.exch_ts,
        recv_ts=recv_ts,
    )


class CaptureSource:
    """One or more spot captures (one per symbol), merged in replay order.

    Args:
        paths: per capture, one day file or a ``<folder>/<symbol>`` stem (see
            :func:`capture_files`).

    Raises:
        DataRangeError: a capture has no files or an unknown symbol.
    """

    def __init__(self, paths: Sequence[Path | str]) -> None:
        self._files = [capture_files(Path(p)) for p in paths]
        self._instruments = [capture_instrument(f, n) for n, f in enumerate(self._files)]
        self._spans: list[tuple[int, int]] | None = None

    @property
    def instruments(self) -> list[Instrument]:
        """One instrument per capture, in the order given."""
        return list(self._instruments)

    @property
    def name(self) -> str:
        """The capture files."""
        return ", ".join(str(p) for files in self._files for p in files)

    @property
    def files(self) -> list[list[Path]]:
        """The day files of each capture."""
        return [list(f) for f in self._files]

    def spans(self) -> list[tuple[int, int]]:
        """First and last receive time of each capture."""
        if self._spans is None:
            self._spans = [span_of(f) for f in self._files]
        return self._spans

    def span(self) -> tuple[int, int]:
        """First and last receive time over every capture."""
        spans = self.spans()
        return min(s[0] for s in spans), max(s[1] for s in spans)

    def missing(self, start_ns: int, end_ns: int) -> list[str]:
        """Per capture, the part of ``[start_ns, end_ns)`` outside its receive-time span."""
        out: list[str] = []
        for inst, (first, last) in zip(self._instruments, self.spans(), strict=True):
            if start_ns < first:
                out.append(f"{inst.key} before {iso(first)} (from {iso(start_ns)})")
            if end_ns > last + 1:
                out.append(f"{inst.key} after {iso(last)} (to {iso(end_ns)})")
        return out

    def events(self, end_ns: int, time: TimeBase) -> Iterator[tuple[int, MarketEvent]]:
        """Every capture's events up to ``end_ns`` (replay time), merged in replay order."""
        streams = [
            _timed(capture_events(files, inst), end_ns, time)
            for files, inst in zip(self._files, self._instruments, strict=True)
        ]
        return merge(streams)


def _timed(
    events: Iterator[MarketEvent], end_ns: int, time: TimeBase
) -> Iterator[tuple[int, MarketEvent]]:
    """(replay ns, event) in replay order; exchange time re-sorts (stable) within a capture."""
    if time == "recv":
        for event in events:
            ts = event.recv_ts
            if ts >= end_ns:
                return
            yield ts, event
        return
    timed = [(replay_ts(e, time), e) for e in events]
    timed.sort(key=lambda t: t[0])  # stable: equal stamps keep receive order
    for ts, event in timed:
        if ts >= end_ns:
            return
        yield ts, event


def iso(ts_ns: int) -> str:
    """An ns timestamp as ISO-8601 UTC with milliseconds."""
    stamp = dt.datetime.fromtimestamp(ts_ns / 1e9, tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

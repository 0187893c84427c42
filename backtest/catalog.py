"""Reading the Parquet market-data catalog: what is there, which hours are missing, the events.

The layout and schemas are :mod:`engine.recorder.schema`'s. :meth:`Catalog.events` streams book
snapshots, book deltas and trades of several instruments (and venues) merged in timestamp order:
one iterator per file reads record batches, and :func:`heapq.merge` interleaves them, so memory
holds one batch per open file, never the catalog. Ties keep the order of the instruments given,
books before trades, then the files' order; rows of one file keep their recorded order.

A file that cannot be read (truncated, not Parquet, wrong schema) is named in a
:class:`CorruptCatalogFile`: ``on_corrupt="refuse"`` raises it, ``"skip"`` warns
(:class:`CorruptFileWarning`), records it in :attr:`Catalog.skipped` and goes on without it.
"""

from __future__ import annotations

import heapq
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engine.core.events import BookDelta, BookSnapshot, Side, Trade
from engine.core.instruments import Instrument
from engine.errors import EngineError
from engine.recorder import schema

CatalogEvent = BookSnapshot | BookDelta | Trade
TimeAxis = Literal["recv", "exch"]
OnCorrupt = Literal["skip", "refuse"]

_BATCH_ROWS = 4096


class CatalogError(EngineError):
    """The catalog cannot answer as asked (no such folder, a grid that does not match)."""


class CorruptCatalogFile(CatalogError):
    """A catalog file cannot be read; ``path`` names it and ``reason`` says what is wrong."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"corrupt catalog file {path}: {reason}")


class CorruptFileWarning(UserWarning):
    """A corrupt catalog file was skipped (``on_corrupt="skip"``)."""


class CatalogInstrument(msgspec.Struct, frozen=True, kw_only=True):
    """One instrument the catalog holds book or trade rows for."""

    venue: str
    symbol: str
    tick_size: str
    lot_size: str
    first_ts: int
    """Receive time of the first row, ns."""
    last_ts: int
    """Receive time of the last row, ns (from the files' statistics)."""
    files: int
    """Book and trade files."""

    def instrument(self, instrument_id: int = 0) -> Instrument:
        """As an :class:`~engine.core.instruments.Instrument` with the given dense id."""
        return Instrument(
            venue=self.venue,
            symbol=self.symbol,
            tick_size=self.tick_size,
            lot_size=self.lot_size,
            instrument_id=instrument_id,
        )


class Coverage(msgspec.Struct, frozen=True, kw_only=True):
    """Which UTC hours (``YYYY-MM-DDTHH``) and dates of a range have book or trade files."""

    venue: str
    symbol: str
    start_ns: int
    end_ns: int
    hours_present: list[str]
    hours_missing: list[str]
    dates_present: list[str]
    dates_missing: list[str]
    """Dates with no file at all (a date with some hours missing is in neither list's
    complement: see the hours)."""

    @property
    def complete(self) -> bool:
        """True when every hour of the range has data."""
        return not self.hours_missing


@dataclass(frozen=True)
class CatalogFile:
    """One complete file of the catalog, located by its path."""

    kind: str
    venue: str
    symbol: str
    date: str
    hour: int
    first_recv_ns: int
    path: Path

    @property
    def hour_start(self) -> int:
        """Start of the UTC hour the file's rows were received in, ns."""
        return schema.hour_of(self.first_recv_ns)


def _same_step(a: str, b: str) -> bool:
    try:
        return Decimal(a) == Decimal(b)
    except InvalidOperation:
        return False


class Catalog:
    """The catalog rooted at ``root`` (as the recorder and ``hft-tui data import`` write it).

    The folder is listed once, when the catalog is opened; :meth:`refresh` lists it again.

    Raises:
        CatalogError: ``root`` is not a folder.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise CatalogError(f"catalog folder {self.root} does not exist")
        self.skipped: list[CorruptCatalogFile] = []
        """Corrupt files :meth:`events` left out (``on_corrupt="skip"``)."""
        self._files: list[CatalogFile] = []
        self.refresh()

    def refresh(self) -> None:
        """List the catalog's files again (after a recorder added some)."""
        found: list[CatalogFile] = []
        for kind in schema.KINDS:
            for path in sorted((self.root / kind).glob("venue=*/symbol=*/date=*/*.parquet")):
                parsed = schema.parse_file_name(path.name)
                if parsed is None:
                    continue
                date_dir, symbol_dir, venue_dir = path.parent, path.parent.parent, path.parents[2]
                found.append(
                    CatalogFile(
                        kind=kind,
                        venue=schema.unquote(venue_dir.name.removeprefix("venue=")),
                        symbol=schema.unquote(symbol_dir.name.removeprefix("symbol=")),
                        date=date_dir.name.removeprefix("date="),
                        hour=parsed[0],
                        first_recv_ns=parsed[1],
                        path=path,
                    )
                )
        found.sort(key=lambda f: (f.kind, f.venue, f.symbol, f.first_recv_ns, f.path.name))
        self._files = found

    def files(
        self, kind: str | None = None, venue: str | None = None, symbol: str | None = None
    ) -> list[CatalogFile]:
        """The catalog's files, oldest first per partition, optionally of one kind/venue/symbol."""
        return [
            f
            for f in self._files
            if (kind is None or f.kind == kind)
            and (venue is None or f.venue == venue)
            and (symbol is None or f.symbol == symbol)
        ]

    # ---- what is there ------------------------------------------------------------------------

    def instruments(self) -> list[CatalogInstrument]:
        """Every (venue, symbol) with book or trade files, with its grid and time span.

        Raises:
            CorruptCatalogFile: the file the grid or the span is read from cannot be read.
        """
        groups: dict[tuple[str, str], list[CatalogFile]] = {}
        for f in self._files:
            if f.kind != schema.RAW:
                groups.setdefault((f.venue, f.symbol), []).append(f)
        out: list[CatalogInstrument] = []
        for (venue, symbol), files in sorted(groups.items()):
            files.sort(key=lambda f: f.first_recv_ns)
            meta = _metadata(files[0].path)
            last = max(files, key=lambda f: f.first_recv_ns)
            out.append(
                CatalogInstrument(
                    venue=venue,
                    symbol=symbol,
                    tick_size=meta.get(schema.META_TICK, ""),
                    lot_size=meta.get(schema.META_LOT, ""),
                    first_ts=files[0].first_recv_ns,
                    last_ts=_last_recv_ts(last.path),
                    files=len(files),
                )
            )
        return out

    def grid(self, venue: str, symbol: str) -> tuple[str, str] | None:
        """(tick_size, lot_size) of an instrument from its first readable file, if any."""
        for f in self.files(None, venue, symbol):
            if f.kind == schema.RAW:
                continue
            try:
                meta = _metadata(f.path)
            except CorruptCatalogFile:
                continue
            return meta.get(schema.META_TICK, ""), meta.get(schema.META_LOT, "")
        return None

    def coverage(self, venue: str, symbol: str, start_ns: int, end_ns: int) -> Coverage:
        """Which hours and dates of ``[start_ns, end_ns)`` have book or trade files."""
        present_hours = {
            f.hour_start
            for f in self._files
            if f.kind != schema.RAW and f.venue == venue and f.symbol == symbol
        }
        hours: list[int] = []
        hour = schema.hour_of(start_ns)
        while hour < end_ns:
            hours.append(hour)
            hour += schema.HOUR_NS
        have = [h for h in hours if h in present_hours]
        missing = [h for h in hours if h not in present_hours]
        dates = sorted({schema.date_text(h) for h in hours})
        have_dates = {schema.date_text(h) for h in have}
        return Coverage(
            venue=venue,
            symbol=symbol,
            start_ns=start_ns,
            end_ns=end_ns,
            hours_present=[schema.hour_text(h) for h in have],
            hours_missing=[schema.hour_text(h) for h in missing],
            dates_present=[d for d in dates if d in have_dates],
            dates_missing=[d for d in dates if d not in have_dates],
        )

    # ---- the events ---------------------------------------------------------------------------

    def events(
        self,
        instruments: list[Instrument],
        start_ns: int,
        end_ns: int,
        *,
        time: TimeAxis = "recv",
        on_corrupt: OnCorrupt = "skip",
    ) -> Iterator[CatalogEvent]:
        """Book snapshots, deltas and trades of ``instruments`` with ``start_ns <= ts < end_ns``.

        ``time`` picks the clock that orders and bounds them (``recv``: our receive time, ``exch``:
        the venue's, or the receive time for rows without one). Each event's ``instrument`` is
        its Instrument's dense ``instrument_id``. Every file is opened (its footer read) before
        the first event, so a corrupt file is refused (or skipped) up front; one that fails
        later, mid-read, is treated the same way.

        Raises:
            CorruptCatalogFile: a file cannot be read and ``on_corrupt`` is ``"refuse"``.
            CatalogError: an instrument's grid differs from the catalog's for it.
        """
        if time not in ("recv", "exch"):
            raise ValueError(f"time must be 'recv' or 'exch', not {time!r}")
        if on_corrupt not in ("skip", "refuse"):
            raise ValueError(f"on_corrupt must be 'skip' or 'refuse', not {on_corrupt!r}")
        # exchange time can sit either side of the receive hour a file is named for
        margin = schema.HOUR_NS if time == "exch" else 0
        readers: list[Iterator[tuple[int, int, CatalogEvent]]] = []
        for inst in instruments:
            for rank, kind in enumerate((schema.BOOK, schema.TRADE)):
                for f in self.files(kind, inst.venue, inst.symbol):
                    start = f.hour_start - margin
                    if start >= end_ns or start + schema.HOUR_NS + 2 * margin <= start_ns:
                        continue
                    opened = self._open(f, inst, on_corrupt)
                    if opened is not None:
                        readers.append(
                            _rows(opened, f, inst, rank, time, start_ns, end_ns, self, on_corrupt)
                        )
        for _, _, event in heapq.merge(*readers, key=lambda row: (row[0], row[1])):
            yield event

    def _open(
        self, f: CatalogFile, inst: Instrument, on_corrupt: OnCorrupt
    ) -> pq.ParquetFile | None:
        try:
            pf = pq.ParquetFile(f.path)
            arrow_schema = pf.schema_arrow
        except (OSError, pa.ArrowException) as exc:
            self._corrupt(CorruptCatalogFile(f.path, str(exc)), on_corrupt)
            return None
        expected = schema.SCHEMAS[f.kind]
        missing = [n for n in expected.names if n not in arrow_schema.names]
        if missing:
            self._corrupt(
                CorruptCatalogFile(f.path, f"missing columns {', '.join(missing)}"), on_corrupt
            )
            return None
        meta = {k.decode(): v.decode() for k, v in (arrow_schema.metadata or {}).items()}
        for key, value in ((schema.META_TICK, inst.tick_size), (schema.META_LOT, inst.lot_size)):
            if key in meta and not _same_step(meta[key], value):
                raise CatalogError(
                    f"{f.path}: {inst.key} has {key} {meta[key]} in the catalog, "
                    f"but the instrument asked for has {value}"
                )
        return pf

    def _corrupt(self, error: CorruptCatalogFile, on_corrupt: OnCorrupt) -> None:
        if on_corrupt == "refuse":
            raise error
        self.skipped.append(error)
        warnings.warn(f"skipping {error}", CorruptFileWarning, stacklevel=4)


def _rows(
    pf: pq.ParquetFile,
    f: CatalogFile,
    inst: Instrument,
    rank: int,
    time: TimeAxis,
    start_ns: int,
    end_ns: int,
    catalog: Catalog,
    on_corrupt: OnCorrupt,
) -> Iterator[tuple[int, int, CatalogEvent]]:
    """(timestamp, book-before-trade rank, event) for one file's rows in the range."""
    clock = "recv_ts" if time == "recv" else "exch_ts"
    decode = _book_events if f.kind == schema.BOOK else _trade_events
    try:
        for batch in pf.iter_batches(batch_size=_BATCH_ROWS):
            ts = batch.column(clock).to_numpy(zero_copy_only=False)
            if time == "exch":  # no venue time (0, a REST snapshot): its receive time
                ts = np.where(ts == 0, batch.column("recv_ts").to_numpy(zero_copy_only=False), ts)
            if not len(ts):
                continue
            keep = np.flatnonzero((ts >= start_ns) & (ts < end_ns))
            if not len(keep):
                continue
            for t, event in decode(batch, keep, ts, inst.instrument_id):
                yield t, rank, event
    except (OSError, pa.ArrowException, ValueError) as exc:
        catalog._corrupt(CorruptCatalogFile(f.path, f"unreadable row group: {exc}"), on_corrupt)


def _list_column(batch: pa.RecordBatch, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, values) of a ``list<int64>`` column, as numpy arrays."""
    column = batch.column(name)
    assert isinstance(column, pa.ListArray)
    offsets = column.offsets.to_numpy()
    values = column.values.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return offsets, values


def _book_events(
    batch: pa.RecordBatch, keep: np.ndarray, ts: np.ndarray, instrument: int
) -> Iterable[tuple[int, CatalogEvent]]:
    recv = batch.column("recv_ts").to_numpy(zero_copy_only=False).tolist()
    exch = batch.column("exch_ts").to_numpy(zero_copy_only=False).tolist()
    kind = batch.column("kind").to_numpy(zero_copy_only=False).tolist()
    first = batch.column("first_id").to_numpy(zero_copy_only=False).tolist()
    last = batch.column("last_id").to_numpy(zero_copy_only=False).tolist()
    prev = batch.column("prev_id").to_numpy(zero_copy_only=False).tolist()
    sides = [_list_column(batch, n) for n in ("bid_px", "bid_sz", "ask_px", "ask_sz")]
    times = ts.tolist()
    for i in keep.tolist():
        levels = [values[offsets[i] : offsets[i + 1]] for offsets, values in sides]
        event: CatalogEvent
        if kind[i] == schema.SNAPSHOT_ROW:
            event = BookSnapshot(
                instrument=instrument,
                update_id=last[i],
                bid_px=levels[0],
                bid_sz=levels[1],
                ask_px=levels[2],
                ask_sz=levels[3],
                exch_ts=exch[i],
                recv_ts=recv[i],
            )
        else:
            event = BookDelta(
                instrument=instrument,
                first_id=first[i],
                last_id=last[i],
                prev_id=prev[i],
                bid_px=levels[0],
                bid_sz=levels[1],
                ask_px=levels[2],
                ask_sz=levels[3],
                exch_ts=exch[i],
                recv_ts=recv[i],
            )
        yield times[i], event


def _trade_events(
    batch: pa.RecordBatch, keep: np.ndarray, ts: np.ndarray, instrument: int
) -> Iterable[tuple[int, CatalogEvent]]:
    cols = [
        batch.column(n).to_numpy(zero_copy_only=False).tolist()
        for n in ("recv_ts", "exch_ts", "trade_id", "price", "size", "aggressor")
    ]
    recv, exch, trade_id, price, size, aggressor = cols
    times = ts.tolist()
    sides = {int(s): s for s in Side}
    for i in keep.tolist():
        yield (
            times[i],
            Trade(
                instrument=instrument,
                trade_id=trade_id[i],
                price=price[i],
                size=size[i],
                aggressor=sides[aggressor[i]],
                exch_ts=exch[i],
                recv_ts=recv[i],
            ),
        )


def _metadata(path: Path) -> dict[str, str]:
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException) as exc:
        raise CorruptCatalogFile(path, str(exc)) from None
    return {k.decode(): v.decode() for k, v in meta.items()}


def _last_recv_ts(path: Path) -> int:
    """The largest receive time in a file, from its row-group statistics (or its rows)."""
    try:
        meta = pq.ParquetFile(path).metadata
        index = meta.schema.to_arrow_schema().get_field_index("recv_ts")
        best: int | None = None
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(index).statistics
            if stats is None or not stats.has_min_max:
                column = pq.read_table(path, columns=["recv_ts"]).column(0)
                return int(pa.compute.max(column).as_py() or 0)
            value = int(stats.max)
            best = value if best is None else max(best, value)
        return best or 0
    except (OSError, pa.ArrowException) as exc:
        raise CorruptCatalogFile(path, str(exc)) from None


__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogEvent",
    "CatalogFile",
    "CatalogInstrument",
    "CorruptCatalogFile",
    "CorruptFileWarning",
    "Coverage",
]

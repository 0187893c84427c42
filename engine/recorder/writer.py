"""Writing catalog files: rows buffered per partition, rolled by receive time, renamed when whole.

:class:`CatalogWriter` is synchronous and belongs to one thread (the recorder's writer thread, or
an import). Rows of one (kind, venue, symbol) go to one open file until a row's receive time falls
in the next roll period (an hour by default); the file is then closed and renamed from its
dot-prefixed temporary name to its final name, so a reader only ever sees whole files. Rows are
handed to Parquet in row groups of ``row_group_rows``, so memory stays bounded over an hour.

Files are owner-only (0600) and the folders the writer makes 0700, like everything else under
the engine's state dir; share a catalog by changing its modes on purpose.

A write that fails (disk full, folder read-only) abandons that file (its temporary is removed
when possible) and raises :class:`CatalogWriteError`; the next row starts a new file.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from engine.errors import EngineError
from engine.recorder import schema

if TYPE_CHECKING:
    from collections.abc import Callable

    from engine.core.events import BookDelta, BookSnapshot, Int64Array, Trade
    from engine.core.instruments import Instrument


class CatalogWriteError(EngineError, OSError):
    """A catalog file could not be written; ``path`` names it, ``reason`` says why."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: cannot write catalog file: {reason}")


_LEVEL_COLUMNS = ("bid_px", "bid_sz", "ask_px", "ask_sz")


@dataclass
class _OpenFile:
    """One file being written: its paths, Parquet writer and the rows not yet handed over."""

    kind: str
    final: Path
    temp: Path
    period_end: int
    metadata: dict[bytes, bytes] | None
    writer: pq.ParquetWriter | None = None
    rows: int = 0
    columns: dict[str, list[object]] = field(default_factory=dict)

    def buffered(self) -> int:
        return len(self.columns["recv_ts"]) if self.columns else 0


def _levels_array(arrays: list[Int64Array]) -> pa.Array:
    """``list<int64>`` from one numpy array per row, without a Python loop over levels."""
    lengths = np.fromiter((len(a) for a in arrays), dtype=np.int32, count=len(arrays))
    offsets = np.zeros(len(arrays) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    values = np.concatenate(arrays) if arrays else np.empty(0, dtype=np.int64)
    return pa.ListArray.from_arrays(
        pa.array(offsets, type=pa.int32()), pa.array(values.astype(np.int64, copy=False))
    )


def parse_roll(text: str) -> int:
    """A roll period such as ``"1h"``, ``"15m"`` or ``"30s"`` in seconds; it divides an hour.

    Raises:
        ValueError: not ``<n>h|m|s``, or not a whole fraction of an hour.
    """
    units = {"h": 3600, "m": 60, "s": 1}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit():
        raise ValueError(f"roll {text!r} is not <n>h, <n>m or <n>s (e.g. '1h', '15m')")
    seconds = int(number) * units[unit]
    if seconds <= 0 or 3600 % seconds:
        raise ValueError(f"roll {text!r} must divide an hour (1h, 30m, 15m, 5m, 1m, 30s ...)")
    return seconds


class CatalogWriter:
    """Appends book, trade and raw rows to a catalog rooted at ``root``.

    Args:
        root: the catalog folder (created as needed).
        source: the ``source`` metadata of book and trade files (``live``, ``hftbacktest`` ...).
        roll_s: length of a file's period in seconds; must divide an hour.
        row_group_rows: rows buffered before they are handed to Parquet as one row group.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        source: str,
        roll_s: int = 3600,
        row_group_rows: int = 8192,
    ) -> None:
        if roll_s <= 0 or 3600 % roll_s:
            raise ValueError(f"roll_s {roll_s} must divide an hour")
        self.root = Path(root)
        self.source = source
        self.roll_ns = roll_s * 1_000_000_000
        self.row_group_rows = row_group_rows
        self.files_written = 0
        self.rows_written = 0
        self.last_file: Path | None = None
        self.written: list[Path] = []
        self.rows_lost = 0
        """Rows of files that could not be completed."""
        self._open: dict[tuple[str, str, str], _OpenFile] = {}
        self._metadata: dict[tuple[str, str, str, str], dict[bytes, bytes]] = {}

    # ---- rows -------------------------------------------------------------------------------

    def write_snapshot(self, instrument: Instrument, snap: BookSnapshot) -> None:
        """A whole book as a ``kind = 0`` row (``first_id = last_id = update_id``)."""
        cols = self._columns(schema.BOOK, instrument, snap.recv_ts)
        self._book_row(
            cols,
            snap.recv_ts,
            snap.exch_ts,
            schema.SNAPSHOT_ROW,
            (snap.update_id, snap.update_id, schema.NO_PREV_ID),
            (snap.bid_px, snap.bid_sz, snap.ask_px, snap.ask_sz),
        )
        self._maybe_flush(schema.BOOK, instrument.venue, instrument.symbol)

    def write_delta(self, instrument: Instrument, delta: BookDelta) -> None:
        """An applied diff as a ``kind = 1`` row."""
        cols = self._columns(schema.BOOK, instrument, delta.recv_ts)
        self._book_row(
            cols,
            delta.recv_ts,
            delta.exch_ts,
            schema.DELTA_ROW,
            (delta.first_id, delta.last_id, delta.prev_id),
            (delta.bid_px, delta.bid_sz, delta.ask_px, delta.ask_sz),
        )
        self._maybe_flush(schema.BOOK, instrument.venue, instrument.symbol)

    def write_trade(self, instrument: Instrument, trade: Trade) -> None:
        """One public trade."""
        cols = self._columns(schema.TRADE, instrument, trade.recv_ts)
        for name, value in (
            ("recv_ts", trade.recv_ts),
            ("exch_ts", trade.exch_ts),
            ("trade_id", trade.trade_id),
            ("price", trade.price),
            ("size", trade.size),
            ("aggressor", int(trade.aggressor)),
        ):
            cols[name].append(value)
        self._maybe_flush(schema.TRADE, instrument.venue, instrument.symbol)

    def write_raw(self, venue: str, symbol: str, recv_ts: int, stream: str, payload: bytes) -> None:
        """One frame or REST body exactly as received, with its receive time and stream or URL."""
        cols = self._columns_for(schema.RAW, venue, symbol, recv_ts, None)
        cols["recv_ts"].append(recv_ts)
        cols["stream"].append(stream)
        cols["payload"].append(payload)
        self._maybe_flush(schema.RAW, venue, symbol)

    # ---- files ------------------------------------------------------------------------------

    def roll(self, now_ns: int) -> None:
        """Close every file whose period ended before ``now_ns`` (quiet streams become visible).

        Raises:
            CatalogWriteError: a file could not be completed; the others are still closed.
        """
        self._close_where(lambda f: f.period_end <= now_ns)

    def close(self) -> list[Path]:
        """Complete every open file; returns every file this writer completed.

        Raises:
            CatalogWriteError: a file could not be completed; the others are still closed.
        """
        self._close_where(lambda f: True)
        return list(self.written)

    def open_files(self) -> int:
        """Files currently being written."""
        return len(self._open)

    def abandon(self) -> None:
        """Drop every open file without completing it (temporaries removed when possible)."""
        for key in list(self._open):
            self._discard(self._open.pop(key))

    def _close_where(self, pick: Callable[[_OpenFile], bool]) -> None:
        failure: CatalogWriteError | None = None
        for key in [k for k, f in self._open.items() if pick(f)]:
            try:
                self._complete(self._open.pop(key))
            except CatalogWriteError as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    def _columns(self, kind: str, instrument: Instrument, recv_ts: int) -> dict[str, list[object]]:
        key = (instrument.venue, instrument.symbol, instrument.tick_size, instrument.lot_size)
        metadata = self._metadata.get(key)
        if metadata is None:
            metadata = self._metadata[key] = schema.file_metadata(*key, self.source)
        return self._columns_for(kind, instrument.venue, instrument.symbol, recv_ts, metadata)

    def _columns_for(
        self,
        kind: str,
        venue: str,
        symbol: str,
        recv_ts: int,
        metadata: dict[bytes, bytes] | None,
    ) -> dict[str, list[object]]:
        key = (kind, venue, symbol)
        current = self._open.get(key)
        if current is not None and not (
            current.period_end - self.roll_ns <= recv_ts < current.period_end
        ):
            del self._open[key]
            self._complete(current)
            current = None
        if current is None:
            folder = schema.partition_dir(self.root, kind, venue, symbol, recv_ts)
            name = schema.file_name(recv_ts)
            start = recv_ts - recv_ts % self.roll_ns
            current = _OpenFile(
                kind=kind,
                final=folder / name,
                temp=folder / f".{name}.tmp",
                period_end=start + self.roll_ns,
                metadata=metadata,
                columns={n: [] for n in schema.SCHEMAS[kind].names},
            )
            self._open[key] = current
        return current.columns

    @staticmethod
    def _book_row(
        cols: dict[str, list[object]],
        recv_ts: int,
        exch_ts: int,
        kind: int,
        ids: tuple[int, int, int],
        levels: tuple[Int64Array, Int64Array, Int64Array, Int64Array],
    ) -> None:
        cols["recv_ts"].append(recv_ts)
        cols["exch_ts"].append(exch_ts)
        cols["kind"].append(kind)
        cols["first_id"].append(ids[0])
        cols["last_id"].append(ids[1])
        cols["prev_id"].append(ids[2])
        for name, values in zip(_LEVEL_COLUMNS, levels, strict=True):
            cols[name].append(values)

    def _maybe_flush(self, kind: str, venue: str, symbol: str) -> None:
        current = self._open[(kind, venue, symbol)]
        if current.buffered() >= self.row_group_rows:
            try:
                self._flush(current)
            except CatalogWriteError:
                del self._open[(kind, venue, symbol)]
                raise

    def _table(self, current: _OpenFile) -> pa.Table:
        target = schema.schema_for(current.kind, current.metadata)
        arrays: list[pa.Array] = []
        for fld in target:
            values = current.columns[fld.name]
            if fld.name in _LEVEL_COLUMNS:
                arrays.append(_levels_array(values))  # type: ignore[arg-type]
            else:
                arrays.append(pa.array(values, type=fld.type))
        return pa.Table.from_arrays(arrays, schema=target)

    def _flush(self, current: _OpenFile) -> None:
        """Hand the buffered rows to Parquet as one row group (opening the file first)."""
        if not current.buffered():
            return
        try:
            table = self._table(current)
            if current.writer is None:
                current.temp.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                current.writer = pq.ParquetWriter(current.temp, table.schema, compression="zstd")
            current.writer.write_table(table)
        except (OSError, pa.ArrowException) as exc:
            self._discard(current)
            raise CatalogWriteError(current.temp, str(exc)) from exc
        current.rows += table.num_rows
        for values in current.columns.values():
            values.clear()

    def _complete(self, current: _OpenFile) -> None:
        """Flush, close and rename one file into place."""
        self._flush(current)
        if current.writer is None:
            return
        try:
            current.writer.close()
            os.chmod(current.temp, 0o600)
            with open(current.temp, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(current.temp, current.final)
        except OSError as exc:
            self._discard(current)
            raise CatalogWriteError(current.final, str(exc)) from exc
        self.files_written += 1
        self.rows_written += current.rows
        self.last_file = current.final
        self.written.append(current.final)

    def _discard(self, current: _OpenFile) -> None:
        self.rows_lost += current.rows + current.buffered()
        current.rows = 0
        writer, current.writer = current.writer, None
        if writer is not None:
            with contextlib.suppress(OSError, pa.ArrowException):
                writer.close()
        with contextlib.suppress(OSError):
            current.temp.unlink(missing_ok=True)
        for values in current.columns.values():
            values.clear()

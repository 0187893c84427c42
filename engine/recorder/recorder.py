"""The live recorder: a bounded queue between the hot path and a writer thread.

The feed's callbacks (on the engine's loop) only append to a :class:`collections.deque` with a
``maxlen``: that is one C call, never blocks and never waits on the disk. When the queue is full
the append pushes the oldest entry out, so a slow, full or read-only disk costs the oldest
recorded rows, never trading time. The writer thread takes entries in order and hands them to a
:class:`~engine.recorder.writer.CatalogWriter`; a failed write is counted, kept as
``last_error``, raised as an alert, and the thread pauses before it tries again (the queue
keeps absorbing, and dropping, meanwhile). Drops are counted exactly::

    dropped = offered - taken - queued

and raised as an alert at most every ``alert_every_s`` while they keep growing.

What goes in: book deltas applied to live books, a snapshot row of the whole book each time a
book goes live (after a resync, too), trades, and raw frames with their exact bytes and receive
time (:mod:`engine.recorder.tap`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from engine.core.events import AlertLevel, BookDelta, BookSnapshot, Trade
from engine.recorder.writer import CatalogWriteError, CatalogWriter, parse_roll

if TYPE_CHECKING:
    from engine.book.order_book import OrderBook
    from engine.core.config import EngineConfig
    from engine.core.instruments import Instrument

log = logging.getLogger("engine.recorder")

AlertSink = Callable[[AlertLevel, str], None]
"""Where the recorder's alerts go: (level, one-line message)."""

_NS = 1_000_000_000
_RAW = 0
_EVENT = 1


class RecorderStats(msgspec.Struct, frozen=True, kw_only=True):
    """The recorder's state, for ``/status`` and the health screen."""

    root: str
    running: bool
    files_written: int
    rows_written: int
    """Rows in completed files."""
    offered: int
    """Entries the hot path handed over."""
    dropped: int
    """Entries pushed out of the full queue before they were written (the oldest first)."""
    rows_lost: int
    """Rows taken from the queue that went down with a file that could not be written."""
    queue_depth: int
    queue_capacity: int
    open_files: int
    write_errors: int
    last_error: str
    last_file: str


def _levels(levels: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    if not levels:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    data = np.array(levels, dtype=np.int64)
    return data[:, 0].copy(), data[:, 1].copy()


def book_snapshot(instrument: int, book: OrderBook, exch_ts: int, recv_ts: int) -> BookSnapshot:
    """The whole of a live book as a snapshot at its update id."""
    bids, asks = book.levels()
    bid_px, bid_sz = _levels(bids)
    ask_px, ask_sz = _levels(asks)
    return BookSnapshot(
        instrument=instrument,
        update_id=book.update_id,
        bid_px=bid_px,
        bid_sz=bid_sz,
        ask_px=ask_px,
        ask_sz=ask_sz,
        exch_ts=exch_ts,
        recv_ts=recv_ts,
    )


class Recorder:
    """Records market data of ``instruments`` into the catalog at ``root``.

    Args:
        root: the catalog folder.
        instruments: what is recorded; events name them by ``instrument_id``.
        queue_size: entries the queue holds before the oldest are dropped.
        roll_s: file period in seconds (divides an hour).
        source: the files' ``source`` metadata.
        on_alert: told about drops and write failures (from the writer thread, or through
            ``loop`` when one is given).
        loop: the event loop ``on_alert`` must run on.
        retry_after_s: pause after a failed write before the next attempt.
        alert_every_s: shortest time between two alerts of the same kind.
    """

    def __init__(
        self,
        root: str | Path,
        instruments: list[Instrument],
        *,
        queue_size: int = 100_000,
        roll_s: int = 3600,
        source: str = "live",
        on_alert: AlertSink | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        retry_after_s: float = 1.0,
        alert_every_s: float = 10.0,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.root = Path(root)
        self.instruments = {i.instrument_id: i for i in instruments}
        self.queue_size = queue_size
        self.writer = CatalogWriter(self.root, source=source, roll_s=roll_s)
        self._queue: deque[tuple[Any, ...]] = deque(maxlen=queue_size)
        self._offered = 0
        self._taken = 0
        self._errors = 0
        self._last_error = ""
        self._on_alert = on_alert
        self._loop = loop
        self._retry_after_s = retry_after_s
        self._alert_every_s = alert_every_s
        self._alerted: dict[str, tuple[float, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- the hot path: one append each ------------------------------------------------------

    def book_delta(self, delta: BookDelta) -> None:
        """A diff applied to a live book."""
        self._queue.append((_EVENT, delta))
        self._offered += 1

    def trade(self, trade: Trade) -> None:
        """A public trade."""
        self._queue.append((_EVENT, trade))
        self._offered += 1

    def snapshot(self, snapshot: BookSnapshot) -> None:
        """A whole book (a REST snapshot, or a book as it went live)."""
        self._queue.append((_EVENT, snapshot))
        self._offered += 1

    def book_live(self, instrument: int, book: OrderBook, exch_ts: int, recv_ts: int) -> None:
        """A book went live: record all of it as a snapshot row (rare: once per (re)sync)."""
        self.snapshot(book_snapshot(instrument, book, exch_ts, recv_ts))

    def raw(self, venue: str, symbol: str, recv_ts: int, stream: str, payload: bytes) -> None:
        """One frame or REST body of ``venue``, exactly as received (``symbol`` partitions it)."""
        self._queue.append((_RAW, venue, symbol, recv_ts, stream, payload))
        self._offered += 1

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread. Idempotent."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="recorder-writer", daemon=True)
        self._thread.start()
        log.info("recorder started", extra={"root": str(self.root), "queue": self.queue_size})

    def stop(self, timeout_s: float = 30.0) -> RecorderStats:
        """Write what is queued, complete every file and stop the thread; returns the stats."""
        thread = self._thread
        self._stop.set()
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("recorder writer did not finish in time", extra={"timeout": timeout_s})
        self._thread = None
        stats = self.stats()
        log.info("recorder stopped", extra=msgspec.to_builtins(stats))
        return stats

    @property
    def dropped(self) -> int:
        """Entries pushed out of the full queue so far."""
        return max(0, self._offered - self._taken - len(self._queue))

    def stats(self) -> RecorderStats:
        """The recorder's state now."""
        writer = self.writer
        return RecorderStats(
            root=str(self.root),
            running=self._thread is not None and self._thread.is_alive(),
            files_written=writer.files_written,
            rows_written=writer.rows_written,
            offered=self._offered,
            dropped=self.dropped,
            rows_lost=writer.rows_lost,
            queue_depth=len(self._queue),
            queue_capacity=self.queue_size,
            open_files=writer.open_files(),
            write_errors=self._errors,
            last_error=self._last_error,
            last_file=str(writer.last_file or ""),
        )

    # ---- the writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        queue = self._queue
        last_roll = 0.0
        while True:
            try:
                item = queue.popleft()
            except IndexError:
                if self._stop.is_set():
                    break
                now = time.monotonic()
                if now - last_roll >= 1.0:
                    last_roll = now
                    self._guarded(self.writer.roll, time.time_ns())
                    self._check_drops()
                self._stop.wait(0.02)
                continue
            self._taken += 1
            self._guarded(self._write, item)
        self._guarded(self.writer.close)
        self._check_drops()

    def _write(self, item: tuple[Any, ...]) -> None:
        writer = self.writer
        if item[0] == _RAW:
            _, venue, symbol, recv_ts, stream, payload = item
            writer.write_raw(venue, symbol, recv_ts, stream, payload)
            return
        event = item[1]
        inst = self.instruments.get(event.instrument)
        if inst is None:
            return
        if type(event) is BookDelta:
            writer.write_delta(inst, event)
        elif type(event) is Trade:
            writer.write_trade(inst, event)
        else:
            writer.write_snapshot(inst, event)

    def _guarded(self, action: Callable[..., object], *args: object) -> None:
        try:
            action(*args)
        except CatalogWriteError as exc:
            self._failed(exc)
        except Exception as exc:  # a recorder bug must never reach the engine
            log.exception("recorder write failed")
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self._errors += 1
        self._last_error = str(exc)
        log.warning("recorder write failed", extra={"error": self._last_error})
        self._alert("error", self._errors, f"recorder cannot write: {exc}")
        # let the disk recover; the queue keeps taking (and dropping the oldest) meanwhile
        self._stop.wait(self._retry_after_s)

    def _check_drops(self) -> None:
        dropped = self.dropped
        if dropped:
            self._alert(
                "drops",
                dropped,
                f"recorder dropped {dropped} of {self._offered} entries (queue of "
                f"{self.queue_size} full; oldest dropped first)",
            )

    def _alert(self, kind: str, count: int, message: str) -> None:
        """Raise an alert unless one of this kind went out recently or nothing changed."""
        now = time.monotonic()
        last_at, last_count = self._alerted.get(kind, (-1e18, 0))
        if count == last_count or now - last_at < self._alert_every_s:
            return
        self._alerted[kind] = (now, count)
        sink = self._on_alert
        if sink is None:
            log.warning(message)
            return
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(sink, AlertLevel.WARNING, message)
            except RuntimeError:  # the loop is closed: the engine is gone
                log.warning(message)
        else:
            sink(AlertLevel.WARNING, message)


def catalog_root(config: EngineConfig) -> Path:
    """``[recorder] root``, or ``data/catalog`` under the instance's state folder."""
    root = config.recorder.root
    return Path(root).expanduser() if root else config.state_dir() / "data" / "catalog"


def recorder_for(
    config: EngineConfig,
    instruments: list[Instrument],
    *,
    root: str | Path | None = None,
    on_alert: AlertSink | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
) -> Recorder:
    """A recorder set up by ``[recorder]`` (``root`` overrides the configured folder)."""
    section = config.recorder
    return Recorder(
        Path(root) if root is not None else catalog_root(config),
        instruments,
        queue_size=section.queue_size,
        roll_s=parse_roll(section.roll),
        on_alert=on_alert,
        loop=loop,
    )

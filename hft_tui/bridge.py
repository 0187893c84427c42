"""The one place engine data enters the UI: shared-memory segments in, immutable frames out.

:class:`EngineBridge` attaches to a running engine's segments (found by instance name) and reads
them without ever blocking the engine: state pages give the latest book and engine views, the
event ring gives trades and state changes, and the command ring carries the kill switch back.
:class:`StateReader` turns one round of reads into a :class:`Frame`, the frozen view the screens
draw, and counts the states the UI never drew because newer ones superseded them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

import msgspec

from engine.core.clock import Clock, LiveClock
from engine.errors import IpcError, RingFull, SegmentError
from engine.ipc.layout import InstanceSegments, attach_segments
from engine.ipc.protocol import (
    RECORD,
    BookView,
    CommandKind,
    EngineView,
    EventKind,
    Flag,
    HaltReason,
    LinkState,
    Record,
    RingView,
    decode_book,
    decode_engine,
    pack,
)
from engine.ipc.ring import RingStats
from engine.ipc.segments import (
    InstanceInfo,
    list_instances,
    pid_alive,
    read_instance,
    runtime_dir,
)

#: an engine whose heartbeat is older than this is reported lost
LOST_AFTER_NS = 1_000_000_000
#: trades kept for the tape, newest first
TAPE_LENGTH = 64
#: with nothing new on the pages, a frame still goes out this often so heartbeat ages move
IDLE_FRAME_NS = 250_000_000
#: how long :meth:`EngineBridge.send_kill` retries a full command ring before giving up
KILL_RETRY_S = 0.2


class EngineNotRunning(IpcError):
    """No engine runs under the requested instance name (or its segments are gone)."""


class UiAlreadyAttached(IpcError):
    """Another UI is attached to this engine; the rings have one consumer and one producer."""


#: instance -> (lock fd, bridges of this process holding it); a restart attaches before detaching
_ui_locks: dict[str, tuple[int, int]] = {}


def _take_ui_lock(instance: str) -> None:
    """Hold ``<runtime>/<instance>.ui.lock`` while any bridge of this process is attached.

    The lock is an ``flock``: the kernel releases it when the UI exits, however it exits. Bridges
    of the same process share it (the app attaches to a restarted engine before detaching).

    Raises:
        UiAlreadyAttached: another process holds it; the message names its pid.
    """
    if instance in _ui_locks:
        fd, count = _ui_locks[instance]
        _ui_locks[instance] = (fd, count + 1)
        return
    path = runtime_dir() / f"{instance}.ui.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise UiAlreadyAttached(
            f"another UI (pid {holder}) is already attached to engine {instance!r}; "
            "close it first: the engine serves one UI at a time"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _ui_locks[instance] = (fd, 1)


def _release_ui_lock(instance: str) -> None:
    fd, count = _ui_locks[instance]
    if count > 1:
        _ui_locks[instance] = (fd, count - 1)
        return
    del _ui_locks[instance]
    os.close(fd)  # releases the flock


def _not_running(instance: str, why: str) -> EngineNotRunning:
    names = ", ".join(sorted(info.instance for info in list_instances())) or "none"
    return EngineNotRunning(f"engine {instance!r} {why} (running instances: {names})")


class EngineBridge:
    """Read-side attachment to one engine instance's segments.

    Use :meth:`attach`; call :meth:`close` when done (it never removes the engine's segments).
    """

    def __init__(self, info: InstanceInfo, segments: InstanceSegments, clock: Clock) -> None:
        self.info = info
        self._segments = segments
        self._events = segments.events
        self._commands = segments.commands
        self._engine_page = segments.engine
        self._book_pages = segments.books
        self._clock = clock
        self._closed = False

    @classmethod
    def attach(cls, instance: str, *, clock: Clock | None = None) -> EngineBridge:
        """Find the engine running as ``instance`` and attach to its segments.

        Raises:
            EngineNotRunning: no live engine has that name; the message lists those that run.
            UiAlreadyAttached: another UI is attached to it.
        """
        info = read_instance(instance)
        if info is None:
            raise _not_running(instance, "is not running")
        if not pid_alive(info.pid):
            raise _not_running(instance, f"is not running (pid {info.pid} has exited)")
        _take_ui_lock(instance)
        try:
            segments = attach_segments(instance, len(info.symbols))
        except OSError as exc:
            _release_ui_lock(instance)
            raise _not_running(instance, f"has no usable segments ({exc})") from exc
        return cls(info, segments, clock or LiveClock())

    @property
    def engine_version(self) -> int:
        """Write count of the engine page; unchanged means nothing new to draw."""
        return self._engine_page.version

    def book_version(self, instrument: int) -> int:
        """Write count of one instrument's book page."""
        return self._book_pages[instrument].version

    def read_engine(self) -> EngineView | None:
        """The latest engine view, or None before the engine first wrote it.

        Raises:
            SegmentError: the page held something that is not an engine view.
        """
        data = self._engine_page.read()
        if data is None:
            return None
        try:
            return decode_engine(data)
        except msgspec.DecodeError as exc:
            raise SegmentError(f"{self.info.instance}: unreadable engine page: {exc}") from exc

    def read_book(self, instrument: int) -> BookView | None:
        """The latest view of one book, or None before the engine first wrote it.

        Raises:
            IndexError: the engine has no instrument with that id.
            SegmentError: the page held something that is not a book view.
        """
        data = self._book_pages[instrument].read()
        if data is None:
            return None
        try:
            return decode_book(data)
        except msgspec.DecodeError as exc:
            raise SegmentError(
                f"{self.info.instance}: unreadable book page {instrument}: {exc}"
            ) from exc

    def drain_events(self, max_records: int = 4096) -> list[Record]:
        """Events the engine sent since the last drain, oldest first."""
        data = self._events.pop_batch(max_records)
        return [Record._make(fields) for fields in RECORD.iter_unpack(data)]

    def events_stats(self) -> RingStats:
        """Statistics of the engine -> UI event ring, as of now."""
        return self._events.stats()

    @property
    def producer_heartbeat_ns(self) -> int:
        """The engine's last heartbeat stamp on the event ring (0 if never)."""
        return self._events.producer_heartbeat_ns

    def send_kill(self) -> None:
        """Put a KILL command on the lossless command ring now.

        Raises:
            RingFull: the engine has not taken commands for a while and the ring stayed full.
        """
        record = pack(CommandKind.KILL, engine_ts=self._clock.time_ns(), aux=HaltReason.OPERATOR)
        deadline = time.monotonic() + KILL_RETRY_S
        while True:
            try:
                self._commands.push_nowait(record)
            except RingFull:
                if time.monotonic() >= deadline:
                    raise RingFull(
                        f"{self.info.instance}: command ring still full after {KILL_RETRY_S} s; "
                        f"the engine is not taking commands, use `hft-tui kill`"
                    ) from None
                time.sleep(0.002)
            else:
                return

    def beat(self, now_ns: int) -> None:
        """Stamp the UI's liveness on both rings."""
        self._events.beat_consumer(now_ns)
        self._commands.beat_producer(now_ns)

    def engine_alive(self) -> bool:
        """True while the engine process exists."""
        return pid_alive(self.info.pid)

    def close(self) -> None:
        """Detach from the segments. Idempotent; the engine keeps running."""
        if self._closed:
            return
        self._closed = True
        self._segments.close()
        _release_ui_lock(self.info.instance)


@dataclass(frozen=True, slots=True)
class TapeTrade:
    """One public trade as the tape shows it."""

    exch_ts: int
    """Exchange time of the trade, ns since the epoch."""
    price: int
    """Ticks."""
    size: int
    """Lots."""
    buy: bool
    """The aggressor bought."""
    trade_id: int
    """The venue's trade id."""


Lost = Literal["", "exited", "silent"]


@dataclass(frozen=True, slots=True)
class Frame:
    """Everything one screen refresh draws; the latest frame always supersedes older ones."""

    seq: int
    """Frame number since the reader started; a gap means frames were replaced unseen."""
    now_ns: int
    """The UI clock's wall time when the frame was read."""
    instance: str
    """The engine instance name."""
    pid: int
    """The engine's process id."""
    symbol: str
    """Symbol of the instrument shown."""
    venue: str
    """Venue name from the engine page (empty before the first one)."""
    book: BookView | None
    """The latest book view; None before the engine first wrote it."""
    book_state: str
    """``live`` only when the book may be shown as valid; else syncing, crossed, stale, waiting."""
    engine: EngineView | None
    """The latest engine view; None before the engine first wrote it."""
    trading: str
    """``running``, ``halted`` or ``unknown`` (no engine page yet)."""
    halt_reason: str
    """Why trading is halted, in the engine's words; empty while running."""
    halted_at_ns: int
    """When trading was halted, ns since the epoch (0 while running)."""
    kill_pending: bool
    """This UI sent a kill and the engine has not confirmed the halt yet."""
    kill_pending_ns: int
    """How long that kill has waited for the engine to confirm it."""
    link: str
    """The venue link state: ``live``, ``syncing``, ``disconnected`` ..."""
    trades: tuple[TapeTrade, ...]
    """Newest first."""
    heartbeat_age_ns: int
    """How old the engine's last heartbeat is."""
    lost: Lost
    """``exited`` (no process) or ``silent`` (no heartbeat); empty while the engine is alive."""
    skipped: int
    """States the UI never drew because newer ones superseded them, since start."""
    events_ring: RingView
    """The engine -> UI ring as this UI sees it now: depth, capacity, peak, drops."""
    malformed: int
    """Venue frames the engine could not parse, since it started."""


class StateReader:
    """Reads the bridge once per call and returns the frame to draw, or None if nothing changed.

    Args:
        bridge: the attached engine.
        instrument: the instrument whose book is shown.
        clock: where "now" comes from (heartbeat ages, kill timing).
    """

    def __init__(self, bridge: EngineBridge, instrument: int, clock: Clock) -> None:
        self.bridge = bridge
        self._instrument = instrument
        self._clock = clock
        self._attached_ns = clock.time_ns()
        self._seq = 0
        self._versions = {"book": -1, "engine": -1}
        self._book: BookView | None = None
        self._engine: EngineView | None = None
        self._trades: deque[TapeTrade] = deque(maxlen=TAPE_LENGTH)
        self._skipped = 0
        self._malformed = 0
        self._kill_sent_ns: int | None = None
        self._kill_news = False
        self._book_unreadable = False
        self._last: Frame | None = None

    def kill_sent(self) -> None:
        """Note that this UI sent a kill, so frames show it pending until the engine confirms."""
        if self._kill_sent_ns is None:
            self._kill_sent_ns = self._clock.time_ns()
            self._kill_news = True

    def _page_changed(self, name: str, version: int) -> bool:
        last = self._versions[name]
        if version == last:
            return False
        if last >= 0 and version > last + 1:
            self._skipped += version - last - 1
        self._versions[name] = version
        return True

    def _read_pages(self) -> bool:
        bridge = self.bridge
        changed = False
        if self._page_changed("engine", bridge.engine_version):
            changed = True
            # an unreadable page keeps the last view: its heartbeat ages, so a lasting fault
            # reads as a lost engine rather than as a healthy one
            with contextlib.suppress(IpcError):
                self._engine = bridge.read_engine() or self._engine
        if self._page_changed("book", bridge.book_version(self._instrument)):
            changed = True
            try:
                self._book = bridge.read_book(self._instrument) or self._book
            except IpcError:
                self._book_unreadable = True  # shown as stale, never as valid
            else:
                self._book_unreadable = False
        return changed

    def _drain(self) -> list[Record]:
        try:
            return self.bridge.drain_events()
        except IpcError:
            return []  # a corrupt ring: events are lossy by design, the pages still hold the truth

    def read(self) -> Frame | None:
        """One round of reads: heartbeat, pages, events; a new frame if anything changed."""
        now = self._clock.time_ns()
        bridge = self.bridge
        bridge.beat(now)
        changed = self._read_pages()
        events = self._drain()
        hints = self._apply_events(events)
        frame = self._frame(now, hints)
        last = self._last
        news, self._kill_news = self._kill_news, False
        if (
            last is not None
            and not changed
            and not news
            and not events
            and frame.lost == last.lost
            and frame.events_ring == last.events_ring
            and now - last.now_ns < IDLE_FRAME_NS
        ):
            return None
        self._last = frame
        return frame

    def _apply_events(self, events: list[Record]) -> _Hints:
        hints = _Hints()
        mine = self._instrument
        for rec in events:
            kind = rec.kind
            if kind == EventKind.TRADE:
                if rec.instrument == mine:
                    trade = TapeTrade(
                        rec.exch_ts, rec.price, rec.size, bool(rec.flags & Flag.BUY), rec.aux
                    )
                    self._trades.appendleft(trade)
            elif kind == EventKind.HALTED:
                hints.halted_at_ns = rec.engine_ts
                hints.halt_reason = _halt_reason(rec.aux)
            elif kind == EventKind.RESUMED:
                hints.halted_at_ns = 0
            elif kind in (EventKind.BOOK_RESYNC, EventKind.BOOK_LIVE) and rec.instrument == mine:
                hints.resyncing = kind == EventKind.BOOK_RESYNC
            elif kind == EventKind.LINK_CHANGED:
                hints.link = (rec.engine_ts, _link_name(rec.aux))
            elif kind == EventKind.MALFORMED:
                self._malformed = max(self._malformed, rec.aux)
        return hints

    def _frame(self, now: int, hints: _Hints) -> Frame:
        engine, book, bridge = self._engine, self._book, self.bridge
        page_hb = engine.heartbeat_ns if engine is not None else 0
        # an engine that never beat is timed from when the UI attached
        heartbeat = max(page_hb, bridge.producer_heartbeat_ns) or self._attached_ns
        age = now - heartbeat
        lost: Lost = ""
        if not bridge.engine_alive():
            lost = "exited"
        elif age > LOST_AFTER_NS:
            lost = "silent"

        trading = engine.trading if engine is not None else "unknown"
        halt_reason = engine.halt_reason if engine is not None else ""
        halted_at = engine.halted_at_ns if engine is not None else 0
        if trading != "halted" and hints.halted_at_ns and hints.halted_at_ns >= page_hb:
            trading, halt_reason, halted_at = "halted", hints.halt_reason, hints.halted_at_ns
        if trading == "halted":
            self._kill_sent_ns = None
        kill_sent = self._kill_sent_ns

        link = engine.link if engine is not None else "unknown"
        if hints.link is not None and hints.link[0] >= page_hb:
            link = hints.link[1]

        if lost or self._book_unreadable:
            book_state = "stale"
        elif book is None:
            book_state = "waiting"
        elif hints.resyncing:
            book_state = "syncing"
        else:
            book_state = book.state

        stats = bridge.events_stats()
        info = bridge.info
        self._seq += 1
        symbols = info.symbols
        return Frame(
            seq=self._seq,
            now_ns=now,
            instance=info.instance,
            pid=info.pid,
            symbol=book.symbol if book is not None else symbols[self._instrument],
            venue=engine.venue if engine is not None else "",
            book=book,
            book_state=book_state,
            engine=engine,
            trading=trading,
            halt_reason=halt_reason,
            halted_at_ns=halted_at,
            kill_pending=kill_sent is not None,
            kill_pending_ns=now - kill_sent if kill_sent is not None else 0,
            link=link,
            trades=tuple(self._trades),
            heartbeat_age_ns=age,
            lost=lost,
            skipped=self._skipped,
            events_ring=RingView(
                depth=stats.depth, capacity=stats.capacity, peak=stats.peak, dropped=stats.dropped
            ),
            malformed=max(self._malformed, engine.malformed if engine is not None else 0),
        )


class _Hints:
    """What this batch of events says that the pages may not show yet."""

    __slots__ = ("halt_reason", "halted_at_ns", "link", "resyncing")

    def __init__(self) -> None:
        self.halted_at_ns = 0
        self.halt_reason = ""
        self.link: tuple[int, str] | None = None
        self.resyncing = False


def _halt_reason(code: int) -> str:
    try:
        return f"kill switch ({HaltReason(code).name.lower()})"
    except ValueError:
        return "halted"


def _link_name(code: int) -> str:
    try:
        return LinkState(code).name.lower()
    except ValueError:
        return "unknown"

"""From bridge reads to frames: the frozen views the screens draw, latest state first.

:class:`StateReader` turns one round of :class:`~hft_tui.bridge.EngineBridge` reads into a
:class:`~hft_tui.frame.Frame` and counts the states the UI never drew because newer ones
superseded them. Orders, positions, fills and alerts go through a
:class:`~hft_tui.desk.DeskTracker`; the net PnL of every read goes into a
:class:`~hft_tui.pnl_curve.PnlRecorder` for the positions screen's chart, and the shown book's
mid and spread into a :class:`~hft_tui.quote_trail.QuoteRecorder` for the trade screen's sparkline.
"""

from __future__ import annotations

import contextlib
from collections import deque

from engine.core.clock import Clock
from engine.errors import IpcError
from engine.ipc.protocol import (
    BookView,
    EngineView,
    EventKind,
    Flag,
    HaltReason,
    LinkState,
    Record,
    RingView,
)
from hft_tui.bridge import EngineBridge
from hft_tui.desk import DeskTracker
from hft_tui.frame import Frame, Lost, TapeTrade
from hft_tui.pnl_curve import PnlRecorder
from hft_tui.quote_trail import QuoteRecorder

#: an engine whose heartbeat is older than this is reported lost
LOST_AFTER_NS = 1_000_000_000
#: trades kept for the tape, newest first
TAPE_LENGTH = 64
#: with nothing new on the pages, a frame still goes out this often so heartbeat ages move
IDLE_FRAME_NS = 250_000_000


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
        self._versions = {"book": -1, "engine": -1, "trading": -1}
        self._desk = DeskTracker(bridge.info.symbols)
        self._book: BookView | None = None
        self._engine: EngineView | None = None
        self._trades: deque[TapeTrade] = deque(maxlen=TAPE_LENGTH)
        self._skipped = 0
        self._malformed = 0
        self._kill_sent_ns: int | None = None
        self._kill_news = False
        self._book_unreadable = False
        self._last: Frame | None = None
        self._pnl = PnlRecorder()
        self._quotes = QuoteRecorder()

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
                if self._book is not None:
                    self._desk.on_book(self._book)
        if self._page_changed("trading", bridge.trading_version):
            changed = True
            with contextlib.suppress(IpcError):  # a bad page keeps the last one
                page = bridge.read_trading()
                if page is not None:
                    self._desk.on_page(page)
        self._learn_grids()
        return changed

    def _learn_grids(self) -> None:
        """Read the book page of each instrument whose grids are unknown, until they are known."""
        for instrument in self._desk.unknown_grids():
            if instrument == self._instrument:
                continue  # learned from the book read above
            with contextlib.suppress(IpcError, IndexError):
                view = self.bridge.read_book(instrument)
                if view is not None:
                    self._desk.on_book(view)

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
        page = self._desk.page
        if page is not None:
            self._pnl.add(now, page.net)
        if self._book is not None and not self._book_unreadable:
            self._quotes.add(now, self._book)
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
        self._seq = frame.seq
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
            else:
                self._desk.on_event(rec)
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
        symbols = info.symbols
        return Frame(
            seq=self._seq + 1,  # taken only when the frame is handed out
            now_ns=now,
            instance=info.instance,
            pid=info.pid,
            instrument=self._instrument,
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
            desk=self._desk.desk(),
            control_url=(engine.control_url if engine is not None else "") or info.control_url,
            pnl=self._pnl.curve(),
            quotes=self._quotes.trail(),
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

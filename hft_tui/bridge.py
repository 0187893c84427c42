"""The one place engine data enters the UI: an attachment to a running engine's shared memory.

:class:`EngineBridge` attaches to a running engine's segments (found by instance name) and reads
them without ever blocking the engine: state pages give the latest book, engine and trading views,
the event ring gives trades, fills and state changes, and the command ring carries the kill switch,
reset and the order ticket's submits and cancels back. Every order the UI sends is a request: the
engine runs it through its full risk pipeline, and a refusal shows up on the trading page.
:mod:`hft_tui.state_reader` turns its reads into the frozen frames the screens draw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from engine.core.clock import Clock, LiveClock
from engine.errors import IpcError, RingFull, SegmentError
from engine.ipc.layout import InstanceSegments, attach_segments
from engine.ipc.protocol import (
    RECORD,
    BookView,
    CommandKind,
    EngineView,
    Flag,
    HaltReason,
    Record,
    TradingView,
    UnreadableFrame,
    decode_book,
    decode_engine,
    decode_trading,
    pack,
)
from engine.ipc.ring import RingStats
from engine.ipc.segments import (
    InstanceInfo,
    list_instances,
    pid_alive,
    read_instance,
)
from engine.ipc.state_page import StatePage
from hft_tui.ui_lock import UiAlreadyAttached as UiAlreadyAttached
from hft_tui.ui_lock import release_ui_lock, take_ui_lock

#: how long a command (kill, reset, orders) retries a full command ring before giving up
KILL_RETRY_S = 0.2
#: what the operator can do instead when the command ring stays full
_FALLBACK = {
    CommandKind.KILL: "use `hft-tui kill`",
    CommandKind.RESET: "use `hft-tui reset`",
    CommandKind.SUBMIT: "the order was not sent",
    CommandKind.CANCEL: "use `hft-tui kill` to cancel everything",
    CommandKind.CANCEL_ALL: "use `hft-tui kill` to cancel everything",
}

_V = TypeVar("_V")


class EngineNotRunning(IpcError):
    """No engine runs under the requested instance name (or its segments are gone)."""


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
        self._trading_page = segments.trading
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
        take_ui_lock(instance)
        try:
            segments = attach_segments(instance, len(info.symbols))
        except OSError as exc:
            release_ui_lock(instance)
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
        return self._decode(self._engine_page, decode_engine, "engine page")

    def read_book(self, instrument: int) -> BookView | None:
        """The latest view of one book, or None before the engine first wrote it.

        Raises:
            IndexError: the engine has no instrument with that id.
            SegmentError: the page held something that is not a book view.
        """
        return self._decode(self._book_pages[instrument], decode_book, f"book page {instrument}")

    @property
    def trading_version(self) -> int:
        """Write count of the trading page (orders, positions, PnL, alerts)."""
        return self._trading_page.version

    def read_trading(self) -> TradingView | None:
        """The latest trading view, or None before the engine first wrote it.

        Raises:
            SegmentError: the page held something that is not a trading view.
        """
        return self._decode(self._trading_page, decode_trading, "trading page")

    def _decode(self, page: StatePage, decode: Callable[[bytes], _V], what: str) -> _V | None:
        """Read ``page`` and decode it; None before the engine first wrote it."""
        data = page.read()
        if data is None:
            return None
        try:
            return decode(data)
        except UnreadableFrame as exc:
            raise SegmentError(f"{self.info.instance}: unreadable {what}: {exc}") from exc

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
        self._send(CommandKind.KILL, aux=HaltReason.OPERATOR)

    def send_reset(self) -> None:
        """Put a RESET command on the command ring; send it only after the operator confirmed.

        Raises:
            RingFull: the engine has not taken commands for a while and the ring stayed full.
        """
        self._send(CommandKind.RESET)

    def send_submit(
        self, instrument: int, *, buy: bool, price: int, size: int, style: int, request: int
    ) -> None:
        """Ask the engine to place an order; it passes every risk check like any other.

        Args:
            instrument: dense instrument id.
            buy: True to buy, False to sell.
            price: limit price in ticks; 0 for a market order.
            size: lots.
            style: :func:`~engine.ipc.protocol.order_style` of type and time in force.
            request: the UI's request number, for the engine's log.

        Raises:
            RingFull: the engine has not taken commands for a while and the ring stayed full.
        """
        flags = Flag.BUY if buy else Flag.SELL
        self._send(
            CommandKind.SUBMIT,
            flags=flags,
            instrument=instrument,
            price=price,
            size=size,
            seq=request,
            aux=style,
        )

    def send_ping(self) -> None:
        """A no-op command the engine only logs (a liveness probe of the command ring).

        Raises:
            RingFull: the engine has not taken commands for a while and the ring stayed full.
        """
        self._send(CommandKind.PING)

    def send_cancel(self, counter: int) -> None:
        """Ask the engine to cancel the order whose client id is ``<instance>-<counter>``.

        Raises:
            RingFull: the engine has not taken commands for a while and the ring stayed full.
        """
        self._send(CommandKind.CANCEL, seq=counter)

    def send_cancel_all(self, instrument: int | None) -> None:
        """Ask the engine to cancel every open order on ``instrument``, or everywhere for None.

        Raises:
            RingFull: the engine has not taken commands for a while and the ring stayed full.
        """
        if instrument is None:
            self._send(CommandKind.CANCEL_ALL, aux=1)
        else:
            self._send(CommandKind.CANCEL_ALL, instrument=instrument)

    def _send(
        self,
        kind: CommandKind,
        *,
        flags: int = 0,
        instrument: int = 0,
        price: int = 0,
        size: int = 0,
        seq: int = 0,
        aux: int = 0,
    ) -> None:
        record = pack(
            kind,
            flags,
            instrument,
            engine_ts=self._clock.time_ns(),
            price=price,
            size=size,
            seq=seq,
            aux=aux,
        )
        deadline = time.monotonic() + KILL_RETRY_S
        while True:
            try:
                self._commands.push_nowait(record)
            except RingFull:
                if time.monotonic() >= deadline:
                    raise RingFull(
                        f"{self.info.instance}: command ring still full after {KILL_RETRY_S} s; "
                        f"the engine is not taking commands; {_FALLBACK.get(kind, 'not sent')}"
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
        release_ui_lock(self.info.instance)

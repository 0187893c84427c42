"""The engine's side of the IPC: owns an instance's segments and never waits on a UI.

It creates the event ring (engine -> UI, lossy), the command ring (UI -> engine, lossless), one
state page for the engine view and one per instrument for its book view, then publishes an
:class:`~engine.ipc.segments.InstanceInfo` record so ``hft-tui attach`` can find them. Segments left
by a crashed engine of the same instance are swept first; :meth:`close` removes everything.
"""

from __future__ import annotations

import os

from engine.core.clock import Clock, LiveClock
from engine.ipc.layout import InstanceSegments, create_segments
from engine.ipc.protocol import RECORD, BookView, EngineView, Record, TradingView, encode_view
from engine.ipc.ring import RingStats
from engine.ipc.segments import (
    InstanceInfo,
    publish_instance,
    remove_instance,
    sweep_stale,
)


class EnginePublisher:
    """Engine side of the shared-memory IPC for one instance.

    Use :meth:`create`; call :meth:`close` on exit (also safe after a partial create).
    """

    def __init__(self, info: InstanceInfo, segments: InstanceSegments) -> None:
        self.info = info
        self._segments = segments
        self._events = segments.events
        self._commands = segments.commands
        self._engine_page = segments.engine
        self._book_pages = segments.books
        self._closed = False

    @classmethod
    def create(
        cls,
        instance: str,
        symbols: list[str],
        *,
        control_url: str = "",
        event_ring_bytes: int = 1 << 20,
        command_ring_bytes: int = 1 << 16,
        clock: Clock | None = None,
    ) -> EnginePublisher:
        """Sweep a crashed predecessor's segments, create this instance's and announce them.

        Raises:
            InstanceRunning: another live engine owns ``instance``.
            SegmentError: a segment could not be created.
        """
        clock = clock or LiveClock()
        sweep_stale(instance)
        segments = create_segments(
            instance,
            len(symbols),
            event_ring_bytes=event_ring_bytes,
            command_ring_bytes=command_ring_bytes,
        )
        info = InstanceInfo(
            instance=instance,
            pid=os.getpid(),
            started_ns=clock.time_ns(),
            control_url=control_url,
            symbols=list(symbols),
            segments=[seg.name for seg in segments.all()],
        )
        try:
            publish_instance(info)
        except BaseException:
            segments.close(unlink=True)
            raise
        return cls(info, segments)

    def announce(self, control_url: str) -> None:
        """Re-publish the instance record once the control plane's address is known."""
        self.info = InstanceInfo(
            instance=self.info.instance,
            pid=self.info.pid,
            started_ns=self.info.started_ns,
            control_url=control_url,
            symbols=self.info.symbols,
            segments=self.info.segments,
        )
        publish_instance(self.info)

    def publish_book(self, view: BookView) -> None:
        """Replace the latest book view of ``view.instrument``."""
        self._book_pages[view.instrument].write(encode_view(view))

    def publish_engine(self, view: EngineView) -> None:
        """Replace the latest engine view."""
        self._engine_page.write(encode_view(view))

    def publish_trading(self, view: TradingView) -> None:
        """Replace the latest orders, positions and PnL."""
        self._segments.trading.write(encode_view(view))

    def emit(self, record: bytes) -> bool:
        """Send one event to the UI; drops (and counts) instead of waiting when the UI lags."""
        return self._events.publish(record)

    def poll_commands(self, max_records: int = 256) -> list[Record]:
        """Commands the UI sent since the last poll, oldest first."""
        data = self._commands.pop_batch(max_records)
        return [Record._make(fields) for fields in RECORD.iter_unpack(data)]

    def heartbeat(self, now_ns: int) -> None:
        """Stamp the engine's liveness on both rings."""
        self._events.beat_producer(now_ns)
        self._commands.beat_consumer(now_ns)

    @property
    def ui_heartbeat_ns(self) -> int:
        """Last time a UI stamped the event ring as its consumer (0 if never)."""
        return self._events.consumer_heartbeat_ns

    def events_stats(self) -> RingStats:
        """Statistics of the engine -> UI ring."""
        return self._events.stats()

    def commands_stats(self) -> RingStats:
        """Statistics of the UI -> engine ring."""
        return self._commands.stats()

    def close(self) -> None:
        """Remove every segment and the instance record. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._segments.close(unlink=True)
        remove_instance(self.info.instance)

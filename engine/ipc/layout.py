"""An instance's set of segments: two rings and its state pages, created or attached as one.

The engine creates the set (:func:`create_segments`), a UI attaches to it (:func:`attach_segments`);
both get the same :class:`InstanceSegments`, and a failure half-way never leaves a partial set
open (nor, when creating, on disk).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from engine.ipc.ring import Ring
from engine.ipc.segments import segment_name
from engine.ipc.state_page import StatePage

_Seg = TypeVar("_Seg", Ring, StatePage)

#: bytes per state page: a 100-level BookView, an EngineView or a TradingView of 60 orders and
#: 20 alerts fits with room to spare
PAGE_BYTES = 32 * 1024


@dataclass(frozen=True, slots=True)
class InstanceSegments:
    """The shared memory of one engine instance."""

    events: Ring
    """Engine -> UI events; lossy."""
    commands: Ring
    """UI -> engine commands; lossless."""
    engine: StatePage
    """The latest :class:`~engine.ipc.protocol.EngineView`."""
    books: list[StatePage]
    """The latest :class:`~engine.ipc.protocol.BookView` per instrument id."""
    trading: StatePage
    """The latest :class:`~engine.ipc.protocol.TradingView`: orders, positions, PnL, alerts."""

    def all(self) -> list[Ring | StatePage]:
        """Every segment, rings first."""
        return [self.events, self.commands, self.engine, *self.books, self.trading]

    def close(self, *, unlink: bool = False) -> None:
        """Detach from every segment, and remove them when ``unlink`` (the owner, on exit)."""
        for seg in self.all():
            seg.close()
            if unlink:
                seg.unlink()


def _open_all(
    instance: str,
    n_books: int,
    ring: Callable[[str], Ring],
    page: Callable[[str], StatePage],
    unlink_on_error: bool,
) -> InstanceSegments:
    opened: list[Ring | StatePage] = []

    def keep(seg: _Seg) -> _Seg:
        opened.append(seg)
        return seg

    try:
        events = keep(ring(segment_name(instance, "events")))
        commands = keep(ring(segment_name(instance, "commands")))
        engine = keep(page(segment_name(instance, "engine")))
        books = [keep(page(segment_name(instance, f"book-{n}"))) for n in range(n_books)]
        trading = keep(page(segment_name(instance, "trading")))
    except BaseException:
        for seg in opened:
            seg.close()
            if unlink_on_error:
                seg.unlink()
        raise
    return InstanceSegments(events, commands, engine, books, trading)


def create_segments(
    instance: str,
    n_books: int,
    *,
    event_ring_bytes: int,
    command_ring_bytes: int,
    page_bytes: int = PAGE_BYTES,
) -> InstanceSegments:
    """Create an instance's segments (owner-only).

    Raises:
        SegmentError: one exists already or cannot be made; nothing is left behind.
    """
    sizes = {segment_name(instance, "events"): event_ring_bytes}
    return _open_all(
        instance,
        n_books,
        lambda name: Ring.create(name, sizes.get(name, command_ring_bytes)),
        lambda name: StatePage.create(name, page_bytes),
        unlink_on_error=True,
    )


def attach_segments(instance: str, n_books: int) -> InstanceSegments:
    """Attach to a running instance's segments.

    Raises:
        SegmentError: one is missing or malformed; nothing is left open.
    """
    return _open_all(instance, n_books, Ring.attach, StatePage.attach, unlink_on_error=False)

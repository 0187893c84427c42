"""A gateway listener that records everything, and a wait that gives up (no timing asserted)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from engine.core.events import Fill, OrderUpdate, OrderUpdateKind


class Recorder:
    """A gateway listener that keeps everything it is told."""

    def __init__(self) -> None:
        self.updates: list[OrderUpdate] = []
        self.fills: list[Fill] = []
        self.links: list[tuple[bool, str]] = []
        self.events: list[OrderUpdate | Fill] = []

    def on_order_update(self, update: OrderUpdate) -> None:
        """Keep the update."""
        self.updates.append(update)
        self.events.append(update)

    def on_fill(self, fill: Fill) -> None:
        """Keep the fill."""
        self.fills.append(fill)
        self.events.append(fill)

    def on_gateway_link(self, venue: str, healthy: bool, reason: str) -> None:
        """Keep the link change."""
        self.links.append((healthy, reason))

    def kinds(self, client_order_id: str) -> list[OrderUpdateKind]:
        """The update kinds of one order, in order, duplicates removed when adjacent."""
        out: list[OrderUpdateKind] = []
        for u in self.updates:
            if u.client_order_id == client_order_id and (not out or out[-1] is not u.kind):
                out.append(u.kind)
        return out

    def of(self, client_order_id: str, kind: OrderUpdateKind) -> list[OrderUpdate]:
        """One order's updates of one kind."""
        return [u for u in self.updates if u.client_order_id == client_order_id and u.kind is kind]

    def unique_fills(self, client_order_id: str) -> dict[str, Fill]:
        """One order's fills by fill id (each may come twice)."""
        return {f.trade_id: f for f in self.fills if f.client_order_id == client_order_id}

    def story(self, client_order_id: str) -> list[str]:
        """One order's reports in order: update kinds and ``fill``, adjacent repeats removed."""
        out: list[str] = []
        for e in self.events:
            if e.client_order_id != client_order_id:
                continue
            word = "fill" if isinstance(e, Fill) else e.kind.value
            if not out or out[-1] != word:
                out.append(word)
        return out


async def until(condition: Callable[[], object], what: str, within_s: float = 10.0) -> None:
    """Wait for ``condition`` to hold (no timing is asserted; the limit only ends a hung test)."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)

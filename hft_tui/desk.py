"""The trading desk as the UI knows it: orders, positions, PnL, fills and alerts, latest first.

:class:`DeskTracker` folds the engine's trading page and its FILL and ALERT events into one frozen
:class:`Desk` per frame. The page is the truth for orders, positions and PnL; the fills log comes
from FILL events (the page lists no fills), and alerts are kept longer than the page's last twenty
by merging each page's alerts into a bounded history. It also learns each instrument's tick and
lot size from its book page, so orders on any instrument print on their own grid.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from engine.ipc.protocol import (
    AlertRow,
    BookView,
    EventKind,
    Flag,
    OrderRow,
    PositionRow,
    Record,
    TradingView,
)
from hft_tui.format import BookText, book_text

#: fills kept for the fills log, newest first
FILLS_KEPT = 200
#: alerts kept for the alerts screen, newest first
ALERTS_KEPT = 500
#: order states in which an order may still trade (and can be cancelled)
OPEN_STATES = frozenset(
    {"new", "submitted", "accepted", "partially_filled", "pending_cancel", "pending_replace"}
)
#: alert levels from least to most severe (ALERT events carry 1, 2, 3)
ALERT_LEVELS = ("info", "warning", "critical")


@dataclass(frozen=True, slots=True)
class Market:
    """One instrument's name and grids; the grids are empty until its first book page."""

    symbol: str
    tick_size: str = ""
    lot_size: str = ""

    @property
    def text(self) -> BookText | None:
        """Exact formatting for this instrument, or None while its grids are not known."""
        if not self.tick_size or not self.lot_size:
            return None
        return book_text(self.tick_size, self.lot_size)


@dataclass(frozen=True, slots=True)
class FillRow:
    """One of our fills, from a FILL event."""

    engine_ts: int
    """When the engine booked it, ns since the epoch."""
    instrument: int
    counter: int
    """The counter of the order's client id ``<instance>-<counter>``."""
    buy: bool
    price: int
    """Ticks."""
    size: int
    """Lots."""
    maker: bool
    """True when the order was resting (maker), False when it took liquidity."""


@dataclass(frozen=True, slots=True)
class Desk:
    """Orders, positions, PnL, fills and alerts at one frame."""

    page: TradingView | None
    """The latest trading page; None before the engine first wrote one."""
    fills: tuple[FillRow, ...]
    """Newest first."""
    alerts: tuple[AlertRow, ...]
    """Newest first, longer than the page's own list."""
    markets: tuple[Market, ...]
    """By dense instrument id."""
    alerts_raised: tuple[int, int, int]
    """ALERT events seen since the UI attached: info, warning, critical."""

    def market(self, instrument: int) -> Market:
        """The instrument's name and grids (a placeholder for an unknown id)."""
        if 0 <= instrument < len(self.markets):
            return self.markets[instrument]
        return Market(f"#{instrument}")

    def orders(self, instrument: int | None = None) -> list[OrderRow]:
        """Every order on the page (on one instrument when given), as the page lists them."""
        rows = self.page.orders if self.page is not None else []
        return [o for o in rows if instrument is None or o.instrument == instrument]

    def working(self, instrument: int | None = None) -> list[OrderRow]:
        """The orders that are still open, oldest first."""
        return [o for o in self.orders(instrument) if o.status in OPEN_STATES]

    def position(self, instrument: int) -> PositionRow | None:
        """The instrument's position row, or None when the page has none (flat, never traded)."""
        if self.page is None:
            return None
        return next((p for p in self.page.positions if p.instrument == instrument), None)

    def latest(self, instrument: int) -> OrderRow | None:
        """The ticket's last answer: the order our latest request placed on ``instrument``.

        Orders the engine tagged with a UI request number win (the highest number); before any,
        the order that changed last stands in.
        """
        rows = self.orders(instrument)
        if not rows:
            return None
        asked = [o for o in rows if o.request]
        if asked:
            return max(asked, key=lambda o: o.request)
        return max(rows, key=lambda o: o.ts_ns)


def order_counter(client_order_id: str) -> int | None:
    """The counter in a client order id ``<instance>-<counter>``, or None if it has none."""
    _, sep, counter = client_order_id.rpartition("-")
    return int(counter) if sep and counter.isdigit() else None


def _alert_key(alert: AlertRow) -> tuple[int, str, str, str]:
    return (alert.ts_ns, alert.level, alert.source, alert.message)


class DeskTracker:
    """Builds a :class:`Desk` from pages and events.

    Args:
        symbols: the engine's symbols by dense instrument id.
    """

    def __init__(self, symbols: Iterable[str]) -> None:
        self._markets = [Market(symbol) for symbol in symbols]
        self._page: TradingView | None = None
        self._fills: deque[FillRow] = deque(maxlen=FILLS_KEPT)
        self._alerts: deque[AlertRow] = deque(maxlen=ALERTS_KEPT)
        self._alert_keys: set[tuple[int, str, str, str]] = set()
        self._raised = [0, 0, 0]
        self._desk: Desk | None = None

    def unknown_grids(self) -> list[int]:
        """Instruments whose tick and lot sizes have not been seen on a book page yet."""
        return [n for n, m in enumerate(self._markets) if not m.tick_size]

    def on_book(self, view: BookView) -> None:
        """Learn an instrument's grids from its book page."""
        n = view.instrument
        if 0 <= n < len(self._markets) and not self._markets[n].tick_size:
            self._markets[n] = Market(view.symbol, view.tick_size, view.lot_size)
            self._desk = None

    @property
    def page(self) -> TradingView | None:
        """The latest trading page; None before the engine first wrote one."""
        return self._page

    def on_page(self, page: TradingView) -> None:
        """Take a new trading page; alerts not seen before join the history."""
        self._page = page
        self._desk = None
        for alert in page.alerts:  # oldest first on the page
            key = _alert_key(alert)
            if key in self._alert_keys:
                continue
            if len(self._alerts) == self._alerts.maxlen:
                self._alert_keys.discard(_alert_key(self._alerts[-1]))
            self._alerts.appendleft(alert)
            self._alert_keys.add(key)

    def on_event(self, rec: Record) -> bool:
        """Take a FILL or ALERT event; True when it was one."""
        if rec.kind == EventKind.FILL:
            fill = FillRow(
                engine_ts=rec.engine_ts,
                instrument=rec.instrument,
                counter=rec.seq,
                buy=bool(rec.flags & Flag.BUY),
                price=rec.price,
                size=rec.size,
                maker=rec.aux == 1,
            )
            self._fills.appendleft(fill)
        elif rec.kind == EventKind.ALERT:
            if 1 <= rec.aux <= len(self._raised):
                self._raised[rec.aux - 1] += 1
        else:
            return False
        self._desk = None
        return True

    def desk(self) -> Desk:
        """The desk as of now (the same object until something changes)."""
        if self._desk is None:
            info, warning, critical = self._raised
            self._desk = Desk(
                page=self._page,
                fills=tuple(self._fills),
                alerts=tuple(self._alerts),
                markets=tuple(self._markets),
                alerts_raised=(info, warning, critical),
            )
        return self._desk

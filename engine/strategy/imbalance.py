"""``imbalance``: trades on short-term order-book imbalance confirmed by trade flow.

Idea: the book imbalance over the best ``depth`` levels, ``(bids - asks) / (bids + asks)``, and
the trade-flow imbalance of the last ``flow_trades`` trades (taker buys minus sells over their
sum) both lean the same way before the price moves. The signal is their mean, in -1..1.

- ``mode = "take"``: when the book imbalance is past ``book_threshold_pct`` and the flow past
  ``flow_threshold_pct`` in the same direction, it takes a position of ``size_lots`` that way with
  a marketable IOC order; when the book imbalance turns past the threshold the other way it
  flips (or, with both signals quiet for ``hold_ms``, it closes).
- ``mode = "lean"``: it quotes one post-only bid and ask ``half_spread_ticks`` around the mid
  shifted by ``lean_ticks * signal``, so it buys more readily when the book leans up, and stops
  quoting the side that would take its position past ``max_position_lots``.

What to watch: the hit rate of "take" against the spread it pays; in "lean", adverse selection
(fills just before the price moves against it) and the inventory.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from engine.core.events import Fill, OrderUpdate, Trade
from engine.strategy.base import Params
from engine.strategy.context import BookReader
from engine.strategy.indicators import BookImbalance, TradeFlowImbalance
from engine.strategy.orders import work_both_sides
from engine.strategy.target_trader import TargetTrader


class ImbalanceParams(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The imbalance strategy's parameters."""

    instrument: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Dense id of the instrument traded."""
    mode: Literal["take", "lean"] = "take"
    """Take positions on strong signals, or lean resting quotes on them."""
    depth: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    """Book levels each side in the imbalance."""
    flow_trades: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 50
    """Trades in the trade-flow imbalance."""
    book_threshold_pct: Annotated[int, msgspec.Meta(ge=1, le=100)] = 40
    """Book imbalance (percent) that counts as a signal."""
    flow_threshold_pct: Annotated[int, msgspec.Meta(ge=0, le=100)] = 20
    """Trade-flow imbalance (percent) that confirms it."""
    size_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)] = 1
    """Position taken ("take") or size of each quote ("lean")."""
    max_position_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)] = 10
    """In "lean", the side that would go past this stops quoting."""
    hold_ms: Annotated[int, msgspec.Meta(ge=0, le=86_400_000)] = 5000
    """In "take", close after this long with no signal (0: hold until the opposite signal)."""
    slippage_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 2
    """How far through the touch its IOC orders may take."""
    half_spread_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 5
    """In "lean", distance of each quote from the shifted mid."""
    lean_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 5
    """In "lean", the mid's shift at a full signal."""
    requote_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 1
    """In "lean", a quote moves only when it is further than this from where it should be."""


class Imbalance(TargetTrader[ImbalanceParams]):
    """Book imbalance confirmed by trade flow; see the module docstring."""

    params_type = ImbalanceParams

    def __init__(self, name: str, params: ImbalanceParams) -> None:
        super().__init__(name, params)
        self.book_signal = BookImbalance(params.depth)
        self.flow = TradeFlowImbalance(params.flow_trades)
        self.entries = 0
        """Positions taken ("take")."""
        self._last_signal_ns = 0

    def on_params(self, old: ImbalanceParams, new: ImbalanceParams) -> None:
        """New windows start the signals again; a new mode or instrument cancels its orders."""
        if new.depth != old.depth:
            self.book_signal = BookImbalance(new.depth)
        if new.flow_trades != old.flow_trades:
            self.flow = TradeFlowImbalance(new.flow_trades)
        if (new.mode, new.instrument) != (old.mode, old.instrument):
            self.ctx.cancel_all(old.instrument)
        self.follow_params(new)

    def signal(self) -> float | None:
        """The mean of the book and flow imbalances, -1..1; None until both are known."""
        book, flow = self.book_signal.value, self.flow.value
        if book is None or flow is None:
            return None
        return (book + float(flow)) / 2

    def on_trade(self, trade: Trade) -> None:
        """Follow the trade flow."""
        self.flow.update(trade.size, trade.aggressor)

    def on_book(self, instrument: int, book: BookReader) -> None:
        """Read the book's imbalance and act on it."""
        ctx = self.ctx
        self.book_signal.update(book)
        if ctx.halted:
            ctx.cancel_all(instrument)
            return
        if self.params.mode == "take":
            self._take()
        else:
            self._lean(instrument, book)

    def _take(self) -> None:
        p = self.params
        target = self.target
        book, flow = self.book_signal.value, self.flow.value
        now = self.ctx.clock.monotonic_ns()
        if book is not None and flow is not None:
            side = 0
            if book * 100 >= p.book_threshold_pct and flow * 100 >= p.flow_threshold_pct:
                side = 1
            elif book * 100 <= -p.book_threshold_pct and flow * 100 <= -p.flow_threshold_pct:
                side = -1
            if side:
                self._last_signal_ns = now
                if target.target != side * p.size_lots:
                    self.entries += 1
                    target.target = side * p.size_lots
            elif p.hold_ms and target.target and now - self._last_signal_ns > p.hold_ms * 10**6:
                target.target = 0
        target.step()

    def _lean(self, instrument: int, book: BookReader) -> None:
        p = self.params
        signal = self.signal()
        bid, ask = book.best_bid(), book.best_ask()
        if signal is None or bid is None or ask is None or bid[0] >= ask[0]:
            return
        centre_x2 = bid[0] + ask[0] + round(2 * p.lean_ticks * signal)
        top_bid = min((centre_x2 - 2 * p.half_spread_ticks) // 2, ask[0] - 1)
        top_ask = max(-((-centre_x2 - 2 * p.half_spread_ticks) // 2), bid[0] + 1)
        held = self.ctx.position(instrument).net_lots
        bids = [(top_bid, p.size_lots)] if held + p.size_lots <= p.max_position_lots else []
        asks = [(top_ask, p.size_lots)] if held - p.size_lots >= -p.max_position_lots else []
        work_both_sides(self.ctx, instrument, bids, asks, p.requote_ticks)

    def on_fill(self, fill: Fill) -> None:
        """In "take", send the rest."""
        if self.params.mode == "take":
            self.target.step()

    def on_order(self, update: OrderUpdate) -> None:
        """In "take", an IOC ended: send the rest; a refusal pauses it for a second."""
        if self.params.mode == "take":
            self.target.on_order(update)

    def status(self) -> dict[str, object]:
        """Both signals, entries and the target."""
        flow = self.flow.value
        return {
            "book_imbalance": self.book_signal.value,
            "flow_imbalance": None if flow is None else float(flow),
            "entries": self.entries,
            "target_lots": self.target_lots(),
        }

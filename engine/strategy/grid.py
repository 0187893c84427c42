"""``grid``: resting buy and sell orders on a fixed price grid around an anchor.

Idea: at start the anchor is the mid rounded to the grid (``step_ticks``). Levels ``k`` in
``-levels .. levels`` sit at ``anchor + k * step_ticks``. With the strategy's own position at
``q`` lots, the current level is ``c = -q / size_lots`` rounded towards zero (each whole buy
moves it one level down, so a partly filled order stays where it is): it rests a buy of
``size_lots`` at every level below ``c`` and a sell at every level above it. So a filled
buy at level ``k`` is answered by a sell one level up, and the grid earns ``step_ticks`` per round
trip. The wanted orders follow from the position alone, so partial fills, refusals and restarts
need no memory. A position past the grid's end (more than ``levels`` orders filled one way)
counts as the end level, so the excess is sold (or bought) back one level inside the end.
Post-only prices on the wrong side of the touch wait until the touch moves.

With ``recenter_levels`` above 0 the grid moves its anchor to the mid once the mid is more than
that many levels away and the position is flat.

What to watch: a trend runs the position to ``levels * size_lots`` on one side and keeps it there
(the risk pipeline's position limit is the stop); ``step_ticks`` must beat two fees.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from engine.core.events import Fill, OrderUpdate, Side
from engine.strategy.base import Params, Strategy
from engine.strategy.context import BookReader
from engine.strategy.orders import work_levels


class GridParams(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The grid's parameters."""

    instrument: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Dense id of the instrument traded."""
    step_ticks: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 100
    """Distance between levels."""
    levels: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    """Levels each side of the anchor."""
    size_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)] = 1
    """Size of each order."""
    recenter_levels: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0
    """Move the anchor when flat and the mid is this many levels away (0: never)."""


class Grid(Strategy[GridParams]):
    """A buy below and a sell above each level it is at; see the module docstring."""

    params_type = GridParams

    def __init__(self, name: str, params: GridParams) -> None:
        super().__init__(name, params)
        self.instruments = (params.instrument,)
        self.anchor: int | None = None
        """The grid's level 0 in ticks; set at the first two-sided book."""
        self.recentered = 0

    def on_params(self, old: GridParams, new: GridParams) -> None:
        """A new step or instrument anchors the grid again at the next book."""
        if (old.step_ticks, old.instrument) != (new.step_ticks, new.instrument):
            self.ctx.cancel_all(old.instrument)
            self.anchor = None
        self.instruments = (new.instrument,)

    def wanted(self, held: int) -> tuple[dict[int, int], dict[int, int]]:
        """The (bids, asks) wanted, price -> size, with ``held`` lots of position."""
        if self.anchor is None:
            return {}, {}
        p = self.params
        current = -(held // p.size_lots) if held >= 0 else -held // p.size_lots
        current = max(-p.levels, min(p.levels, current))  # past an end: the end level
        step, size = p.step_ticks, p.size_lots
        bids = {self.anchor + k * step: size for k in range(-p.levels, current)}
        asks = {self.anchor + k * step: size for k in range(current + 1, p.levels + 1)}
        return {k: v for k, v in bids.items() if k > 0}, asks

    def _work(self, instrument: int) -> None:
        ctx = self.ctx
        if ctx.halted:
            ctx.cancel_all(instrument)
            return
        book = ctx.book(instrument)
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None or bid[0] >= ask[0]:
            return
        p = self.params
        held = ctx.position(instrument).net_lots
        mid = (bid[0] + ask[0]) // 2
        grid_mid = mid - mid % p.step_ticks
        if self.anchor is None or (
            p.recenter_levels
            and held == 0
            and abs(grid_mid - self.anchor) > p.recenter_levels * p.step_ticks
        ):
            self.recentered += self.anchor is not None
            self.anchor = grid_mid
        bids, asks = self.wanted(held)
        work_levels(ctx, instrument, Side.BUY, {k: v for k, v in bids.items() if k < ask[0]})
        work_levels(ctx, instrument, Side.SELL, {k: v for k, v in asks.items() if k > bid[0]})

    def on_book(self, instrument: int, book: BookReader) -> None:
        """Keep the wanted orders resting."""
        self._work(instrument)

    def on_fill(self, fill: Fill) -> None:
        """A level filled: the wanted orders move one level."""
        self._work(fill.instrument)

    def on_order(self, update: OrderUpdate) -> None:
        """Nothing: the next book or fill works the grid again."""

    def status(self) -> dict[str, object]:
        """Anchor and recentres."""
        return {"anchor_ticks": self.anchor, "recentered": self.recentered}

"""The reference market maker: quotes both sides around a fair price, leaning on its inventory.

Idea: rest ``levels`` bids and asks around a fair price, the mid or the microprice (the touch's
size-weighted mid), ``half_spread_ticks`` away, ``level_step_ticks`` apart. Inventory moves the
quotes: at ``q`` lots of ``max_inventory_lots`` the centre shifts by ``skew_ticks * q / max``
(long: both quotes lower, so it sells more readily) and each side widens by
``widen_ticks * |q| / max``; at the maximum it stops quoting the side that would add to it.
It requotes (replaces) a level only when the wanted price differs from the resting one by more
than ``requote_ticks`` or its size changed, so small flickers of the book cost no orders.

All price arithmetic is exact (integers over one common denominator): the bid is rounded down
and the ask up, so a quote is never tighter than asked for, and post-only quotes are kept off the
other side of the touch. While trading is halted it cancels its quotes and sends nothing.

What to watch: its refusals (``stats().refused``), inventory against ``max_inventory_lots``, and
the requote count: a threshold too small sends an order for every tick the book moves.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from engine.core.commands import TimeInForce
from engine.core.events import OrderUpdate, OrderUpdateKind, Side
from engine.oms.order import OrderStatus
from engine.strategy.base import Params, Strategy
from engine.strategy.context import BookReader, OpenOrder, StrategyContext


class MarketMakerParams(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The market maker's parameters."""

    instrument: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Dense id of the instrument quoted."""
    fair: Literal["mid", "microprice"] = "mid"
    """The price quoted around."""
    half_spread_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 10
    """Distance from the fair price to the first level on each side."""
    size_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)] = 1
    """Size of each quote."""
    levels: Annotated[int, msgspec.Meta(ge=1, le=20)] = 1
    """Quotes per side."""
    level_step_ticks: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 10
    """Distance between a side's levels."""
    max_inventory_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)] = 100
    """Inventory at which skew and widening are full and the growing side stops."""
    skew_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    """Centre shift at full inventory (against the inventory)."""
    widen_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    """Extra half spread at full inventory."""
    requote_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    """A resting quote is moved only when the wanted price is further away than this."""
    post_only: bool = True
    """Quote post-only (never take)."""


_CANCELING = OrderStatus.PENDING_CANCEL
Quote = tuple[int, int]
"""(price ticks, size lots)."""


class MarketMaker(Strategy[MarketMakerParams]):
    """Two-sided quotes with inventory skew and widening; see the module docstring."""

    params_type = MarketMakerParams

    def __init__(self, name: str, params: MarketMakerParams) -> None:
        super().__init__(name, params)
        self.instruments = (params.instrument,)
        self.decisions = 0
        """Book updates it decided quotes for."""
        self.requotes = 0
        """Quotes it moved."""
        self.last_refusal = ""
        """The reason of the last order risk or the OMS refused."""

    def on_params(self, old: MarketMakerParams, new: MarketMakerParams) -> None:
        """Follow a new instrument; the next book update requotes with the new values."""
        if new.instrument != old.instrument:
            self.ctx.cancel_all(old.instrument)
            self.instruments = (new.instrument,)

    def on_order(self, update: OrderUpdate) -> None:
        """Remember why an order was refused (the next book update decides again)."""
        if update.kind in (OrderUpdateKind.REJECTED, OrderUpdateKind.REPLACE_REJECTED):
            self.last_refusal = update.reason

    def on_book(self, instrument: int, book: BookReader) -> None:
        """Decide the wanted quotes and move the resting ones that drifted too far."""
        ctx = self.ctx
        p = self.params
        if ctx.halted:
            ctx.cancel_all(instrument)
            return
        wanted = self.quotes(book, ctx.net_lots(instrument))
        if wanted is None:
            return
        self.decisions += 1
        bids, asks = _by_side(ctx.open_orders(instrument))
        # Move the side going away from the other first, so a quote never crosses our own.
        rising = bool(wanted[0] and bids and wanted[0][0][0] > bids[0].price_ticks)
        sides = [(Side.BUY, wanted[0], bids), (Side.SELL, wanted[1], asks)]
        for side, quotes, mine in reversed(sides) if rising else sides:
            self._work_side(ctx, instrument, side, quotes, mine, p.requote_ticks)

    def quotes(self, book: BookReader, inventory: int) -> tuple[list[Quote], list[Quote]] | None:
        """The wanted (bids, asks), best first, or None when the book has no two-sided touch."""
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None or bid[0] >= ask[0]:
            return None
        p = self.params
        # fair = fair_num / fair_den, ratio = held / cap; centre and half are numerators over
        # den = fair_den * cap, so the floor and the ceiling are exact integer divisions.
        if p.fair == "microprice":
            fair_num, fair_den = bid[0] * ask[1] + ask[0] * bid[1], bid[1] + ask[1]
        else:
            fair_num, fair_den = bid[0] + ask[0], 2
        cap = p.max_inventory_lots
        held = max(-cap, min(cap, inventory))
        den = fair_den * cap
        centre = fair_num * cap - p.skew_ticks * held * fair_den
        half = p.half_spread_ticks * den + p.widen_ticks * abs(held) * fair_den
        top_bid = (centre - half) // den
        top_ask = -((-centre - half) // den)  # ceiling of (centre + half) / den
        if p.post_only:
            top_bid = min(top_bid, ask[0] - 1)
            top_ask = max(top_ask, bid[0] + 1)
        step, size = p.level_step_ticks, p.size_lots
        bids = (
            []
            if inventory >= p.max_inventory_lots
            else [(top_bid - k * step, size) for k in range(p.levels) if top_bid - k * step > 0]
        )
        asks = (
            []
            if inventory <= -p.max_inventory_lots
            else [(top_ask + k * step, size) for k in range(p.levels)]
        )
        return bids, asks

    def _work_side(
        self,
        ctx: StrategyContext,
        instrument: int,
        side: Side,
        wanted: list[Quote],
        mine: list[OpenOrder],
        threshold: int,
    ) -> None:
        tif = TimeInForce.POST_ONLY if self.params.post_only else TimeInForce.GTC
        for k, (price, size) in enumerate(wanted):
            if k >= len(mine):
                ctx.submit(instrument, side, size, price, time_in_force=tif)
                continue
            order = mine[k]
            if abs(order.price_ticks - price) <= threshold and order.leaves_lots == size:
                continue
            if order.working:
                ctx.replace(order.client_order_id, price, order.filled_lots + size)
                self.requotes += 1
        for order in mine[len(wanted) :]:
            ctx.cancel(order.client_order_id)


def _by_side(orders: list[OpenOrder]) -> tuple[list[OpenOrder], list[OpenOrder]]:
    """``(bids, asks)``: each side's quotes not being canceled, best first (one pass)."""
    bids: list[OpenOrder] = []
    asks: list[OpenOrder] = []
    for o in orders:
        if o.status is not _CANCELING:
            (bids if o.side is Side.BUY else asks).append(o)
    if len(bids) > 1:
        bids.sort(key=_bid_key)
    if len(asks) > 1:
        asks.sort(key=_ask_key)
    return bids, asks


def _bid_key(order: OpenOrder) -> int:
    return -order.price_ticks


def _ask_key(order: OpenOrder) -> int:
    return order.price_ticks

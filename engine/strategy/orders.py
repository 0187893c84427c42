"""Order helpers the reference strategies share: taking to a target, and working resting quotes.

:class:`PositionTarget` moves a strategy's own position on one instrument towards a target with
marketable limit orders (IOC, ``slippage_ticks`` through the touch, never more than
``max_order_lots`` at once), one order at a time: while one is open nothing else is sent, so a
refusal or a partial fill is simply retried from the position that results.

:func:`work_quotes` keeps one side's resting orders on a wanted list of (price, size), best first:
an order within ``requote_ticks`` of its wanted price with the wanted size stays, one that drifted
is replaced, extras are canceled and missing ones sent. :func:`work_levels` does the same by exact
price (a grid's orders never move; unwanted prices are canceled and missing ones sent).

Every action goes through the context, so through the risk pipeline like every order.
"""

from __future__ import annotations

from engine.core.commands import TimeInForce
from engine.core.events import OrderUpdate, OrderUpdateKind, Side
from engine.oms.order import OrderStatus
from engine.strategy.context import BookReader, OpenOrder, StrategyContext

REFUSAL_PAUSE_NS = 1_000_000_000
"""After a refused order, :class:`PositionTarget` sends nothing for this long (1 s)."""
Quote = tuple[int, int]
"""(price ticks, size lots)."""


def marketable_price(book: BookReader, side: Side, slippage_ticks: int) -> int | None:
    """A limit price taking the touch on ``side``, ``slippage_ticks`` through it.

    None when the other side is empty or the book is crossed.
    """
    bid, ask = book.best_bid(), book.best_ask()
    if bid is None or ask is None or bid[0] >= ask[0]:
        return None
    if side is Side.BUY:
        return ask[0] + slippage_ticks
    return max(1, bid[0] - slippage_ticks)


class PositionTarget:
    """Takes the strategy's position on one instrument to a target, one IOC order at a time.

    Args:
        ctx: the strategy's context.
        instrument: the instrument traded.
        max_order_lots: the largest order sent.
        slippage_ticks: how far through the touch the limit price goes.
    """

    def __init__(
        self, ctx: StrategyContext, instrument: int, max_order_lots: int, slippage_ticks: int
    ) -> None:
        self.ctx = ctx
        self.instrument = instrument
        self.max_order_lots = max_order_lots
        self.slippage_ticks = slippage_ticks
        self.target = 0
        """Wanted net lots (positive long)."""
        self.limit_ticks = 0
        """The worst price accepted: a buy never above it, a sell never below it (0: none)."""
        self.orders = 0
        """Orders sent so far."""
        self._last = ""
        self._quiet_until = 0
        self.refused = 0
        """Its orders refused (by risk, the OMS or the venue)."""
        self.last_refusal = ""

    def follow(self, instrument: int, max_order_lots: int, slippage_ticks: int) -> None:
        """Take new parameters; the target stays, unless the instrument changed (then it is 0)."""
        if instrument != self.instrument:
            self.instrument = instrument
            self.target = 0
            self._last = ""
        self.max_order_lots = max_order_lots
        self.slippage_ticks = slippage_ticks

    def gap(self) -> int:
        """Target minus the position now."""
        return self.target - self.ctx.position(self.instrument).net_lots

    def step(self) -> str | None:
        """Send the next order towards the target, if none is open and the book allows.

        Returns:
            The order's client id, or None when nothing was sent.
        """
        ctx = self.ctx
        if self._last and not ctx.owns(self._last):
            return None  # sent in this callback, not flushed yet
        if ctx.halted or ctx.open_orders(self.instrument):
            return None
        if self._quiet_until and ctx.clock.monotonic_ns() < self._quiet_until:
            return None
        gap = self.gap()
        if gap == 0:
            return None
        side = Side.BUY if gap > 0 else Side.SELL
        price = marketable_price(ctx.book(self.instrument), side, self.slippage_ticks)
        if price is None:
            return None
        limit = self.limit_ticks
        if limit:
            price = min(price, limit) if side is Side.BUY else max(price, limit)
        size = min(abs(gap), self.max_order_lots)
        self.orders += 1
        self._last = ctx.submit(self.instrument, side, size, price, time_in_force=TimeInForce.IOC)
        return self._last

    def on_order(self, update: OrderUpdate) -> None:
        """Follow one of the strategy's order updates; sends the next order if one is due.

        After a refusal of its own order it pauses ``REFUSAL_PAUSE_NS``: a refusal is not
        answered at once with the same order.
        """
        if update.kind is OrderUpdateKind.REJECTED and update.client_order_id == self._last:
            self.refused += 1
            self.last_refusal = update.reason
            self._quiet_until = self.ctx.clock.monotonic_ns() + REFUSAL_PAUSE_NS
            return
        self.step()


def _live(orders: list[OpenOrder], side: Side) -> list[OpenOrder]:
    """One side's orders not being canceled, best first."""
    mine = [o for o in orders if o.side is side and o.status is not OrderStatus.PENDING_CANCEL]
    mine.sort(key=lambda o: -o.price_ticks if side is Side.BUY else o.price_ticks)
    return mine


def work_quotes(
    ctx: StrategyContext,
    instrument: int,
    side: Side,
    wanted: list[Quote],
    requote_ticks: int,
    tif: TimeInForce = TimeInForce.POST_ONLY,
) -> int:
    """Keep ``side``'s resting orders on ``wanted`` (best first); returns the actions taken."""
    mine = _live(ctx.open_orders(instrument), side)
    actions = 0
    for k, (price, size) in enumerate(wanted):
        if k >= len(mine):
            ctx.submit(instrument, side, size, price, time_in_force=tif)
            actions += 1
            continue
        order = mine[k]
        if abs(order.price_ticks - price) <= requote_ticks and order.leaves_lots == size:
            continue
        if order.working:
            ctx.replace(order.client_order_id, price, order.filled_lots + size)
            actions += 1
    for order in mine[len(wanted) :]:
        ctx.cancel(order.client_order_id)
        actions += 1
    return actions


def work_both_sides(
    ctx: StrategyContext,
    instrument: int,
    bids: list[Quote],
    asks: list[Quote],
    requote_ticks: int,
    tif: TimeInForce = TimeInForce.POST_ONLY,
) -> int:
    """:func:`work_quotes` on both sides, the side moving away from the other first.

    When the quotes rise the asks move first, when they fall the bids do, so a moved quote never
    meets one of the strategy's own on the other side.

    Returns:
        The actions taken.
    """
    mine = _live(ctx.open_orders(instrument), Side.BUY)
    rising = bool(bids and mine and bids[0][0] > mine[0].price_ticks)
    if rising:
        done = work_quotes(ctx, instrument, Side.SELL, asks, requote_ticks, tif)
        return done + work_quotes(ctx, instrument, Side.BUY, bids, requote_ticks, tif)
    done = work_quotes(ctx, instrument, Side.BUY, bids, requote_ticks, tif)
    return done + work_quotes(ctx, instrument, Side.SELL, asks, requote_ticks, tif)


def work_levels(
    ctx: StrategyContext,
    instrument: int,
    side: Side,
    wanted: dict[int, int],
    tif: TimeInForce = TimeInForce.POST_ONLY,
) -> int:
    """Keep ``side``'s resting orders at exactly the prices of ``wanted`` (price -> size).

    An order at a wanted price stays whatever is left of it; one at any other price is canceled.

    Returns:
        The actions taken.
    """
    actions = 0
    resting: set[int] = set()
    for order in _live(ctx.open_orders(instrument), side):
        if order.price_ticks in wanted and order.price_ticks not in resting:
            resting.add(order.price_ticks)
        else:
            ctx.cancel(order.client_order_id)
            actions += 1
    for price, size in sorted(wanted.items()):
        if price not in resting:
            ctx.submit(instrument, side, size, price, time_in_force=tif)
            actions += 1
    return actions

"""The simulated matching core: our orders against an L2 mirror of one instrument's public book.

One core per instrument, used by backtests, by paper trading on the live book and behind the local
venue (:mod:`engine.sim.server`). It is pure and deterministic: no IO, no clock of its own; every
entry point takes the exchange time ``ts`` (integer ns) and returns the reports it caused, in order:
:class:`~engine.core.events.OrderUpdate` and :class:`~engine.core.events.Fill`.

Market data (prices in ticks, sizes in lots): :meth:`~MatchingCore.on_snapshot`,
:meth:`~MatchingCore.on_level` (the absolute new size at one price, 0 deletes),
:meth:`~MatchingCore.on_delta` (int64 arrays as in :class:`~engine.core.events.BookDelta`) and
:meth:`~MatchingCore.on_trade`. Feed only the market's own trades: what our orders took is already
applied (the local venue prints it for the public, and must not feed it back).

Commands: :meth:`~MatchingCore.submit`, :meth:`~MatchingCore.cancel`,
:meth:`~MatchingCore.replace`, :meth:`~MatchingCore.cancel_all`, or :meth:`~MatchingCore.handle`
for any of them. The rules:

* An order is ACCEPTED before any fill; refusals are REJECTED (``"Duplicate order sent."`` for the
  client id of an open order; post-only that would take, from the public book or from one of our
  own opposite orders: ``"Order would immediately match and take."``; a reduce-only order that
  would grow or flip the position, i.e. flat, the wrong way, or larger than the position).
* Aggressive orders walk the mirror best-first up to their limit (a market order has none), one
  taker Fill per level at the level's price. Lots taken are remembered per level and not taken
  again until the feed next reports that level. IOC and market remainders EXPIRE; FOK fills all at
  once or EXPIRES with no fill; a GTC limit rests its remainder.
* A resting order queues behind the public size at its price when it arrived (see
  :mod:`engine.sim.queue`). A trade at its price with the opposite aggressor advances the queue and
  its excess beyond ``ahead`` fills us; a trade strictly through our price fills all leaves; an
  opposite level reported at or through our price fills all leaves at our price. Resting fills are
  maker fills.
* Self-trade prevention (:class:`StpMode`) applies when an incoming order's walk reaches the price
  of one of our resting opposite orders; expired orders get EXPIRED ``"self-trade prevention"``.
  With ``NONE`` the orders trade with each other (a taker and a maker fill of ours).
* Reduce-only fills never exceed the position; a reduce-only order the position no longer allows
  (flat, or the wrong way) EXPIRES.
* Replace: the same price and a smaller size keeps the queue position; any other change re-enters
  at the back at the new price and may take. Unknown ids get ``"Unknown order sent."``.

``venue_order_id`` and ``trade_id`` are decimal strings from per-core counters. The mechanics
(taker walk, maker fills, endings) live in :mod:`engine.sim.matcher`, the public-book mirror in
:mod:`engine.sim.mirror`, our resting orders in :mod:`engine.sim.resting`.
"""

from __future__ import annotations

import msgspec

from engine.core.commands import (
    CancelAll,
    CancelOrder,
    OrderType,
    ReplaceOrder,
    SubmitOrder,
    TimeInForce,
)
from engine.core.events import (
    BookDelta,
    BookSnapshot,
    Int64Array,
    OrderUpdateKind,
    Side,
    Trade,
)
from engine.sim.matcher import (
    REDUCE_ONLY_EXPIRED,
    SELF_TRADE,
    Matcher,
    Report,
    StpMode,
    opposite,
)
from engine.sim.mirror import MarketDataError, check_level, level_lists
from engine.sim.resting import LIVE, OrderView, SimOrder, view

__all__ = [
    "DUPLICATE_ORDER",
    "POST_ONLY_WOULD_TAKE",
    "REDUCE_ONLY_EXPIRED",
    "REDUCE_ONLY_REFUSED",
    "SELF_TRADE",
    "UNKNOWN_ORDER",
    "Command",
    "MarketDataError",
    "MatchingCore",
    "MatchingStats",
    "OrderView",
    "Report",
    "StpMode",
]

Command = SubmitOrder | CancelOrder | ReplaceOrder | CancelAll
"""What the core accepts."""

POST_ONLY_WOULD_TAKE = "Order would immediately match and take."
UNKNOWN_ORDER = "Unknown order sent."
DUPLICATE_ORDER = "Duplicate order sent."
REDUCE_ONLY_REFUSED = "Reduce-only order would grow or flip the position."

_K = OrderUpdateKind


class MatchingStats(msgspec.Struct, frozen=True, kw_only=True):
    """What one core has done since it was made."""

    orders: int
    """Orders submitted (refused ones included)."""
    rejects: int
    fills: int
    cancels: int
    """Orders canceled on request (one by one or by cancel-all)."""
    replaces: int
    expired: int
    events: int
    """Market events applied: snapshots, level reports, deltas and trades."""
    open_orders: int


class MatchingCore(Matcher):
    """Matches our orders for one instrument against an L2 mirror of its public book.

    Args:
        instrument: the instrument matched; its ``instrument_id`` must match every command's.
        fees: maker and taker rates (put on the instrument's grid here); no fees when omitted.
        queue: the queue-position model; :class:`~engine.sim.queue.ConservativeQueue` by default.
        stp: self-trade prevention mode (:attr:`StpMode.EXPIRE_TAKER` by default).
        venue: the venue name in reports; the instrument's venue by default.
        keep_closed: how many finished orders :meth:`order` still answers for.
    """

    # ---------------------------------------------------------------- inspection

    @property
    def best_bid(self) -> int | None:
        """The mirror's best bid in ticks, or None."""
        return self.mirror.bids.best()

    @property
    def best_ask(self) -> int | None:
        """The mirror's best ask in ticks, or None."""
        return self.mirror.asks.best()

    @property
    def stats(self) -> MatchingStats:
        """Counters since the core was made."""
        return MatchingStats(
            orders=self._orders,
            rejects=self._rejects,
            fills=self._fills,
            cancels=self._cancels,
            replaces=self._replaces,
            expired=self._expired,
            events=self._events,
            open_orders=len(self._open),
        )

    def order(self, client_order_id: str) -> OrderView | None:
        """One open or recently finished order, or None when the core does not know it."""
        order = self._open.get(client_order_id) or self._closed.get(client_order_id)
        return None if order is None else view(order)

    def open_orders(self) -> list[OrderView]:
        """Every open order, oldest first."""
        return [view(order) for order in self._open.values()]

    # ---------------------------------------------------------------- commands

    def handle(self, command: Command, ts: int) -> list[Report]:
        """Apply any command at exchange time ``ts``."""
        if isinstance(command, SubmitOrder):
            return self.submit(command, ts)
        if isinstance(command, CancelOrder):
            return self.cancel(command, ts)
        if isinstance(command, ReplaceOrder):
            return self.replace(command, ts)
        return self.cancel_all(command, ts)

    def submit(self, command: SubmitOrder, ts: int) -> list[Report]:
        """A new order arrives: refused, or accepted and then matched and/or rested."""
        self._orders += 1
        out: list[Report] = []
        reason = self._refusal(command)
        if reason:
            self._rejects += 1
            out.append(
                self._update(
                    command.client_order_id,
                    _K.REJECTED,
                    ts,
                    reason=reason,
                    price=command.price_ticks,
                    size=command.size_lots,
                )
            )
            return out
        is_market = command.order_type is OrderType.MARKET
        order = SimOrder(
            command.client_order_id,
            str(self._next_order_id),
            command.side,
            0 if is_market else command.price_ticks,
            command.size_lots,
            command.order_type,
            command.time_in_force,
            command.reduce_only,
        )
        self._next_order_id += 1
        self._open[order.client_order_id] = order
        if order.reduce_only:
            self._reduce_only[order.client_order_id] = order
        out.append(self._order_update(order, _K.ACCEPTED, ts))
        self._execute(order, ts, out)
        self._settle(ts, out)
        return out

    def cancel(self, command: CancelOrder, ts: int) -> list[Report]:
        """Cancel one open order; CANCEL_REJECTED ``"Unknown order sent."`` when none is open."""
        order = self._open.get(command.client_order_id)
        if order is None or command.instrument != self.instrument_id:
            return [
                self._update(command.client_order_id, _K.CANCEL_REJECTED, ts, reason=UNKNOWN_ORDER)
            ]
        out: list[Report] = []
        self._cancel(order, ts, out)
        return out

    def cancel_all(self, command: CancelAll, ts: int) -> list[Report]:
        """Cancel every open order, oldest first, when the command names this instrument (or -1)."""
        if command.instrument not in (-1, self.instrument_id):
            return []
        out: list[Report] = []
        for order in list(self._open.values()):
            self._cancel(order, ts, out)
        return out

    def replace(self, command: ReplaceOrder, ts: int) -> list[Report]:
        """Change an open order's price and/or size (see the module docstring for priority)."""
        order = self._open.get(command.client_order_id)
        if order is None or command.instrument != self.instrument_id:
            return [
                self._update(command.client_order_id, _K.REPLACE_REJECTED, ts, reason=UNKNOWN_ORDER)
            ]
        price, size = command.price_ticks, command.size_lots
        reason = self._replace_refusal(order, price, size)
        if reason:
            return [self._order_update(order, _K.REPLACE_REJECTED, ts, reason=reason)]
        self._replaces += 1
        out: list[Report] = []
        if price == order.price and size < order.size:
            order.size = size
            out.append(self._order_update(order, _K.REPLACED, ts))
            return out
        self._resting[order.side].remove(order)
        order.price, order.size = price, size
        out.append(self._order_update(order, _K.REPLACED, ts))
        self._execute(order, ts, out)
        self._settle(ts, out)
        return out

    # ---------------------------------------------------------------- market data

    def on_level(self, side: Side, price: int, size: int, ts: int) -> list[Report]:
        """One public level's new absolute size (0 deletes it)."""
        check_level(self.instrument.key, side, price, size)
        self._events += 1
        out: list[Report] = []
        self._level(side, price, size, ts, out)
        self._settle(ts, out)
        return out

    def on_delta(
        self,
        bid_px: Int64Array,
        bid_sz: Int64Array,
        ask_px: Int64Array,
        ask_sz: Int64Array,
        ts: int,
    ) -> list[Report]:
        """A book delta: absolute new sizes for changed levels, bids then asks.

        Raises:
            MarketDataError: arrays of unequal length, a price <= 0 or a negative size.
        """
        where = self.instrument.key
        bid_prices, bid_sizes = level_lists(where, Side.BUY, bid_px, bid_sz)
        ask_prices, ask_sizes = level_lists(where, Side.SELL, ask_px, ask_sz)
        self._events += 1
        out: list[Report] = []
        if bid_prices:
            self._levels(Side.BUY, bid_prices, bid_sizes, ts, out, bid_px, bid_sz)
        if ask_prices:
            self._levels(Side.SELL, ask_prices, ask_sizes, ts, out, ask_px, ask_sz)
        self._settle(ts, out)
        return out

    def on_snapshot(
        self,
        bid_px: Int64Array,
        bid_sz: Int64Array,
        ask_px: Int64Array,
        ask_sz: Int64Array,
        ts: int,
    ) -> list[Report]:
        """A full book replacing the mirror; queue positions are capped at the new sizes.

        Raises:
            MarketDataError: arrays of unequal length, a price <= 0 or a negative size.
        """
        where = self.instrument.key
        sides = (
            (Side.BUY, level_lists(where, Side.BUY, bid_px, bid_sz)),
            (Side.SELL, level_lists(where, Side.SELL, ask_px, ask_sz)),
        )
        self._events += 1
        for side, (prices, sizes) in sides:
            book, resting = self.mirror.side(side), self._resting[side]
            before = [
                (price, book.size(price), book.traded.get(price, 0)) for price in resting.prices
            ]
            book.reset(prices, sizes)
            for price, prev, traded in before:
                self._requeue(resting.levels[price], prev, book.size(price), traded)
        out: list[Report] = []
        for side in (Side.BUY, Side.SELL):
            best = self.mirror.side(opposite(side)).best_available()
            if best is not None:
                self._fill_crossed(side, best, ts, out)
        self._settle(ts, out)
        return out

    def on_trade(self, price: int, size: int, aggressor: Side, ts: int) -> list[Report]:
        """A public trade: fills resting orders it reaches or trades through."""
        if price <= 0 or size < 0:
            check_level(self.instrument.key, aggressor, price, size, "trade")
        self._events += 1
        passive = opposite(aggressor)
        self.mirror.side(passive).add_traded(price, size)
        resting = self._resting[passive]
        mine = resting.best()
        if mine is None or (mine < price if passive is Side.BUY else mine > price):
            return []  # none of ours at or through the price: no fill, no queue to move
        out: list[Report] = []
        for level_price in resting.reaching(price, strict=True):
            for order in list(resting.levels[level_price]):
                self._fill_maker(order, level_price, order.leaves, ts, out)
        queue = resting.at(price)
        if queue:
            used = 0
            for order in list(queue):
                before = used
                excess = size - order.ahead - before
                if excess > 0:
                    used += self._fill_maker(order, price, min(order.leaves, excess), ts, out)
                if order.status in LIVE:
                    order.ahead -= min(order.ahead, max(0, size - before))
        self._settle(ts, out)
        return out

    def apply_snapshot(self, snapshot: BookSnapshot) -> list[Report]:
        """:meth:`on_snapshot` from a snapshot event, at its ``exch_ts``."""
        s = snapshot
        return self.on_snapshot(s.bid_px, s.bid_sz, s.ask_px, s.ask_sz, s.exch_ts)

    def apply_delta(self, delta: BookDelta) -> list[Report]:
        """:meth:`on_delta` from a delta event, at its ``exch_ts``."""
        d = delta
        return self.on_delta(d.bid_px, d.bid_sz, d.ask_px, d.ask_sz, d.exch_ts)

    def apply_trade(self, trade: Trade) -> list[Report]:
        """:meth:`on_trade` from a trade event, at its ``exch_ts``."""
        return self.on_trade(trade.price, trade.size, trade.aggressor, trade.exch_ts)

    # ---------------------------------------------------------------- refusals

    def _refusal(self, command: SubmitOrder) -> str:
        """Why a new order is refused, or "" when it is accepted."""
        if command.instrument != self.instrument_id:
            return (
                f"Unknown instrument {command.instrument}: this core matches "
                f"{self.instrument.key} (instrument {self.instrument_id})."
            )
        if command.size_lots <= 0:
            return f"Invalid quantity: {command.size_lots} lots must be positive."
        is_market = command.order_type is OrderType.MARKET
        if not is_market and command.price_ticks <= 0:
            return f"Invalid price: {command.price_ticks} ticks must be positive."
        if is_market and command.time_in_force is TimeInForce.POST_ONLY:
            return "A market order cannot be post-only."
        if command.client_order_id in self._open:
            return DUPLICATE_ORDER
        if command.reduce_only and command.size_lots > self._reducible(command.side):
            return REDUCE_ONLY_REFUSED
        if command.time_in_force is TimeInForce.POST_ONLY and self._would_take(
            command.side, command.price_ticks
        ):
            return POST_ONLY_WOULD_TAKE
        return ""

    def _replace_refusal(self, order: SimOrder, price: int, size: int) -> str:
        """Why a replace is refused, or "" when it takes effect."""
        if size <= order.filled:
            return f"New size {size} lots must exceed the {order.filled} lots already filled."
        if price <= 0:
            return f"Invalid price: {price} ticks must be positive."
        if order.reduce_only and size - order.filled > self._reducible(order.side):
            return REDUCE_ONLY_REFUSED
        if order.time_in_force is TimeInForce.POST_ONLY and self._would_take(order.side, price):
            return POST_ONLY_WOULD_TAKE
        return ""

    def _levels(
        self,
        side: Side,
        prices: list[int],
        sizes: list[int],
        ts: int,
        out: list[Report],
        px: Int64Array | None = None,
        sz: Int64Array | None = None,
    ) -> None:
        """One side of a delta, exactly as :meth:`_level` for each level in turn would apply it.

        Only levels where one of our orders rests (a queue to move) or that reach one of our
        opposite orders (a fill) go through :meth:`_level`, in their order; the rest, which
        change nothing but the mirror, are recorded in one batch. Applying the batch first
        changes nothing: every level touches only its own price, and the levels picked are
        picked against the orders before the delta, a superset of what :meth:`_level` acts on
        (a delta only takes orders away). A price reported twice goes level by level. ``px`` and
        ``sz`` are the same levels as the delta's arrays, when there are any.
        """
        queued = self._resting[side].levels
        mine = self._resting[opposite(side)].best()
        watched = queued.keys() & prices if queued else None
        is_ask = side is Side.SELL
        edge = 0 if mine is None else mine
        crosses = mine is not None and (min(prices) <= edge if is_ask else max(prices) >= edge)
        book = self.mirror.side(side)
        if not watched and not crosses:
            book.update(prices, sizes, px, sz)
            return
        if len(set(prices)) != len(prices):
            for price, size in zip(prices, sizes, strict=True):
                self._level(side, price, size, ts, out)
            return
        picked: list[int] = []
        rest: list[int] = []
        for i, price in enumerate(prices):
            if (watched and price in watched) or (
                crosses and sizes[i] and (price <= edge if is_ask else price >= edge)
            ):
                picked.append(i)
            else:
                rest.append(i)
        if rest:
            book.update([prices[i] for i in rest], [sizes[i] for i in rest])
        for i in picked:
            self._level(side, prices[i], sizes[i], ts, out)

    def _level(self, side: Side, price: int, size: int, ts: int, out: list[Report]) -> None:
        """Apply one level report; an opposite level at or through our price fills us."""
        prev, traded = self.mirror.side(side).set(price, size)
        resting = self._resting[side]
        if resting:
            queue = resting.at(price)
            if queue:
                self._requeue(queue, prev, size, traded)
        if size:
            other = opposite(side)
            mine = self._resting[other].best()
            if mine is not None and (mine >= price if side is Side.SELL else mine <= price):
                self._fill_crossed(other, price, ts, out)

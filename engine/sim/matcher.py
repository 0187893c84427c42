"""How our orders trade inside the matching core: taker walks, maker fills, STP and order endings.

:class:`Matcher` holds one instrument's state (the public-book mirror, our resting orders, the
position, the counters) and the mechanics on it; :class:`engine.sim.matching.MatchingCore` adds the
public entry points and the rules for commands and market data. Every mechanic appends the reports
it causes to the ``out`` list it is given, in the order they happen.

The taker walk goes best-first over the opposite side, public levels and our own resting orders
merged by price. At a price where one of ours rests, self-trade prevention decides
(:class:`StpMode`); with ``NONE`` the incoming order takes the public lots ahead of each of our
makers, then the maker, then the rest of the level.
"""

from __future__ import annotations

import enum
from collections import OrderedDict

from engine.core.commands import OrderType, TimeInForce
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.oms.order import OrderStatus
from engine.sim.fees import NO_FEES, FeeSchedule
from engine.sim.mirror import BookMirror, BookSide
from engine.sim.queue import ConservativeQueue, QueueModel
from engine.sim.resting import LIVE, RestingSide, SimOrder

Report = OrderUpdate | Fill
"""What the core reports: order state changes and fills."""

SELF_TRADE = "self-trade prevention"
"""Reason of an EXPIRED update caused by self-trade prevention."""
REDUCE_ONLY_EXPIRED = "Reduce-only order has no position left to reduce."
"""Reason of an EXPIRED update for a reduce-only order the position no longer allows."""

_TAKE_OR_EXPIRE = (TimeInForce.IOC, TimeInForce.FOK)


class StpMode(enum.StrEnum):
    """What happens when one of our orders would trade with another of ours."""

    EXPIRE_TAKER = "expire_taker"
    """The incoming order's remainder expires; the resting one stays."""
    EXPIRE_MAKER = "expire_maker"
    """The resting orders it would meet expire; the incoming order goes on."""
    EXPIRE_BOTH = "expire_both"
    """Both expire."""
    NONE = "none"
    """They trade: a taker fill and a maker fill of ours at the resting order's price."""


def opposite(side: Side) -> Side:
    """The other side of the book."""
    return Side.SELL if side is Side.BUY else Side.BUY


class Matcher:
    """One instrument's matching state and the mechanics that change it.

    Args:
        instrument: the instrument matched.
        fees: maker and taker rates (put on the instrument's grid here); no fees when omitted.
        queue: the queue-position model; :class:`~engine.sim.queue.ConservativeQueue` by default.
        stp: self-trade prevention mode.
        venue: the venue name in reports; the instrument's venue by default.
        keep_closed: how many finished orders are kept for inspection.
    """

    def __init__(
        self,
        instrument: Instrument,
        *,
        fees: FeeSchedule | None = None,
        queue: QueueModel | None = None,
        stp: StpMode = StpMode.EXPIRE_TAKER,
        venue: str | None = None,
        keep_closed: int = 10_000,
    ) -> None:
        self.instrument = instrument
        self.instrument_id = instrument.instrument_id
        self.venue = instrument.venue if venue is None else venue
        self.fees = (fees or NO_FEES).for_instrument(instrument)
        self.queue: QueueModel = queue if queue is not None else ConservativeQueue()
        self.stp = StpMode(stp)
        self.mirror = BookMirror()
        self._resting = {Side.BUY: RestingSide(Side.BUY), Side.SELL: RestingSide(Side.SELL)}
        self._open: dict[str, SimOrder] = {}
        self._closed: OrderedDict[str, SimOrder] = OrderedDict()
        self._keep_closed = keep_closed
        self._reduce_only: dict[str, SimOrder] = {}
        self.position_lots = 0
        """Net position from our own fills: positive long, negative short."""
        self._next_order_id = 1
        self._next_trade_id = 1
        self._orders = self._rejects = self._fills = self._cancels = 0
        self._replaces = self._expired = self._events = 0

    # ---------------------------------------------------------------- limits

    def _reducible(self, side: Side) -> int:
        """Lots an order on ``side`` may fill without growing or flipping the position."""
        pos = self.position_lots
        if side is Side.BUY:
            return -pos if pos < 0 else 0
        return pos if pos > 0 else 0

    def _room(self, order: SimOrder) -> int:
        """Lots the order may fill now: its leaves, capped by the position when reduce-only."""
        leaves = order.size - order.filled
        if order.reduce_only:
            reducible = self._reducible(order.side)
            return leaves if leaves < reducible else reducible
        return leaves

    def _would_take(self, side: Side, price: int) -> bool:
        """Would a limit order at ``price`` meet public liquidity or one of our own orders?"""
        other = opposite(side)
        for best in (self.mirror.side(other).best_available(), self._resting[other].best()):
            if best is not None and (best <= price if side is Side.BUY else best >= price):
                return True
        return False

    # ---------------------------------------------------------------- taking

    def _execute(self, order: SimOrder, ts: int, out: list[Report]) -> None:
        """Match an accepted (or re-priced) order, then rest or expire what is left."""
        if order.time_in_force is TimeInForce.FOK and self._fillable(order) < order.leaves:
            self._expire(order, "", ts, out)
            return
        self._take(order, ts, out)
        if order.status not in LIVE:
            return
        if order.order_type is OrderType.MARKET or order.time_in_force in _TAKE_OR_EXPIRE:
            self._expire(order, "", ts, out)
            return
        if not self._room(order):  # reduce-only, and the position is closed
            self._expire(order, REDUCE_ONLY_EXPIRED, ts, out)
            return
        order.ahead = self.mirror.side(order.side).available(order.price)
        self._resting[order.side].add(order)

    def _limit(self, order: SimOrder) -> int | None:
        return None if order.order_type is OrderType.MARKET else order.price

    def _next_price(self, order: SimOrder, book: BookSide, own: RestingSide) -> int | None:
        """The best price the order can reach next, public or ours, within its limit."""
        limit = self._limit(order)
        public = book.best_available()
        mine = own.best()
        if order.side is Side.BUY:
            best = mine if public is None or (mine is not None and mine < public) else public
            return None if best is None or (limit is not None and best > limit) else best
        best = mine if public is None or (mine is not None and mine > public) else public
        return None if best is None or (limit is not None and best < limit) else best

    def _fillable(self, order: SimOrder) -> int:
        """Lots the order could fill now, changing nothing (the fill-or-kill check)."""
        other = opposite(order.side)
        book, own = self.mirror.side(other), self._resting[other]
        limit = self._limit(order)
        own_prices = own.best_first() if limit is None else own.reaching(limit)
        stops = self.stp in (StpMode.EXPIRE_TAKER, StpMode.EXPIRE_BOTH) and own_prices
        total = 0
        for price in book.walk(limit):
            if stops and (
                price >= own_prices[0] if order.side is Side.BUY else price <= own_prices[0]
            ):
                break
            total += book.available(price)
        if self.stp is StpMode.NONE:
            total += sum(self._room(maker) for price in own_prices for maker in own.levels[price])
        room = self._room(order)
        return total if total < room else room

    def _take(self, order: SimOrder, ts: int, out: list[Report]) -> None:
        """Walk the opposite side best-first, filling ``order`` as a taker."""
        other = opposite(order.side)
        book, own = self.mirror.side(other), self._resting[other]
        while order.status in LIVE and self._room(order) > 0:
            price = self._next_price(order, book, own)
            if price is None:
                return
            makers = own.at(price)
            if makers is None:
                lots = min(self._room(order), book.available(price))
                self._take_public(order, book, own, price, lots, ts, out)
                continue
            stp = self.stp
            if stp is StpMode.NONE:
                self._self_match(order, book, own, price, makers, ts, out)
                continue
            if stp is not StpMode.EXPIRE_TAKER:
                for maker in list(makers):
                    self._expire(maker, SELF_TRADE, ts, out)
            if stp is not StpMode.EXPIRE_MAKER:
                self._expire(order, SELF_TRADE, ts, out)
                return

    def _self_match(
        self,
        order: SimOrder,
        book: BookSide,
        own: RestingSide,
        price: int,
        makers: list[SimOrder],
        ts: int,
        out: list[Report],
    ) -> None:
        """STP off: take the public lots ahead of each of our makers, then the maker itself.

        A reduce-only maker the position does not allow to fill expires when it is met. Rooms of
        the makers only grow during a walk (the taker's public fills move the position their
        way; a self-match leaves it unchanged), which keeps :meth:`_fillable` a lower bound.
        """
        for maker in list(makers):
            lots = min(self._room(order), maker.ahead, book.available(price))
            if lots > 0:
                self._take_public(order, book, own, price, lots, ts, out)
            if not self._room(order):
                return
            lots = min(self._room(order), self._room(maker))
            if lots > 0:
                self._fill(order, price, lots, False, ts, out)
                self._fill(maker, price, lots, True, ts, out)
            else:
                self._expire(maker, REDUCE_ONLY_EXPIRED, ts, out)
            if not self._room(order):
                return
        lots = min(self._room(order), book.available(price))
        if lots > 0:
            self._take_public(order, book, own, price, lots, ts, out)

    def _take_public(
        self,
        order: SimOrder,
        book: BookSide,
        own: RestingSide,
        price: int,
        lots: int,
        ts: int,
        out: list[Report],
    ) -> None:
        book.take(price, lots)
        makers = own.at(price)
        if makers:  # public lots leave from the front of the queue our makers stand in
            for maker in makers:
                maker.ahead = maker.ahead - lots if maker.ahead > lots else 0
        self._fill(order, price, lots, False, ts, out)

    # ---------------------------------------------------------------- resting fills

    def _fill_maker(
        self, order: SimOrder, price: int, lots: int, ts: int, out: list[Report]
    ) -> int:
        """Fill a resting order, capped when reduce-only; returns the lots filled."""
        room = self._room(order)
        lots = lots if lots < room else room
        if lots > 0:
            self._fill(order, price, lots, True, ts, out)
        return lots

    def _fill_crossed(self, side: Side, best_opposite: int, ts: int, out: list[Report]) -> None:
        """Our orders on ``side`` at or through the opposite best fill all, at their own price."""
        resting = self._resting[side]
        for price in resting.reaching(best_opposite):
            for order in list(resting.levels[price]):
                self._fill_maker(order, price, order.leaves, ts, out)

    def _fill(
        self, order: SimOrder, price: int, lots: int, maker: bool, ts: int, out: list[Report]
    ) -> None:
        order.filled += lots
        done = order.filled == order.size
        order.status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        self.position_lots += lots if order.side is Side.BUY else -lots
        self._fills += 1
        trade_id = str(self._next_trade_id)
        self._next_trade_id += 1
        out.append(
            Fill(
                venue=self.venue,
                instrument=self.instrument_id,
                client_order_id=order.client_order_id,
                venue_order_id=order.venue_order_id,
                trade_id=trade_id,
                side=order.side,
                price=price,
                size=lots,
                fee=self.fees.fee_units(price, lots, maker),
                liquidity="maker" if maker else "taker",
                exch_ts=ts,
            )
        )
        if done:
            self._close(order)

    def _requeue(self, queue: list[SimOrder], prev: int, new: int, traded: int) -> None:
        """Queue positions after a level went from ``prev`` to ``new`` public lots."""
        decreased = self.queue.decreased
        floor = 0
        for order in queue:
            if new < prev:
                ahead = decreased(order.ahead, prev, new, traded)
            else:
                ahead = order.ahead if order.ahead <= new else new
            if ahead < floor:  # public lots ahead of an earlier order of ours are ahead of us too
                ahead = floor
            order.ahead = floor = ahead

    # ---------------------------------------------------------------- endings

    def _settle(self, ts: int, out: list[Report]) -> None:
        """After an entry point: reduce-only orders the position no longer allows expire."""
        if self._reduce_only:
            for order in list(self._reduce_only.values()):
                if not self._room(order):
                    self._expire(order, REDUCE_ONLY_EXPIRED, ts, out)

    def _cancel(self, order: SimOrder, ts: int, out: list[Report]) -> None:
        order.status = OrderStatus.CANCELED
        self._cancels += 1
        self._close(order)
        out.append(self._order_update(order, OrderUpdateKind.CANCELED, ts))

    def _expire(self, order: SimOrder, reason: str, ts: int, out: list[Report]) -> None:
        order.status = OrderStatus.EXPIRED
        self._expired += 1
        self._close(order)
        out.append(self._order_update(order, OrderUpdateKind.EXPIRED, ts, reason=reason))

    def _close(self, order: SimOrder) -> None:
        """The order is done: off the book, out of the open set, kept for inspection."""
        if order.resting:
            self._resting[order.side].remove(order)
        key = order.client_order_id
        del self._open[key]
        if order.reduce_only:
            del self._reduce_only[key]
        closed = self._closed
        closed[key] = order
        closed.move_to_end(key)
        if len(closed) > self._keep_closed:
            closed.popitem(last=False)

    def _order_update(
        self, order: SimOrder, kind: OrderUpdateKind, ts: int, *, reason: str = ""
    ) -> OrderUpdate:
        return OrderUpdate(
            venue=self.venue,
            instrument=self.instrument_id,
            client_order_id=order.client_order_id,
            kind=kind,
            venue_order_id=order.venue_order_id,
            reason=reason,
            price_ticks=order.price,
            size_lots=order.size,
            filled_lots=order.filled,
            exch_ts=ts,
        )

    def _update(
        self,
        client_order_id: str,
        kind: OrderUpdateKind,
        ts: int,
        *,
        reason: str,
        price: int = 0,
        size: int = 0,
    ) -> OrderUpdate:
        """An update about an order id the core has no order for (rejects, unknown ids)."""
        return OrderUpdate(
            venue=self.venue,
            instrument=self.instrument_id,
            client_order_id=client_order_id,
            kind=kind,
            reason=reason,
            price_ticks=price,
            size_lots=size,
            exch_ts=ts,
        )

"""A seeded generative market for one instrument: the local venue's true book, trades and ids.

Pure and deterministic: no IO, no wall clock. The same seed and the same total time advanced give
the same book, the same update ids and the same trades, however the time is split into calls.

The model is a continuous-time event process whose rate switches between quiet spells, normal
trading and bursts. A hidden fair price wanders (a random walk, faster in bursts) and the order
flow follows it. Each event is one of

- a limit order joining a level near the fair price: mostly within a few ticks of the touch,
  inside a wide spread (which keeps the spread at one to a few ticks), never through the other
  side, and now and then far away in the book;
- a cancel taking size off a level, mostly near the touch, sometimes the whole level, and
  pulling a touch that the fair price has left behind;
- a market order, leaning towards the fair price, sweeping the opposite side from the touch and
  printing a trade (or a few, as several resting orders fill) per level it takes.

Every change of a level's size takes the next update id, as Binance's matching engine does, and
each side keeps at most ``max_levels`` levels: the farthest level is deleted (an update like any
other) when a new one would exceed it. The book never crosses: bids are only added below the best
ask, asks only above the best bid, and market orders only remove size.
"""

from __future__ import annotations

import bisect
import enum
import math
import random
from collections import deque
from decimal import ROUND_CEILING, Decimal

import msgspec

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.errors import InstrumentError
from engine.sim import SimError

_NS = 1_000_000_000

#: Share of events that are limit orders, cancels and market orders (normal trading, bursts).
_MIX_NORMAL = (0.53, 0.42, 0.05)
_MIX_BURST = (0.45, 0.40, 0.15)
#: Mean length of each regime in seconds and its event-rate multiplier.
_REGIME_SECONDS = {"quiet": 2.0, "normal": 4.0, "burst": 0.6}
_REGIME_RATE = {"quiet": 0.25, "normal": 1.0, "burst": 4.0}
_BURST_AFTER_NORMAL = 0.4  # otherwise a quiet spell follows normal trading
#: Resting order value in quote currency: log-normal median and spread (sigma of the log).
_LIMIT_MEDIAN_QUOTE = 1500.0
_LIMIT_SIGMA = 1.2
#: Market order value: smaller median, heavier tail, so most take part of the touch and a few
#: sweep several levels.
_MARKET_MEDIAN_QUOTE = 150.0
_MARKET_SIGMA = 2.0
_BURST_MARKET_FACTOR = 3.0
#: Limit orders: share placed near the touch, and the mean distance (ticks) of those.
_NEAR_SHARE = 0.75
_NEAR_MEAN_TICKS = 2.0
#: Cancels: share aimed near the touch, mean level index of those, and share that pull the level.
_CANCEL_NEAR_SHARE = 0.7
_CANCEL_NEAR_MEAN_LEVELS = 6.0
_CANCEL_WHOLE_LEVEL = 0.2
#: A market order never takes more levels than this, and never empties a side below min_levels.
_MAX_SWEEP_LEVELS = 12
#: The hidden fair price: volatility multiplier in bursts, how far (ticks) it may run ahead of
#: the touch, the mispricing (ticks) at which takers lean clearly one way, and the chance a
#: cancel pulls a touch that sits on the wrong side of fair.
_BURST_VOLATILITY = 2.0
_FAIR_LEASH_TICKS = 25
_INFORMED_SCALE_TICKS = 4.0
_PULL_STALE_QUOTE = 0.5


class Regime(enum.Enum):
    """How busy the market is right now."""

    QUIET = "quiet"
    NORMAL = "normal"
    BURST = "burst"


class LevelChange(msgspec.Struct, frozen=True):
    """One level of the true book took a new size (0 deletes it) under venue id ``update_id``."""

    update_id: int
    side: Side
    """``Side.BUY`` for a bid level, ``Side.SELL`` for an ask level."""
    price: int
    """Ticks."""
    size: int
    """Lots; 0 means the level is gone."""


class TradePrint(msgspec.Struct, frozen=True):
    """One public trade: a market order filling (part of) one resting order."""

    trade_id: int
    price: int
    """Ticks."""
    size: int
    """Lots."""
    buyer_is_maker: bool
    """Binance's ``m``: true when the taker sold."""
    time_ns: int
    """Model time of the trade."""


class MarketActivity(msgspec.Struct):
    """What happened in one call to :meth:`MarketModel.advance`, in the order it happened."""

    changes: list[LevelChange]
    trades: list[TradePrint]
    in_order: list[LevelChange | TradePrint] = msgspec.field(default_factory=list)
    """Both, interleaved as they happened (a sweep prints its trades before the level shrinks)."""


Level = tuple[int, int]
"""A book level as (price ticks, size lots)."""


class BookImage(msgspec.Struct, frozen=True):
    """The true book at one update id: best-first levels per side."""

    bids: list[Level]
    asks: list[Level]
    update_id: int


class _SideBook:
    """One side of the true book: sizes by price plus the prices in ascending order."""

    __slots__ = ("prices", "side", "sizes")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.sizes: dict[int, int] = {}
        self.prices: list[int] = []

    def __len__(self) -> int:
        return len(self.prices)

    def best(self) -> int:
        return self.prices[-1] if self.side is Side.BUY else self.prices[0]

    def worst(self) -> int:
        return self.prices[0] if self.side is Side.BUY else self.prices[-1]

    def nth_best(self, n: int) -> int:
        return self.prices[-1 - n] if self.side is Side.BUY else self.prices[n]

    def set(self, price: int, size: int) -> None:
        if size:
            if price not in self.sizes:
                bisect.insort(self.prices, price)
            self.sizes[price] = size
        elif self.sizes.pop(price, None) is not None:
            del self.prices[bisect.bisect_left(self.prices, price)]

    def levels(self, limit: int | None = None) -> list[Level]:
        prices = self.prices[::-1] if self.side is Side.BUY else self.prices
        if limit is not None:
            prices = prices[:limit]
        sizes = self.sizes
        return [(p, sizes[p]) for p in prices]


class MarketModel:
    """The generative market of one instrument on the local venue.

    Args:
        instrument: the instrument; its tick and lot sizes set the grids.
        seed: the same seed (and symbol) gives the same market.
        mid_price: starting price as decimal text on the tick grid, e.g. ``"65000.00"``.
        events_per_second: long-run mean number of book events per second.
        max_levels: most levels kept per side; farther levels are deleted.
        min_levels: fewest levels per side; cancels and sweeps stop short of it.
        history: how many level changes are remembered for :meth:`book_at`.
        volatility_ticks: standard deviation of the hidden fair price over one second, in ticks.

    Raises:
        InstrumentError: when ``mid_price`` is not on the tick grid or not positive.
        SimError: when the rate or level bounds make no sense.
    """

    def __init__(
        self,
        instrument: Instrument,
        *,
        seed: int,
        mid_price: str,
        events_per_second: float,
        max_levels: int = 250,
        min_levels: int = 20,
        history: int = 20_000,
        volatility_ticks: float = 8.0,
    ) -> None:
        if not events_per_second > 0:
            raise SimError(f"events_per_second must be positive, not {events_per_second}")
        if not 1 <= min_levels < max_levels:
            raise SimError(f"need 1 <= min_levels < max_levels, got {min_levels}, {max_levels}")
        self.instrument = instrument
        mid = instrument.price_grid().to_int(mid_price)
        if mid < 2 * max_levels:
            raise InstrumentError(
                f"mid price {mid_price} is too close to zero for {max_levels} levels a side"
            )
        self.max_levels = max_levels
        self.min_levels = min_levels
        self._rng = random.Random(f"{seed}:{instrument.symbol}")
        quote_per_lot = Decimal(mid_price) * Decimal(instrument.lot_size)
        self._lots_per_quote = float(1 / quote_per_lot)
        min_lots = Decimal(instrument.min_notional) / quote_per_lot
        self._min_lots = max(1, int(min_lots.to_integral_value(rounding=ROUND_CEILING)))
        cycle_s = sum(_REGIME_SECONDS[r] * _regime_weight(r) for r in _REGIME_SECONDS)
        cycle_events = sum(
            _REGIME_SECONDS[r] * _regime_weight(r) * _REGIME_RATE[r] for r in _REGIME_SECONDS
        )
        self._base_rate = events_per_second * cycle_s / cycle_events
        self._bids = _SideBook(Side.BUY)
        self._asks = _SideBook(Side.SELL)
        self._history: deque[tuple[int, Side, int, int]] = deque(maxlen=history)
        self._now = 0
        self.update_id = 1_000_000_000 + self._rng.randrange(1_000_000_000)
        self.trade_id = 100_000_000 + self._rng.randrange(100_000_000)
        self._seed_book(mid)
        self._volatility = volatility_ticks
        self._fair = mid + 0.5
        self._fair_time = 0
        self.regime = Regime.NORMAL
        self._regime_ends = self._draw_regime_length()
        self._next_event = self._draw_gap()
        self._out_changes: list[LevelChange] = []
        self._out_trades: list[TradePrint] = []
        self._out_order: list[LevelChange | TradePrint] = []

    # ---- reading the true book ----------------------------------------------------------------

    @property
    def now_ns(self) -> int:
        """Model time in nanoseconds since the model was made."""
        return self._now

    def bids(self, limit: int | None = None) -> list[Level]:
        """Bid levels, best (highest) first, as (ticks, lots)."""
        return self._bids.levels(limit)

    def asks(self, limit: int | None = None) -> list[Level]:
        """Ask levels, best (lowest) first, as (ticks, lots)."""
        return self._asks.levels(limit)

    def best_bid(self) -> int:
        """Highest bid price in ticks."""
        return self._bids.best()

    def best_ask(self) -> int:
        """Lowest ask price in ticks."""
        return self._asks.best()

    def image(self, limit: int | None = None) -> BookImage:
        """The current true book (top ``limit`` levels a side, or all)."""
        return BookImage(self.bids(limit), self.asks(limit), self.update_id)

    @property
    def oldest_update_id(self) -> int:
        """The oldest update id :meth:`book_at` can rebuild."""
        if not self._history:
            return self.update_id
        return self._history[0][0] - 1

    def book_at(self, update_id: int, limit: int | None = None) -> BookImage:
        """The true book as it was at an earlier update id, rebuilt from the change history.

        Raises:
            SimError: when ``update_id`` is in the future or older than the history kept.
        """
        if not self.oldest_update_id <= update_id <= self.update_id:
            raise SimError(
                f"update id {update_id} is outside the kept history "
                f"[{self.oldest_update_id}, {self.update_id}]"
            )
        bids = dict(self._bids.sizes)
        asks = dict(self._asks.sizes)
        for uid, side, price, old in reversed(self._history):
            if uid <= update_id:
                break
            book = bids if side is Side.BUY else asks
            if old:
                book[price] = old
            else:
                book.pop(price, None)
        bid_levels = sorted(bids.items(), reverse=True)
        ask_levels = sorted(asks.items())
        if limit is not None:
            bid_levels, ask_levels = bid_levels[:limit], ask_levels[:limit]
        return BookImage(bid_levels, ask_levels, update_id)

    # ---- moving the market ---------------------------------------------------------------------

    def advance(self, dt_ns: int) -> MarketActivity:
        """Run the market for ``dt_ns`` nanoseconds of model time.

        Returns:
            The level changes (each with its own update id, in order) and the trades printed.

        Raises:
            SimError: when ``dt_ns`` is negative.
        """
        if dt_ns < 0:
            raise SimError(f"cannot advance the market by a negative time ({dt_ns} ns)")
        end = self._now + dt_ns
        while True:
            if self._regime_ends <= self._next_event:
                if self._regime_ends > end:
                    break
                self._now = self._regime_ends
                self._switch_regime()
                self._next_event = self._now + self._draw_gap()
                continue
            if self._next_event > end:
                break
            self._now = self._next_event
            self._one_event()
            self._next_event = self._now + self._draw_gap()
        self._now = end
        return self._take_activity()

    def _take_activity(self) -> MarketActivity:
        activity = MarketActivity(self._out_changes, self._out_trades, self._out_order)
        self._out_changes, self._out_trades, self._out_order = [], [], []
        return activity

    # ---- orders from outside the model -----------------------------------------------------------

    def take(self, side: Side, price: int, lots: int) -> MarketActivity:
        """One of our orders took ``lots`` at ``price`` from ``side`` of the book (BUY: the bids).

        The level shrinks (at most to nothing) under a new update id and one public trade prints
        for the whole fill. A side emptied this way gets one fresh level just behind the taken
        price, so the book always has both sides.

        Returns:
            The trade and the level changes, at once (not held for the next :meth:`advance`).

        Raises:
            SimError: when ``price`` or ``lots`` is not positive.
        """
        if price <= 0 or lots <= 0:
            raise SimError(f"cannot take {lots} lots at {price} ticks")
        book = self._bids if side is Side.BUY else self._asks
        self._print(price, lots, buyer_is_maker=side is Side.BUY)
        self._set(book, price, max(0, book.sizes.get(price, 0) - lots))
        if not len(book):
            behind = price - 1 if side is Side.BUY else price + 1
            self._set(book, max(1, behind), self._limit_size())
        return self._take_activity()  # advance() holds nothing back, so this is all ours

    def sweep(self, taker: Side, lots: int) -> MarketActivity:
        """A public market order of ``lots`` arrives now and sweeps the other side from the touch.

        It prints and shrinks levels exactly as the model's own market orders do, and stops short
        of emptying the side below ``min_levels``.

        Returns:
            The trades and level changes, at once.

        Raises:
            SimError: when ``lots`` is not positive.
        """
        if lots <= 0:
            raise SimError(f"a market order needs a positive size, not {lots} lots")
        book = self._asks if taker is Side.BUY else self._bids
        remaining = lots
        while remaining > 0:
            price = book.best()
            size = book.sizes[price]
            take = min(size, remaining)
            if take == size and len(book) <= self.min_levels:
                take = size - 1
            if take <= 0:
                break
            self._print_fills(price, take, buyer_is_maker=taker is Side.SELL)
            self._set(book, price, size - take)
            remaining -= take
        return self._take_activity()

    def print_trade(self, price: int, lots: int, *, buyer_is_maker: bool) -> MarketActivity:
        """A trade that took nothing from the book prints now (two of one account's orders met).

        Returns:
            The trade, at once.

        Raises:
            SimError: when ``price`` or ``lots`` is not positive.
        """
        if price <= 0 or lots <= 0:
            raise SimError(f"cannot print {lots} lots at {price} ticks")
        self._print(price, lots, buyer_is_maker=buyer_is_maker)
        return self._take_activity()

    def reserve_trade_id(self) -> int:
        """Take the next trade id for a trade the venue reports only to its parties."""
        self.trade_id += 1
        return self.trade_id

    def _one_event(self) -> None:
        self._move_fair_price()
        mix = _MIX_BURST if self.regime is Regime.BURST else _MIX_NORMAL
        u = self._rng.random()
        if u < mix[0]:
            self._limit_order(self._random_side())
        elif u < mix[0] + mix[1]:
            self._cancel(self._random_side())
        else:
            self._market_order(self._taker_side())

    def _move_fair_price(self) -> None:
        """Let the hidden fair price wander; the book follows it through the order flow."""
        dt_s = (self._now - self._fair_time) / _NS
        self._fair_time = self._now
        vol = self._volatility * (_BURST_VOLATILITY if self.regime is Regime.BURST else 1.0)
        fair = self._fair + self._rng.gauss(0.0, vol * math.sqrt(dt_s))
        # the fair price leads the book by a little, never by more than the book can follow
        low, high = self._bids.best() - _FAIR_LEASH_TICKS, self._asks.best() + _FAIR_LEASH_TICKS
        self._fair = min(max(fair, low), high)

    def _mispricing(self) -> float:
        """Fair price minus mid, in ticks: positive when the book is too low."""
        return self._fair - (self._bids.best() + self._asks.best()) / 2

    def _random_side(self) -> Side:
        return Side.BUY if self._rng.random() < 0.5 else Side.SELL

    def _taker_side(self) -> Side:
        """Takers lean towards the fair price: buyers when the book is too low."""
        p_buy = 0.5 + 0.5 * math.tanh(self._mispricing() / _INFORMED_SCALE_TICKS)
        return Side.BUY if self._rng.random() < p_buy else Side.SELL

    def _limit_order(self, side: Side) -> None:
        rng = self._rng
        if rng.random() < _NEAR_SHARE:
            distance = self._geometric(_NEAR_MEAN_TICKS)
        else:
            distance = rng.randrange(self.max_levels * 2)
        # makers quote around the fair price: inside a wide spread, behind a stale touch, and
        # never through the other side
        if side is Side.BUY:
            price = min(math.floor(self._fair) - distance, self._asks.best() - 1)
        else:
            price = max(math.ceil(self._fair) + distance, self._bids.best() + 1)
        if price <= 0:
            return
        book = self._bids if side is Side.BUY else self._asks
        if len(book) >= self.max_levels and price not in book.sizes:
            worst = book.worst()
            if (price < worst) if side is Side.BUY else (price > worst):
                return  # beyond the deepest level of a full side: it would be trimmed at once
        self._set(book, price, book.sizes.get(price, 0) + self._limit_size())
        if len(book) > self.max_levels:
            self._set(book, book.worst(), 0)

    def _cancel(self, side: Side) -> None:
        rng = self._rng
        book = self._bids if side is Side.BUY else self._asks
        if len(book) <= self.min_levels:
            self._limit_order(side)
            return
        stale = self._mispricing() * (1 if side is Side.SELL else -1) > 1.0
        if stale and rng.random() < _PULL_STALE_QUOTE:
            self._set(book, book.best(), 0)  # the touch is on the wrong side of fair: pull it
            return
        if rng.random() < _CANCEL_NEAR_SHARE:
            index = min(self._geometric(_CANCEL_NEAR_MEAN_LEVELS), len(book) - 1)
        else:
            index = rng.randrange(len(book))
        price = book.nth_best(index)
        size = book.sizes[price]
        if rng.random() < _CANCEL_WHOLE_LEVEL:
            self._set(book, price, 0)
        else:
            self._set(book, price, max(0, size - self._limit_size()))

    def _market_order(self, taker: Side) -> None:
        book = self._asks if taker is Side.BUY else self._bids
        factor = _BURST_MARKET_FACTOR if self.regime is Regime.BURST else 1.0
        factor *= 1.0 + abs(self._mispricing()) / _INFORMED_SCALE_TICKS
        remaining = self._size(_MARKET_MEDIAN_QUOTE * factor, _MARKET_SIGMA, 1)
        for _ in range(_MAX_SWEEP_LEVELS):
            price = book.best()
            size = book.sizes[price]
            take = min(size, remaining)
            if take == size and len(book) <= self.min_levels:
                take = size - 1
            if take <= 0:
                break
            self._print_fills(price, take, buyer_is_maker=taker is Side.SELL)
            self._set(book, price, size - take)
            remaining -= take
            if remaining <= 0:
                break

    def _print_fills(self, price: int, lots: int, *, buyer_is_maker: bool) -> None:
        """One trade per resting order filled: split a level's fill into a few prints."""
        parts = min(1 + self._geometric(0.6), 4, lots)
        for n in range(parts):
            later = parts - n - 1  # prints still to come, each needs at least one lot
            size = 1 + self._rng.randrange(lots - later) if later else lots
            lots -= size
            self._print(price, size, buyer_is_maker=buyer_is_maker)

    def _print(self, price: int, size: int, *, buyer_is_maker: bool) -> None:
        self.trade_id += 1
        print_ = TradePrint(self.trade_id, price, size, buyer_is_maker, self._now)
        self._out_trades.append(print_)
        self._out_order.append(print_)

    def _set(self, book: _SideBook, price: int, size: int) -> None:
        old = book.sizes.get(price, 0)
        if old == size:
            return
        book.set(price, size)
        self.update_id += 1
        self._history.append((self.update_id, book.side, price, old))
        change = LevelChange(self.update_id, book.side, price, size)
        self._out_changes.append(change)
        self._out_order.append(change)

    # ---- randomness ------------------------------------------------------------------------------

    def _seed_book(self, mid: int) -> None:
        """Lay out the opening book: dense near the touch, thinning out, one tick wide."""
        for book, sign, touch in ((self._bids, -1, mid), (self._asks, 1, mid + 1)):
            distance = 0
            while len(book) < self.max_levels // 2:
                book.set(touch + sign * distance, self._limit_size() * (1 + (distance < 5)))
                distance += 1 + self._geometric(0.5 + distance / 40)

    def _limit_size(self) -> int:
        return self._size(_LIMIT_MEDIAN_QUOTE, _LIMIT_SIGMA, self._min_lots)

    def _size(self, median_quote: float, sigma: float, floor: int) -> int:
        value = self._rng.lognormvariate(math.log(median_quote), sigma)
        return max(floor, int(value * self._lots_per_quote))

    def _geometric(self, mean: float) -> int:
        """A draw from {0, 1, 2, ...} with the given mean."""
        if mean <= 0:
            return 0
        p = 1.0 / (1.0 + mean)
        return int(math.log(1.0 - self._rng.random()) / math.log(1.0 - p))

    def _draw_gap(self) -> int:
        rate = self._base_rate * _REGIME_RATE[self.regime.value]
        return max(1, int(self._rng.expovariate(rate) * _NS))

    def _draw_regime_length(self) -> int:
        mean = _REGIME_SECONDS[self.regime.value]
        return self._now + max(1, int(self._rng.expovariate(1.0 / mean) * _NS))

    def _switch_regime(self) -> None:
        if self.regime is Regime.NORMAL:
            burst = self._rng.random() < _BURST_AFTER_NORMAL
            self.regime = Regime.BURST if burst else Regime.QUIET
        else:
            self.regime = Regime.NORMAL
        self._regime_ends = self._draw_regime_length()


def _regime_weight(regime: str) -> float:
    """How often each regime is visited per normal -> (burst | quiet) -> normal cycle."""
    if regime == "normal":
        return 1.0
    return _BURST_AFTER_NORMAL if regime == "burst" else 1.0 - _BURST_AFTER_NORMAL

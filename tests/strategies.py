"""Hypothesis strategies shared by the property tests: tick prices, lot sizes and book messages.

Prices are integer ticks and sizes integer lots, as on the engine's hot path. Book messages are
:class:`BookLevels`: the four ``int64`` arrays a snapshot or delta carries.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st

from engine.core.commands import CancelOrder, OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import Side

Int64Array = npt.NDArray[np.int64]

MAX_TICKS = 10**12
"""Largest price the strategies draw by default: far beyond any real instrument."""
MAX_LOTS = 10**12


class BookLevels(NamedTuple):
    """One book message: prices in ticks and absolute sizes in lots, per side, as int64 arrays."""

    bid_px: Int64Array
    bid_sz: Int64Array
    ask_px: Int64Array
    ask_sz: Int64Array


def int64s(values: list[int]) -> Int64Array:
    """A list of integers as an int64 array (empty lists included)."""
    return np.array(values, dtype=np.int64)


def tick_prices(min_ticks: int = 1, max_ticks: int = MAX_TICKS) -> st.SearchStrategy[int]:
    """Valid prices in ticks (always positive)."""
    return st.integers(min_value=max(1, min_ticks), max_value=max_ticks)


def lot_sizes(*, max_lots: int = MAX_LOTS, allow_zero: bool = True) -> st.SearchStrategy[int]:
    """Valid sizes in lots; 0 (a delete in a delta) is drawn often when allowed."""
    positive = st.integers(min_value=1, max_value=max_lots)
    if not allow_zero:
        return positive
    return st.one_of(st.just(0), positive)


def side_levels(
    prices: st.SearchStrategy[int],
    sizes: st.SearchStrategy[int],
    *,
    max_levels: int = 12,
    unique: bool = False,
) -> st.SearchStrategy[tuple[Int64Array, Int64Array]]:
    """One side of a message: (prices, sizes) arrays of equal length, possibly empty."""
    pairs = st.lists(
        st.tuples(prices, sizes),
        max_size=max_levels,
        unique_by=(lambda pair: pair[0]) if unique else None,
    )
    return pairs.map(lambda ps: (int64s([p for p, _ in ps]), int64s([s for _, s in ps])))


@st.composite
def near_prices(draw: st.DrawFn, centre: int, width: int, far_max: int = 10**7) -> int:
    """A price usually within ``width`` ticks of ``centre``, sometimes anywhere in 1..far_max."""
    if draw(st.integers(0, 9)) == 0:
        return draw(tick_prices(1, far_max))
    return draw(tick_prices(centre - width, centre + width))


@st.composite
def book_deltas(
    draw: st.DrawFn,
    centre: int | None = None,
    *,
    width: int = 40,
    max_levels: int = 12,
    sizes: st.SearchStrategy[int] | None = None,
) -> BookLevels:
    """A delta: absolute sizes per side (0 deletes), prices clustered around ``centre``.

    Bids are drawn mostly at or below the centre and asks at or above it, so books built from
    these deltas are uncrossed more often than not, but crossing ones are drawn too. Prices may
    repeat within a side, as a venue may send them; the later entry wins.
    """
    if centre is None:
        centre = draw(tick_prices(width + 1, 10**6))
    sizes = sizes if sizes is not None else lot_sizes(max_lots=1000)
    bid_px, bid_sz = draw(
        side_levels(near_prices(centre - width // 2, width), sizes, max_levels=max_levels)
    )
    ask_px, ask_sz = draw(
        side_levels(near_prices(centre + width // 2, width), sizes, max_levels=max_levels)
    )
    return BookLevels(bid_px, bid_sz, ask_px, ask_sz)


@st.composite
def book_snapshots(
    draw: st.DrawFn, centre: int | None = None, *, width: int = 40, max_levels: int = 30
) -> BookLevels:
    """A snapshot: unique prices per side with positive sizes, clustered around ``centre``."""
    if centre is None:
        centre = draw(tick_prices(width + 1, 10**6))
    sizes = lot_sizes(max_lots=1000, allow_zero=False)
    bid_px, bid_sz = draw(
        side_levels(
            near_prices(centre - width // 2, width), sizes, max_levels=max_levels, unique=True
        )
    )
    ask_px, ask_sz = draw(
        side_levels(
            near_prices(centre + width // 2, width), sizes, max_levels=max_levels, unique=True
        )
    )
    return BookLevels(bid_px, bid_sz, ask_px, ask_sz)


@st.composite
def drifting_deltas(
    draw: st.DrawFn, *, start: int, max_messages: int = 30, max_step: int = 400
) -> list[BookLevels]:
    """Deltas whose centre walks randomly, up and down, by up to ``max_step`` ticks a message."""
    count = draw(st.integers(0, max_messages))
    centre = start
    messages = []
    for _ in range(count):
        centre = max(100, centre + draw(st.integers(-max_step, max_step)))
        messages.append(draw(book_deltas(centre)))
    return messages


INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def bad_levels() -> st.SearchStrategy[tuple[int, int]]:
    """An int64 (price, size) pair no book may accept.

    A non-positive price, a price above 2**62 ticks, or a negative size.
    """
    return st.one_of(
        st.tuples(st.integers(INT64_MIN, 0), lot_sizes()),
        st.tuples(st.integers(2**62 + 1, INT64_MAX), lot_sizes()),
        st.tuples(tick_prices(), st.integers(INT64_MIN, -1)),
    )


# ---------------------------------------------------------------- matching core scripts


class LevelReport(NamedTuple):
    """A public level's new absolute size (0 deletes), for the matching core's mirror."""

    side: Side
    """``BUY`` for a bid level, ``SELL`` for an ask level."""
    price: int
    size: int


class TradePrint(NamedTuple):
    """A public trade, for the matching core."""

    price: int
    size: int
    aggressor: Side
    """The taker's side."""


@st.composite
def sim_commands(
    draw: st.DrawFn, *, ids: list[str], centre: int, width: int
) -> SubmitOrder | CancelOrder | ReplaceOrder:
    """One order command for the matching core: submit (every type and flag), cancel, replace.

    Client ids come from the small pool ``ids`` so cancels, replaces and duplicates hit open
    orders; prices cluster within ``width`` ticks of ``centre``; sizes are 1 to 8 lots.
    """
    cid = draw(st.sampled_from(ids))
    price = draw(st.integers(centre - width, centre + width))
    size = draw(st.integers(1, 8))
    kind = draw(st.sampled_from(["submit", "submit", "cancel", "replace"]))
    if kind == "cancel":
        return CancelOrder(client_order_id=cid, instrument=0)
    if kind == "replace":
        return ReplaceOrder(client_order_id=cid, instrument=0, price_ticks=price, size_lots=size)
    order_type = draw(st.sampled_from([OrderType.LIMIT] * 7 + [OrderType.MARKET]))
    tifs = [TimeInForce.IOC, TimeInForce.FOK]
    if order_type is OrderType.LIMIT:  # mostly orders that rest, so cancels and replaces hit
        tifs += [TimeInForce.GTC] * 4 + [TimeInForce.POST_ONLY] * 2
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    if draw(st.booleans()):  # passive: on our own side of the centre
        price = centre - abs(price - centre) if side is Side.BUY else centre + abs(price - centre)
    return SubmitOrder(
        client_order_id=cid,
        instrument=0,
        side=side,
        size_lots=size,
        price_ticks=0 if order_type is OrderType.MARKET else price,
        order_type=order_type,
        time_in_force=draw(st.sampled_from(tifs)),
        reduce_only=draw(st.integers(0, 4)) == 0,
    )


@st.composite
def sim_market_events(draw: st.DrawFn, *, centre: int, width: int) -> LevelReport | TradePrint:
    """A level report (bids mostly below ``centre``, asks mostly above) or a public trade."""
    if draw(st.integers(0, 2)) == 0:
        return TradePrint(
            price=draw(st.integers(centre - width, centre + width)),
            size=draw(st.integers(1, 12)),
            aggressor=draw(st.sampled_from([Side.BUY, Side.SELL])),
        )
    side = draw(st.sampled_from([Side.BUY, Side.SELL]))
    if side is Side.BUY:
        near = st.integers(centre - width, centre - 1)
    else:
        near = st.integers(centre + 1, centre + width)
    price = draw(st.one_of(near, st.integers(centre - width, centre + width)))
    return LevelReport(side=side, price=price, size=draw(st.integers(0, 12)))


def sim_scripts(
    *, centre: int = 1_000, width: int = 6, max_steps: int = 40, ids: int = 6
) -> st.SearchStrategy[list[object]]:
    """A run for the matching core: commands and market events interleaved, in order."""
    pool = [f"o{n}" for n in range(ids)]
    step = st.one_of(
        sim_commands(ids=pool, centre=centre, width=width),
        sim_market_events(centre=centre, width=width),
    )
    return st.lists(step, min_size=1, max_size=max_steps)


# ---------------------------------------------------------------- local venue request scripts


class VenueAction(NamedTuple):
    """One step of a local-venue run: an order, a cancel, a public sweep or market time."""

    kind: str
    """``order``, ``cancel``, ``sweep`` or ``step``."""
    side: Side
    offset: int
    """Order price in ticks from the opposite touch (negative: passive); ``step``: ms."""
    lots: int
    order_type: str
    """``LIMIT``, ``LIMIT_MAKER`` or ``MARKET``."""
    time_in_force: str
    """``GTC``, ``IOC`` or ``FOK``."""


@st.composite
def venue_actions(draw: st.DrawFn) -> VenueAction:
    """Mostly orders near the touch (passive and crossing), with cancels, sweeps and time."""
    kind = draw(st.sampled_from(["order"] * 3 + ["sweep"] * 2 + ["cancel", "step"]))
    return VenueAction(
        kind=kind,
        side=draw(st.sampled_from([Side.BUY, Side.SELL])),
        offset=draw(st.integers(-8, 3)) if kind != "step" else draw(st.integers(1, 300)),
        lots=draw(st.integers(8, 3_000)) if kind != "sweep" else draw(st.integers(1, 200_000)),
        order_type=draw(st.sampled_from(["LIMIT"] * 4 + ["LIMIT_MAKER", "MARKET"])),
        time_in_force=draw(st.sampled_from(["GTC", "GTC", "IOC", "FOK"])),
    )


def venue_scripts(max_steps: int = 25) -> st.SearchStrategy[list[VenueAction]]:
    """A run against the local venue's desk: orders, cancels, sweeps and market time."""
    return st.lists(venue_actions(), min_size=1, max_size=max_steps)


@st.composite
def submit_orders(draw: st.DrawFn, instrument: int = 0) -> SubmitOrder:
    """Any order a strategy may send: side, type, time in force, reduce-only, price and size."""
    order_type = draw(st.sampled_from([OrderType.LIMIT, OrderType.LIMIT, OrderType.MARKET]))
    tifs = [TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.POST_ONLY]
    if order_type is OrderType.MARKET:
        tifs.remove(TimeInForce.POST_ONLY)
    return SubmitOrder(
        client_order_id=draw(st.from_regex(r"\A[A-Za-z0-9_-]{1,36}\Z")),
        instrument=instrument,
        side=draw(st.sampled_from([Side.BUY, Side.SELL])),
        size_lots=draw(lot_sizes(max_lots=10**9, allow_zero=False)),
        price_ticks=0 if order_type is OrderType.MARKET else draw(tick_prices(max_ticks=10**9)),
        order_type=order_type,
        time_in_force=draw(st.sampled_from(tifs)),
        reduce_only=draw(st.booleans()),
    )

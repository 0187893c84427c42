"""A whole delta applied in one batch gives exactly what its levels applied one by one give.

The reference is the core's own per-level step (``_level``) for every level of the delta, bids
then asks, then the reduce-only settlement: the reports, the mirror (levels best first,
``taken`` and ``traded``), our orders' queue positions and the position must all be the same.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.commands import SubmitOrder, TimeInForce
from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.matcher import Report
from engine.sim.matching import MatchingCore
from engine.sim.queue import PowerProbQueue

INSTRUMENT = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
PRICES = st.integers(90, 110)
Level = tuple[int, int]


def _arr(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _reference(core: MatchingCore, bids: list[Level], asks: list[Level], ts: int) -> list[Report]:
    """The delta level by level, as the core applied deltas before batching."""
    core._events += 1
    out: list[Report] = []
    for price, size in bids:
        core._level(Side.BUY, price, size, ts, out)
    for price, size in asks:
        core._level(Side.SELL, price, size, ts, out)
    core._settle(ts, out)
    return out


def _state(core: MatchingCore) -> object:
    sides = (core.mirror.bids, core.mirror.asks)
    mirror = [(s.levels(), s.taken, s.traded) for s in sides]
    return mirror, core.open_orders(), core.position_lots, core.stats


def _core(power: bool) -> MatchingCore:
    core = MatchingCore(INSTRUMENT, queue=PowerProbQueue(2) if power else None)
    core.on_snapshot(_arr([99, 98, 97]), _arr([5, 6, 7]), _arr([101, 102, 103]), _arr([4, 5, 6]), 1)
    return core


levels = st.lists(st.tuples(PRICES, st.integers(0, 9)), max_size=12)
orders = st.lists(
    st.tuples(st.sampled_from([Side.BUY, Side.SELL]), PRICES, st.integers(1, 8), st.booleans()),
    max_size=6,
)
trades = st.lists(st.tuples(PRICES, st.integers(1, 6), st.sampled_from([Side.BUY, Side.SELL])))


@settings(max_examples=300, deadline=None)
@given(
    orders=orders,
    trades=trades,
    deltas=st.lists(st.tuples(levels, levels), min_size=1, max_size=4),
    power=st.booleans(),
)
def test_a_batched_delta_matches_its_levels_one_by_one(
    orders: list[tuple[Side, int, int, bool]],
    trades: list[tuple[int, int, Side]],
    deltas: list[tuple[list[Level], list[Level]]],
    power: bool,
) -> None:
    """Random books, resting orders (reduce-only too), trades and deltas; duplicates included."""
    batched, stepped = _core(power), _core(power)
    ts = 2
    for n, (side, price, size, reduce_only) in enumerate(orders):
        command = SubmitOrder(
            instrument=0,
            client_order_id=f"o{n}",
            side=side,
            price_ticks=price,
            size_lots=size,
            time_in_force=TimeInForce.GTC,
            reduce_only=reduce_only,
        )
        assert batched.submit(command, ts) == stepped.submit(command, ts)
    for price, size, aggressor in trades:
        assert batched.on_trade(price, size, aggressor, ts) == stepped.on_trade(
            price, size, aggressor, ts
        )
    for bids, asks in deltas:
        ts += 1
        got = batched.on_delta(
            _arr([p for p, _ in bids]),
            _arr([s for _, s in bids]),
            _arr([p for p, _ in asks]),
            _arr([s for _, s in asks]),
            ts,
        )
        assert got == _reference(stepped, bids, asks, ts)
        assert _state(batched) == _state(stepped)

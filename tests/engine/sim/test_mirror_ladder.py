"""The mirror's ladder side answers exactly as the dict side does, and so does a core on it.

Small windows make the ladder move all the time (levels arriving above it, the window running
empty, far levels coming back in); none of it may show in what the side or the core answers.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine.sim.mirror_ladder as ladder
from engine.book import order_book
from engine.core.commands import SubmitOrder, TimeInForce
from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.matching import MatchingCore
from engine.sim.mirror import BookMirror, BookSide, MarketDataError
from engine.sim.mirror_ladder import LadderSide

INSTRUMENT = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
Op = tuple[str, int, int]


@pytest.fixture(scope="module", autouse=True)
def _kernels() -> None:
    ladder.load()


class _Window:
    """Run with a ladder of ``width`` ticks (sides made inside use it)."""

    def __init__(self, width: int) -> None:
        self.width = width

    def __enter__(self) -> None:
        self.saved, ladder.WINDOW = ladder.WINDOW, self.width

    def __exit__(self, *_: object) -> None:
        ladder.WINDOW = self.saved


def _answers(side: BookSide | LadderSide, probes: list[int], limit: int) -> object:
    return (
        side.levels(),
        side.best(),
        side.best_available(),
        list(side.walk()),
        list(side.walk(limit)),
        [(side.size(p), side.available(p)) for p in probes],
        side.taken,
        side.traded,
    )


ops = st.lists(
    st.tuples(
        st.sampled_from(["set", "batch", "take", "trade", "reset", "shift"]),
        st.integers(1, 600),
        st.integers(0, 5),
    ),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(
    is_bid=st.booleans(),
    script=ops,
    limit=st.integers(1, 600),
    width=st.sampled_from([4, 16, 64, 1024]),
)
def test_the_ladder_side_answers_as_the_dict_side(
    is_bid: bool, script: list[Op], limit: int, width: int
) -> None:
    """After every step: levels, best, walks, sizes and the counters are the same."""
    side = Side.BUY if is_bid else Side.SELL
    with _Window(width):
        plain, laddered = BookSide(side), LadderSide(side)
        centre = 300
        for op, price, size in script:
            if op == "set":
                assert plain.set(price, size) == laddered.set(price, size)
            elif op == "batch":  # near and far levels, some repeated, mostly deletions
                prices = [max(1, centre + (price * 7 * k) % 301 - 150) for k in range(15)]
                sizes = [size if k % 3 == 0 else 0 for k in range(15)]
                plain.update(prices, sizes)
                laddered.update(prices, sizes)
            elif op == "take":
                best = plain.best_available()
                if best is not None:
                    plain.take(best, size + 1)
                    laddered.take(best, size + 1)
            elif op == "trade":
                plain.add_traded(price, size + 1)
                laddered.add_traded(price, size + 1)
            elif op == "reset":
                prices = list(range(price, price + 20))
                sizes = [(p + size) % 3 for p in prices]
                plain.reset(prices, sizes)
                laddered.reset(prices, sizes)
            else:
                centre = price
            probes = [price, limit, centre]
            assert _answers(plain, probes, limit) == _answers(laddered, probes, limit)


def _arr(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _cores() -> Iterator[MatchingCore]:
    for on_ladder in (False, True):
        core = MatchingCore(INSTRUMENT)
        if on_ladder:
            core.mirror.bids = LadderSide(Side.BUY)  # type: ignore[assignment]
            core.mirror.asks = LadderSide(Side.SELL)  # type: ignore[assignment]
        core.on_snapshot(
            _arr([99, 98, 90]), _arr([5, 6, 7]), _arr([101, 102, 110]), _arr([4, 5, 6]), 1
        )
        yield core


def _state(core: MatchingCore) -> object:
    sides = (core.mirror.bids, core.mirror.asks)
    return [(s.levels(), s.taken, s.traded) for s in sides], core.open_orders(), core.stats


PRICES = st.integers(60, 140)
levels = st.lists(st.tuples(PRICES, st.integers(0, 9)), max_size=12)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("delta"), levels, levels),
        st.tuples(st.just("trade"), PRICES, st.integers(1, 6), st.sampled_from(list(Side))),
        st.tuples(
            st.just("order"),
            st.sampled_from(list(Side)),
            PRICES,
            st.integers(1, 12),
            st.sampled_from([TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
        ),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(script=steps, width=st.sampled_from([8, 32, 1 << 17]))
def test_a_core_on_the_ladder_reports_as_one_on_the_dict(script: list[tuple], width: int) -> None:
    """Deltas, public trades and orders (resting and taking) give the same reports and state."""
    with _Window(width):
        plain, laddered = _cores()
        for n, step in enumerate(script, start=2):
            if step[0] == "delta":
                _, bids, asks = step
                args = (
                    _arr([p for p, _ in bids]),
                    _arr([s for _, s in bids]),
                    _arr([p for p, _ in asks]),
                    _arr([s for _, s in asks]),
                    n,
                )
                assert plain.on_delta(*args) == laddered.on_delta(*args)
            elif step[0] == "trade":
                _, price, size, aggressor = step
                assert plain.on_trade(price, size, aggressor, n) == laddered.on_trade(
                    price, size, aggressor, n
                )
            else:
                _, side, price, size, tif = step
                command = SubmitOrder(
                    instrument=0,
                    client_order_id=f"o{n}",
                    side=side,
                    price_ticks=price,
                    size_lots=size,
                    time_in_force=tif,
                )
                assert plain.submit(command, n) == laddered.submit(command, n)
            assert _state(plain) == _state(laddered)


def test_a_bad_level_is_refused_and_changes_nothing() -> None:
    """A negative size in a batch raises, naming the level, and the side is as it was."""
    side = LadderSide(Side.SELL)
    side.update([100, 101], [3, 4])
    with pytest.raises(MarketDataError, match="-1 lots @ 102"):
        side.update([99, 102], [5, -1])
    assert side.levels() == [(100, 3), (101, 4)]


def test_read_only_level_arrays_are_taken_as_they_come_from_parquet() -> None:
    """Arrays read from the catalog are read-only; the side copies them for the kernel."""
    px = np.array([100, 101], dtype=np.int64)
    sz = np.array([3, 4], dtype=np.int64)
    px.flags.writeable = sz.flags.writeable = False
    side = LadderSide(Side.SELL)
    side.update([100, 101], [3, 4], px, sz)
    assert side.levels() == [(100, 3), (101, 4)]


def test_the_mirror_uses_the_ladder_once_kernels_are_compiled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BookMirror picks the ladder side when the process runs the compiled kernels."""
    monkeypatch.setattr(order_book, "compiled", lambda: True)
    assert isinstance(BookMirror().bids, LadderSide)
    monkeypatch.setattr(order_book, "compiled", lambda: False)
    assert isinstance(BookMirror().asks, BookSide)

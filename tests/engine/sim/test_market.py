from __future__ import annotations

import gzip
import statistics
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.errors import InstrumentError
from engine.sim.market import MarketActivity, MarketModel, Regime

SECOND = 1_000_000_000
BATCH = 100_000_000


def _model(instrument: Instrument, seed: int = 7, **kwargs: Any) -> MarketModel:
    return MarketModel(
        instrument, seed=seed, mid_price="65000.00", events_per_second=400.0, **kwargs
    )


def _run(
    model: MarketModel, seconds: float, step: int = BATCH
) -> Iterator[tuple[MarketActivity, int, int]]:
    """Advance in steps; yield (activity, best bid, best ask) after each step."""
    for _ in range(int(seconds * SECOND) // step):
        activity = model.advance(step)
        yield activity, model.best_bid(), model.best_ask()


def test_same_seed_gives_the_same_market(btc):
    """Two models with one seed produce identical changes, trades and books."""
    a, b = _model(btc), _model(btc)
    for _ in range(20):
        assert a.advance(BATCH) == b.advance(BATCH)
    assert a.image() == b.image()


def test_different_seeds_give_different_markets(btc):
    """Another seed gives another market."""
    a, b = _model(btc, seed=1), _model(btc, seed=2)
    a.advance(SECOND)
    b.advance(SECOND)
    assert a.image() != b.image()


def test_how_time_is_split_does_not_change_the_market(btc):
    """One 2 s advance and twenty 100 ms advances give the same changes, trades and book."""
    whole, pieces = _model(btc), _model(btc)
    one = whole.advance(2 * SECOND)
    changes, trades = [], []
    for _ in range(20):
        activity = pieces.advance(BATCH)
        changes += activity.changes
        trades += activity.trades
    assert one.changes == changes
    assert one.trades == trades
    assert whole.image() == pieces.image()


def test_update_ids_rise_by_one_per_level_change(btc):
    """Every level change takes the next update id, and the model's id is the last one."""
    model = _model(btc)
    start = model.update_id
    changes = model.advance(3 * SECOND).changes
    assert [c.update_id for c in changes] == list(range(start + 1, start + 1 + len(changes)))
    assert model.update_id == changes[-1].update_id


def test_changes_replayed_on_the_opening_book_give_the_true_book(btc):
    """Applying every level change to the opening book with plain dicts reproduces the book."""
    model = _model(btc)
    bids, asks = dict(model.bids()), dict(model.asks())
    for change in model.advance(5 * SECOND).changes:
        side = bids if change.side is Side.BUY else asks
        if change.size:
            side[change.price] = change.size
        else:
            side.pop(change.price, None)
    assert sorted(bids.items(), reverse=True) == model.bids()
    assert sorted(asks.items()) == model.asks()


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    steps=st.lists(st.integers(1, 400_000_000), min_size=1, max_size=12),
)
def test_invariants_hold_for_any_seed_and_step_pattern(seed, steps):
    """For any seed and any way of slicing time: ids connect, no cross, changes replay the book."""
    inst = Instrument(venue="sim", symbol="ETHBTC", tick_size="0.00001", lot_size="0.0001")
    model = MarketModel(inst, seed=seed, mid_price="0.05000", events_per_second=1500.0)
    book = {Side.BUY: dict(model.bids()), Side.SELL: dict(model.asks())}
    last_id = model.update_id
    for step in steps:
        activity = model.advance(step)
        for change in activity.changes:
            assert change.update_id == last_id + 1
            last_id = change.update_id
            if change.size:
                book[change.side][change.price] = change.size
            else:
                del book[change.side][change.price]
        assert model.best_bid() < model.best_ask()
        assert all(t.size > 0 for t in activity.trades)
    assert sorted(book[Side.BUY].items(), reverse=True) == model.bids()
    assert sorted(book[Side.SELL].items()) == model.asks()


def test_book_never_crosses_and_stays_bounded(btc):
    """Over a minute the best bid stays below the best ask and each side keeps 1..max levels."""
    model = _model(btc, max_levels=120, min_levels=10)
    for _, bid, ask in _run(model, 60):
        assert bid < ask
        assert 10 <= len(model.bids()) <= 120
        assert 10 <= len(model.asks()) <= 120
    assert all(size > 0 and price > 0 for price, size in model.bids() + model.asks())


def test_levels_are_integers_on_the_grid_and_best_first(btc):
    """Prices are whole ticks and sizes whole lots, bids descending and asks ascending."""
    model = _model(btc)
    model.advance(10 * SECOND)
    bids, asks = model.bids(), model.asks()
    assert all(isinstance(p, int) and isinstance(q, int) for p, q in bids + asks)
    assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
    assert [p for p, _ in asks] == sorted(p for p, _ in asks)
    grid = btc.price_grid()
    assert grid.to_int(grid.to_text(bids[0][0])) == bids[0][0]


def test_spread_is_one_to_a_few_ticks_most_of_the_time(btc):
    """Sampled every 100 ms for a minute, the spread is at most three ticks most of the time."""
    model = _model(btc)
    spreads = [ask - bid for _, bid, ask in _run(model, 60)]
    assert statistics.median(spreads) <= 2
    assert sum(s <= 3 for s in spreads) / len(spreads) >= 0.75
    assert Counter(spreads)[1] / len(spreads) >= 0.3


def test_activity_clusters_near_the_touch(btc):
    """Most level changes land within a few ticks of the best price on their side."""
    model = _model(btc)
    distances = []
    for _ in range(300):
        bid, ask = model.best_bid(), model.best_ask()
        distances += [
            bid - c.price if c.side is Side.BUY else c.price - ask
            for c in model.advance(BATCH).changes
        ]
    assert statistics.median(distances) <= 10


def test_market_orders_print_trades_and_sometimes_sweep_levels(btc):
    """Trades print with rising ids, and some market orders fill at more than one price."""
    model = _model(btc)
    first_id = model.trade_id
    trades = model.advance(60 * SECOND).trades
    assert [t.trade_id for t in trades] == list(range(first_id + 1, first_id + 1 + len(trades)))
    prices_per_order: dict[tuple[int, bool], set[int]] = {}
    for t in trades:
        prices_per_order.setdefault((t.time_ns, t.buyer_is_maker), set()).add(t.price)
    assert any(len(prices) > 1 for prices in prices_per_order.values())
    assert {t.buyer_is_maker for t in trades} == {True, False}
    assert all(t.size > 0 for t in trades)


def test_market_has_bursts_and_quiet_spells(btc):
    """Events per second vary widely, and all three regimes occur within two minutes."""
    model = _model(btc)
    per_second, regimes = [], set()
    for _ in range(120):
        per_second.append(len(model.advance(SECOND).changes))
        regimes.add(model.regime)
    assert regimes == set(Regime)
    assert max(per_second) >= 3 * max(1, min(per_second))


def test_book_at_rebuilds_an_earlier_book(btc):
    """The book rebuilt at an earlier update id equals the book as it was then."""
    model = _model(btc)
    model.advance(SECOND)
    before = model.image()
    model.advance(2 * SECOND)
    assert model.book_at(before.update_id) == before
    assert model.book_at(before.update_id, limit=5).bids == before.bids[:5]


def test_book_at_outside_the_history_raises(btc):
    """Asking for a book older than the kept history, or from the future, is an error."""
    model = _model(btc, history=50)
    model.advance(SECOND)
    with pytest.raises(ValueError, match="outside the kept history"):
        model.book_at(model.oldest_update_id - 1)
    with pytest.raises(ValueError, match="outside the kept history"):
        model.book_at(model.update_id + 1)


def test_mid_price_off_the_tick_grid_is_rejected(btc):
    """A starting price between ticks is an instrument error, not rounded."""
    with pytest.raises(InstrumentError):
        MarketModel(btc, seed=1, mid_price="65000.005", events_per_second=10.0)


def test_negative_time_is_rejected(btc):
    """The market cannot be advanced backwards."""
    with pytest.raises(ValueError, match="negative"):
        _model(btc).advance(-1)


# ---- shape against a real capture ----------------------------------------------------------------


class _Frame(msgspec.Struct):
    stream: str = ""
    data: dict[str, object] = {}


def _capture_stats(path: Path, lines: int) -> tuple[list[int], list[int], list[Decimal]]:
    """Spread (ticks) from bookTicker, levels per diff, and trade notional from a capture."""
    tick = Decimal("0.01")
    spreads, levels, notionals = [], [], []
    decoder = msgspec.json.Decoder(_Frame)
    with gzip.open(path, "rt") as fh:
        for n, line in enumerate(fh):
            if n >= lines:
                break
            body = line.split(" ", 1)[1]
            if '"stream"' not in body[:12]:
                continue  # the REST snapshot line
            frame = decoder.decode(body)
            data = frame.data
            if frame.stream.endswith("@bookTicker"):
                ask, bid = Decimal(str(data["a"])), Decimal(str(data["b"]))
                spreads.append(int((ask - bid) / tick))
            elif frame.stream.endswith("@trade"):
                notionals.append(Decimal(str(data["p"])) * Decimal(str(data["q"])))
            elif "@depth" in frame.stream:
                b, a = data["b"], data["a"]
                assert isinstance(b, list)
                assert isinstance(a, list)
                levels.append(len(b) + len(a))
    return spreads, levels, notionals


@pytest.mark.shared_data
def test_shape_is_plausible_next_to_binance_btcusdt(shared_data, btc):
    """Spread, levels changed per diff and trade size sit in the range of a real BTCUSDT capture."""
    spreads, levels, notionals = _capture_stats(
        shared_data / "hftbacktest" / "spot" / "btcusdt_20240808.gz", 40_000
    )
    model = _model(btc)
    quote_per_lot = Decimal("65000") * Decimal(btc.lot_size)
    model_levels, model_spreads, model_notionals = [], [], []
    for activity, bid, ask in _run(model, 120):
        model_levels.append(len({(c.side, c.price) for c in activity.changes}))
        model_spreads.append(ask - bid)
        model_notionals += [t.size * quote_per_lot for t in activity.trades]
    # real BTCUSDT sits at one tick most of the time; the model at one to a few
    assert statistics.median(spreads) == 1
    assert statistics.median(model_spreads) <= 3
    # levels changed per 100 ms diff: same order of magnitude
    real_levels, sim_levels = statistics.median(levels), statistics.median(model_levels)
    assert real_levels / 4 <= sim_levels <= real_levels * 4
    # trade notional: medians within a factor of 30, both with a heavy tail
    real_trade, sim_trade = statistics.median(notionals), statistics.median(model_notionals)
    assert real_trade / 30 <= sim_trade <= real_trade * 30
    assert max(model_notionals) > 20 * sim_trade


def test_a_take_shrinks_the_level_and_prints_one_trade_at_once(btc):
    """take() removes lots from one level under a new id and prints one trade, not held back."""
    model = _model(btc)
    price, size = model.asks()[0]
    before_id, before_trade = model.update_id, model.trade_id
    taken = model.take(Side.SELL, price, 10)
    assert [(c.side, c.price, c.size) for c in taken.changes] == [(Side.SELL, price, size - 10)]
    assert taken.changes[0].update_id == before_id + 1
    assert [(t.trade_id, t.price, t.size, t.buyer_is_maker) for t in taken.trades] == [
        (before_trade + 1, price, 10, False)
    ]
    assert taken.in_order == [taken.trades[0], taken.changes[0]]
    assert model.advance(0).changes == []


def test_a_side_emptied_by_takes_gets_a_fresh_level(btc):
    """Taking every bid leaves one new bid just below the last taken price."""
    model = _model(btc)
    low = model.bids()[-1][0]
    for price, size in model.bids():
        model.take(Side.BUY, price, size)
    assert len(model.bids()) == 1
    assert model.best_bid() == low - 1
    assert model.best_bid() < model.best_ask()


def test_a_sweep_prints_per_level_and_stops_at_min_levels(btc):
    """sweep() walks the opposite side from the touch and never empties it below min_levels."""
    model = _model(btc, min_levels=20)
    asks = model.asks()
    swept = model.sweep(Side.BUY, asks[0][1] + asks[1][1])
    assert {t.price for t in swept.trades} == {asks[0][0], asks[1][0]}
    assert sum(t.size for t in swept.trades) == asks[0][1] + asks[1][1]
    assert all(t.buyer_is_maker is False for t in swept.trades)
    huge = model.sweep(Side.SELL, 10**12)
    assert len(model.bids()) == 20
    assert huge.trades


def test_printing_a_trade_leaves_the_book_alone(btc):
    """print_trade() prints without changing any level; reserved ids skip the sequence."""
    model = _model(btc)
    bids, asks = model.bids(), model.asks()
    printed = model.print_trade(6_500_000, 3, buyer_is_maker=True)
    reserved = model.reserve_trade_id()
    assert printed.changes == []
    assert reserved == printed.trades[0].trade_id + 1
    assert (model.bids(), model.asks()) == (bids, asks)

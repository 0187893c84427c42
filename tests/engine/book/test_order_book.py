from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.book import BadLevel, OrderBook, warm_up
from engine.book.order_book import INITIAL_OVERFLOW_SLOTS
from engine.core.instruments import DecimalGrid
from engine.errors import BookError, CrossedBook
from tests.engine.book.books import BACKENDS, DictBook, assert_matches, levels, new_book, state
from tests.strategies import (
    BookLevels,
    bad_levels,
    book_deltas,
    book_snapshots,
    drifting_deltas,
    int64s,
)

EMPTY = int64s([])


@pytest.fixture
def book(make_book) -> OrderBook:
    """A book with a small window, so tests reach the window's edges quickly."""
    return make_book("TEST", window_ticks=64)


# ---- snapshots and deltas ------------------------------------------------------------------


def test_new_book_is_empty(make_book):
    """A new book has no levels, no touch, no spread and update id -1."""
    book = make_book("BTCUSDT")
    assert book.symbol == "BTCUSDT"
    assert book.update_id == -1
    assert book.update_count == 0
    assert book.levels() == ([], [])
    assert book.top(5) == ([], [])
    assert book.best_bid() is None
    assert book.best_ask() is None
    assert book.spread() is None
    assert book.mid_x2() is None
    assert book.depth() == (0, 0)
    assert not book.is_crossed()
    book.check_uncrossed()


def test_snapshot_replaces_the_whole_book(book):
    """A snapshot's levels, best-first, are all the book holds afterwards."""
    book.apply_snapshot(*levels([(100, 1), (98, 2)], [(103, 3), (101, 4)]), update_id=7)
    book.apply_snapshot(*levels([(99, 5)], [(102, 6), (104, 1)]), update_id=9)
    assert book.levels() == ([(99, 5)], [(102, 6), (104, 1)])
    assert book.update_id == 9
    assert book.update_count == 0


def test_snapshot_leaves_out_zero_sizes(book):
    """A level of size 0 in a snapshot is not a level."""
    book.apply_snapshot(*levels([(100, 0), (99, 2)], [(101, 0)]), update_id=1)
    assert book.levels() == ([(99, 2)], [])


def test_delta_sets_absolute_sizes_and_zero_deletes(book):
    """A delta's sizes replace, add and (with 0) delete levels, and count as one update."""
    book.apply_snapshot(*levels([(100, 1), (99, 2)], [(101, 3), (102, 4)]), update_id=10)
    book.apply_delta(*levels([(100, 5), (98, 1)], [(101, 0), (103, 2)]), update_id=11)
    assert book.levels() == ([(100, 5), (99, 2), (98, 1)], [(102, 4), (103, 2)])
    assert book.update_id == 11
    assert book.update_count == 1


def test_deleting_an_absent_level_changes_nothing(book):
    """A delete for a price the book does not hold, near or far, is a no-op."""
    book.apply_snapshot(*levels([(100, 1)], [(101, 1)]), update_id=1)
    book.apply_delta(*levels([(97, 0), (5, 0)], [(104, 0), (10**9, 0)]), update_id=2)
    assert book.levels() == ([(100, 1)], [(101, 1)])
    assert book.update_id == 2


def test_repeated_price_in_one_delta_applies_in_order(book):
    """When a delta names a price twice, the later size wins."""
    book.apply_delta(*levels([(100, 3), (100, 0), (99, 1), (99, 4)]), update_id=1)
    assert book.levels() == ([(99, 4)], [])


def test_clear_empties_the_book_and_resets_the_update_id(book):
    """clear() removes every level, near and far, and sets update_id to -1."""
    book.apply_snapshot(*levels([(100, 1), (1, 1)], [(101, 1), (10**8, 1)]), update_id=5)
    book.apply_delta(*levels([(99, 1)]), update_id=6)
    book.clear()
    assert book.levels() == ([], [])
    assert book.update_id == -1
    assert book.update_count == 1
    book.apply_delta(*levels([(50, 2)], [(60, 3)]), update_id=7)
    assert book.levels() == ([(50, 2)], [(60, 3)])


# ---- reads ---------------------------------------------------------------------------------


def test_touch_spread_and_mid(book):
    """Best bid and ask, spread and twice the mid come from the touch, in ticks and lots."""
    book.apply_snapshot(*levels([(100, 1), (99, 2)], [(103, 3), (104, 4)]), update_id=1)
    assert book.best_bid() == (100, 1)
    assert book.best_ask() == (103, 3)
    assert book.spread() == 3
    assert book.mid_x2() == 203


def test_top_returns_the_best_n_per_side(book):
    """top(n) gives at most n levels per side, best-first, and nothing for n <= 0."""
    book.apply_snapshot(
        *levels([(100, 1), (99, 2), (97, 3)], [(101, 1), (102, 2), (105, 3)]), update_id=1
    )
    assert book.top(2) == ([(100, 1), (99, 2)], [(101, 1), (102, 2)])
    assert book.top(10) == ([(100, 1), (99, 2), (97, 3)], [(101, 1), (102, 2), (105, 3)])
    assert book.top(0) == ([], [])
    assert book.top(-3) == ([], [])


def test_top_arrays_fills_rows_and_leaves_the_rest(book):
    """top_arrays writes bid px/sz and ask px/sz rows best-first and returns the counts."""
    book.apply_snapshot(*levels([(100, 1), (99, 2)], [(101, 3)]), update_id=1)
    out = np.full((4, 3), -1, dtype=np.int64)
    assert book.top_arrays(3, out) == (2, 1)
    assert out.tolist() == [[100, 99, -1], [1, 2, -1], [101, -1, -1], [3, -1, -1]]


def test_top_arrays_writes_no_more_columns_than_out_has(book):
    """Asking for more levels than ``out`` has columns fills only the columns there are."""
    book.apply_snapshot(*levels([(100, 1), (99, 2), (98, 3)]), update_id=1)
    out = np.zeros((4, 2), dtype=np.int64)
    assert book.top_arrays(10, out) == (2, 0)
    assert out[0].tolist() == [100, 99]


def test_top_arrays_accepts_other_integer_outputs(book):
    """An ``out`` that is not C-contiguous int64 is still filled, through a copy."""
    book.apply_snapshot(*levels([(100, 1)], [(101, 2)]), update_id=1)
    out = np.asfortranarray(np.zeros((4, 3), dtype=np.int64))
    assert book.top_arrays(3, out) == (1, 1)
    assert out[:, 0].tolist() == [100, 1, 101, 2]
    wide = np.zeros((4, 3), dtype=np.int32)
    assert book.top_arrays(3, wide) == (1, 1)
    assert wide[:, 0].tolist() == [100, 1, 101, 2]
    with pytest.raises(ValueError, match="4 rows"):
        book.top_arrays(3, np.zeros((2, 3), dtype=np.int32))


def test_top_arrays_refuses_a_short_int64_output(book):
    """A C-contiguous int64 ``out`` with fewer than 4 rows is refused, never written past."""
    book.apply_snapshot(*levels([(100, 1)], [(101, 2)]), update_id=1)
    with pytest.raises(ValueError, match="4 rows"):
        book.top_arrays(3, np.zeros((2, 3), dtype=np.int64))


# ---- crossed books -------------------------------------------------------------------------


def test_crossed_book_is_reported(book):
    """A bid above the ask is kept as received and reported as crossed."""
    book.apply_snapshot(*levels([(100, 1)], [(101, 1)]), update_id=1)
    book.apply_delta(*levels([(102, 5)]), update_id=2)
    assert book.is_crossed()
    assert book.spread() == -1
    with pytest.raises(CrossedBook) as caught:
        book.check_uncrossed()
    assert (caught.value.symbol, caught.value.best_bid, caught.value.best_ask) == ("TEST", 102, 101)
    assert "crossed" in str(caught.value)


def test_locked_book_counts_as_crossed(book):
    """Best bid equal to best ask is not a valid book either."""
    book.apply_snapshot(*levels([(100, 1)], [(100, 1)]), update_id=1)
    assert book.is_crossed()
    with pytest.raises(CrossedBook):
        book.check_uncrossed()


def test_one_sided_book_is_not_crossed(book):
    """A book with levels on one side only is not crossed."""
    book.apply_snapshot(*levels([(100, 1)]), update_id=1)
    assert not book.is_crossed()
    book.check_uncrossed()


def test_deleting_the_crossing_level_uncrosses(book):
    """Once the stale level is deleted the book is valid again."""
    book.apply_snapshot(*levels([(100, 1), (102, 1)], [(101, 1)]), update_id=1)
    assert book.is_crossed()
    book.apply_delta(*levels([(102, 0)]), update_id=2)
    assert not book.is_crossed()
    assert book.best_bid() == (100, 1)


# ---- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("msg", "match"),
    [
        (levels([(100, -1)]), "bid level 1: size must not be negative"),
        (levels([], [(101, 1), (0, 1)]), "ask level 1: price must be positive"),
        (levels([(-5, 1)]), "price must be positive"),
        (levels([((1 << 62) + 1, 1)]), "price above"),
        (BookLevels(int64s([1, 2]), int64s([1]), EMPTY, EMPTY), "differ in length"),
    ],
)
def test_bad_level_rejects_the_whole_message(book, msg, match):
    """A message with an invalid level raises BadLevel and changes nothing, not even update ids."""
    book.apply_snapshot(*levels([(100, 1)], [(101, 1)]), update_id=1)
    book.apply_delta(*levels([(99, 2)], [(102, 2)]), update_id=2)
    before = book.levels()
    good_then_bad = BookLevels(
        np.concatenate([int64s([98]), msg.bid_px]),
        np.concatenate([int64s([3]), msg.bid_sz]),
        msg.ask_px,
        msg.ask_sz,
    )
    for apply in (book.apply_delta, book.apply_snapshot):
        with pytest.raises(BadLevel, match=match):
            apply(*good_then_bad, update_id=3)
        assert book.levels() == before
        assert book.update_id == 2
        assert book.update_count == 1


def test_bad_level_names_the_level(make_book):
    """BadLevel is a BookError and a ValueError and carries the side, index, price and size."""
    book = make_book("ETHUSDT")
    with pytest.raises(BadLevel) as caught:
        book.apply_delta(*levels([(10, 1)], [(11, 1), (12, -4)]), update_id=1)
    err = caught.value
    assert isinstance(err, BookError)
    assert isinstance(err, ValueError)
    assert (err.symbol, err.side, err.index, err.price, err.size) == ("ETHUSDT", "ask", 1, 12, -4)
    assert str(err).startswith("ETHUSDT: ask level 1")


def test_float_and_multidimensional_levels_are_refused(book):
    """Levels that are not one-dimensional integers are refused, never rounded."""
    with pytest.raises(BadLevel, match="integers"):
        book.apply_delta(np.array([100.5]), int64s([1]), EMPTY, EMPTY, update_id=1)
    with pytest.raises(BadLevel, match="one-dimensional"):
        book.apply_delta(np.ones((1, 1), dtype=np.int64), int64s([1]), EMPTY, EMPTY, update_id=1)
    big = np.array([2**63], dtype=np.uint64)
    with pytest.raises(BadLevel, match="int64"):
        book.apply_delta(big, np.ones(1, dtype=np.uint64), EMPTY, EMPTY, update_id=1)
    assert book.levels() == ([], [])
    assert book.update_id == -1


def test_lists_and_narrow_integer_arrays_are_accepted(book):
    """Plain lists, int32 and strided int64 arrays are copied and applied like int64 arrays."""
    book.apply_snapshot([100, 99], [1, 2], [], [], update_id=1)
    book.apply_delta(
        np.array([98], dtype=np.int32),
        np.array([3], dtype=np.uint16),
        np.arange(101, 107, 2, dtype=np.int64)[::2],
        np.ones(6, dtype=np.int64)[::2][:2],
        update_id=2,
    )
    assert book.levels() == ([(100, 1), (99, 2), (98, 3)], [(101, 1), (105, 1)])


def test_window_size_is_checked(make_book):
    """A window below 16 ticks or above 2**24 is refused."""
    with pytest.raises(ValueError, match="window_ticks"):
        make_book("X", window_ticks=8)
    with pytest.raises(ValueError, match="window_ticks"):
        make_book("X", window_ticks=(1 << 24) + 1)


def test_warm_up_is_idempotent():
    """warm_up() can be called any number of times; books made afterwards are compiled ladders."""
    warm_up()
    warm_up()
    book = OrderBook("X")
    assert type(book).__name__ == "LadderBook"
    assert isinstance(book, OrderBook)
    assert book.depth() == (0, 0)


# ---- the window and the overflow store -----------------------------------------------------


def test_touch_walks_far_up_and_back_down(book):
    """The touch can climb and fall many windows away; every read follows it."""
    model = DictBook()
    mid = 10_000
    snap = levels([(mid - i, 1) for i in range(1, 6)], [(mid + i, 1) for i in range(1, 6)])
    book.apply_snapshot(*snap, update_id=0)
    model.snapshot(snap)
    for step, move in enumerate([37] * 40 + [-53] * 60 + [500, -700, 3]):
        new = mid + move
        # the venue withdraws the levels the move crossed and quotes around the new mid
        stale_bids = [(p, 0) for p in model.bids if p >= new]
        stale_asks = [(p, 0) for p in model.asks if p <= new]
        msg = levels(
            stale_bids + [(new - i, step + i) for i in range(1, 4)],
            stale_asks + [(new + i, step + i) for i in range(1, 4)],
        )
        book.apply_delta(*msg, update_id=step + 1)
        model.delta(msg)
        mid = new
        assert book.best_bid() == (mid - 1, step + 1)
        assert book.best_ask() == (mid + 1, step + 1)
        assert_matches(book, model, 4)


def test_far_levels_are_kept_and_shown(book):
    """Levels far outside the window are held and appear in levels() and top()."""
    book.apply_snapshot(
        *levels([(1000, 1), (999, 1), (3, 7)], [(1001, 1), (50_000, 8)]), update_id=1
    )
    assert book.levels() == ([(1000, 1), (999, 1), (3, 7)], [(1001, 1), (50_000, 8)])
    assert book.top(3) == ([(1000, 1), (999, 1), (3, 7)], [(1001, 1), (50_000, 8)])
    out = np.zeros((4, 3), dtype=np.int64)
    assert book.top_arrays(3, out) == (3, 2)
    assert out.tolist() == [[1000, 999, 3], [1, 1, 7], [1001, 50_000, 0], [1, 8, 0]]


def test_far_level_becomes_best_when_the_near_ones_go(book):
    """Deleting every level near the touch makes a far level the best."""
    book.apply_snapshot(*levels([(1000, 1), (999, 1), (3, 7)], [(1001, 1), (50_000, 8)]), 1)
    book.apply_delta(*levels([(1000, 0), (999, 0)], [(1001, 0)]), update_id=2)
    assert book.best_bid() == (3, 7)
    assert book.best_ask() == (50_000, 8)
    assert book.top(2) == ([(3, 7)], [(50_000, 8)])
    book.apply_delta(*levels([(4, 1)], [(49_999, 2)]), update_id=3)
    assert book.levels() == ([(4, 1), (3, 7)], [(49_999, 2), (50_000, 8)])


def test_a_jump_far_through_the_window_becomes_best(book):
    """A bid or ask far better than the whole window is the new touch at once."""
    book.apply_snapshot(*levels([(1000, 1)], [(1001, 1)]), update_id=1)
    book.apply_delta(*levels([(90_000, 2)], [(20, 3)]), update_id=2)
    assert book.best_bid() == (90_000, 2)
    assert book.best_ask() == (20, 3)
    assert book.is_crossed()
    assert book.levels() == ([(90_000, 2), (1000, 1)], [(20, 3), (1001, 1)])


@pytest.mark.parametrize("move", [-40, -9, 9, 40])
def test_levels_at_every_distance_survive_window_moves(make_book, move):
    """A level at any distance from the touch, either side of the window edge, survives a move."""
    for distance in range(1, 50):
        book = make_book("EDGE", window_ticks=16)
        model = DictBook()
        for msg, apply in (
            (levels([(1000, 1), (1000 - distance, 2)], [(1001, 1), (1001 + distance, 2)]), "s"),
            (levels([(1000, 0), (1000 + move, 3)], [(1001, 0), (1001 + move, 3)]), "d"),
            (levels([(1000 - distance, 4)], [(1001 + distance, 4)]), "d"),
            (levels([(1000 + 2 * move, 5)], [(1001 + 2 * move, 5)]), "d"),
            (levels([(1000 - distance, 0)], [(1001 + distance, 0)]), "d"),
        ):
            if apply == "s":
                book.apply_snapshot(*msg, update_id=0)
                model.snapshot(msg)
            else:
                book.apply_delta(*msg, update_id=0)
                model.delta(msg)
            assert_matches(book, model, 3)


def test_deep_books_grow_the_overflow_store(make_book):
    """Thousands of levels beyond the window are all kept, from snapshots and from deltas."""
    book = make_book("DEEP", window_ticks=16)
    model = DictBook()
    snap = levels(
        [(10_000 - 3 * i, i + 1) for i in range(2000)], [(10_001 + 5 * i, 1) for i in range(700)]
    )
    book.apply_snapshot(*snap, update_id=1)
    model.snapshot(snap)
    assert_matches(book, model, 10)
    more = levels([(1 + 2 * i, 9) for i in range(1500)], [(10**9 - i, 4) for i in range(1500)])
    book.apply_delta(*more, update_id=2)
    model.delta(more)
    assert_matches(book, model, 25)
    assert book.depth() == (3500, 2200)


def test_a_window_move_that_fills_the_overflow_store_grows_it(make_book):
    """When moving the window pushes more levels out than the store has room for, it grows."""
    half = INITIAL_OVERFLOW_SLOTS // 2
    book = make_book("GROW", window_ticks=16)
    model = DictBook()
    # 12 bids fit the window (1000..989), the other half - 12 go to the overflow store
    snap = levels([(1000 - i, 1) for i in range(16)] + [(1 + i, 2) for i in range(half - 16)])
    more = levels([(600 + i, 5) for i in range(11)])  # fills the store to half - 1
    jump = levels([(5000, 3)], [(5001, 4)])  # the window moves; all 12 window bids go out
    book.apply_snapshot(*snap, update_id=1)
    model.snapshot(snap)
    for update_id, msg in enumerate((more, jump), start=2):
        book.apply_delta(*msg, update_id=update_id)
        model.delta(msg)
        assert_matches(book, model, 20)
    assert book.best_bid() == (5000, 3)
    assert book.depth() == (half + 12, 1)


# ---- properties ----------------------------------------------------------------------------

window_sizes = st.sampled_from([16, 64, 1024])


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    window=window_sizes,
    snapshot=book_snapshots(5000),
    deltas=drifting_deltas(start=5000),
    n=st.integers(1, 12),
)
def test_book_matches_a_dict_model(
    backend: str, window: int, snapshot: BookLevels, deltas: list[BookLevels], n: int
) -> None:
    """After any snapshot and deltas the book equals a dict model: no negative or stale level."""
    book = new_book(backend, "PROP", window_ticks=window)
    model = DictBook()
    book.apply_snapshot(*snapshot, update_id=0)
    model.snapshot(snapshot)
    assert_matches(book, model, n)
    for update_id, msg in enumerate(deltas, start=1):
        book.apply_delta(*msg, update_id=update_id)
        model.delta(msg)
        assert_matches(book, model, n)
        assert book.update_id == update_id
    assert book.update_count == len(deltas)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=75, deadline=None)
@given(
    window=window_sizes,
    deltas=st.lists(book_deltas(), max_size=10),
    bad=bad_levels(),
    side=st.sampled_from(["bid", "ask"]),
    where=st.integers(0, 5),
)
def test_a_bad_message_leaves_the_book_unchanged(
    backend: str,
    window: int,
    deltas: list[BookLevels],
    bad: tuple[int, int],
    side: str,
    where: int,
) -> None:
    """Whatever the book holds, a message with one invalid level raises and changes nothing."""
    book = new_book(backend, "PROP", window_ticks=window)
    for update_id, msg in enumerate(deltas):
        book.apply_delta(*msg, update_id=update_id)
    before = (book.levels(), book.update_id, book.update_count, book.best_bid(), book.best_ask())
    good = [(1000 + i, 1) for i in range(5)]
    good.insert(where, bad)
    msg = levels(good, []) if side == "bid" else levels([], good)
    with pytest.raises(BadLevel):
        book.apply_delta(*msg, update_id=99)
    with pytest.raises(BadLevel):
        book.apply_snapshot(*msg, update_id=99)
    after = (book.levels(), book.update_id, book.update_count, book.best_bid(), book.best_ask())
    assert after == before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    window=window_sizes,
    snapshot=book_snapshots(5000),
    deltas=drifting_deltas(start=5000),
    clear_at=st.integers(0, 40),
)
def test_both_backends_agree_on_every_read(
    window: int, snapshot: BookLevels, deltas: list[BookLevels], clear_at: int
) -> None:
    """The pure-Python book and the compiled ladder give the same answer to every read."""
    books = [new_book(backend, "PROP", window_ticks=window) for backend in BACKENDS]
    for book in books:
        book.apply_snapshot(*snapshot, update_id=0)
    assert state(books[0]) == state(books[1])
    for update_id, msg in enumerate(deltas, start=1):
        for book in books:
            book.apply_delta(*msg, update_id=update_id)
            if update_id == clear_at:
                book.clear()
        assert state(books[0]) == state(books[1])


# ---- real data -----------------------------------------------------------------------------


@pytest.mark.shared_data
def test_binance_spot_capture_replays_like_a_dict_model(shared_data, make_book):
    """Ten minutes of Binance BTCUSDT diffs, synced to the REST snapshot, match a dict model.

    The capture was checked to have no gaps and never to cross, so the book must stay uncrossed
    and equal the model; BTCUSDT's 0.01 tick puts many diff levels beyond the default window.
    """
    path = shared_data / "hftbacktest" / "spot" / "btcusdt_20240808.gz"
    if not path.is_file():
        pytest.skip(f"capture {path} not found")
    price, size = DecimalGrid("0.01", "price"), DecimalGrid("0.00000001", "size")

    def side(rows: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        return (
            int64s([price.to_int(p) for p, _ in rows]),
            int64s([size.to_int(q) for _, q in rows]),
        )

    book = make_book("BTCUSDT")
    model = DictBook()
    buffered: list[tuple[int, int, BookLevels]] = []
    applied = 0
    with gzip.open(path, "rt") as lines:
        for line in lines:
            frame = json.loads(line.partition(" ")[2])
            if "lastUpdateId" in frame:
                snap = BookLevels(*side(frame["bids"]), *side(frame["asks"]))
                book.apply_snapshot(*snap, update_id=frame["lastUpdateId"])
                model.snapshot(snap)
                continue
            data = frame.get("data", {})
            if data.get("e") != "depthUpdate":
                continue
            msg = BookLevels(*side(data["b"]), *side(data["a"]))
            buffered.append((data["U"], data["u"], msg))
            if book.update_id < 0:
                continue
            for first, last, pending in buffered:
                if last <= book.update_id:
                    continue
                assert first <= book.update_id + 1, "the capture has a gap"
                book.apply_delta(*pending, update_id=last)
                model.delta(pending)
                applied += 1
                book.check_uncrossed()
                bids, asks = model.levels()
                assert book.top(20) == (bids[:20], asks[:20])
            buffered.clear()
    assert applied > 1000
    assert book.levels() == model.levels()

"""Books moving from the pure-Python backend onto the compiled ladder, mid-stream, state intact."""

from __future__ import annotations

import gc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.book import order_book
from engine.book.ladder_book import LadderBook, move_onto_ladder
from engine.book.order_book import INITIAL_OVERFLOW_SLOTS, OrderBook
from tests.engine.book.books import DictBook, assert_matches, levels, new_book, state
from tests.strategies import BookLevels, book_snapshots, drifting_deltas


@pytest.fixture
def before_compiling(monkeypatch):
    """This process as it is before the ladder is loaded: new books start on pure Python."""
    order_book.use_compiled()  # loaded once for the whole test process
    monkeypatch.setattr(order_book, "_move_onto_ladder", None)
    monkeypatch.setattr(order_book, "_live", order_book.weakref.WeakSet())


def test_moving_keeps_levels_ids_and_counts():
    """A book with near and far levels moves with the same levels, update id and count."""
    book = new_book("python", "MOVE", window_ticks=16)
    book.apply_snapshot(*levels([(1000, 1), (999, 2), (3, 7)], [(1001, 4), (90_000, 8)]), 41)
    book.apply_delta(*levels([(998, 5)], [(1001, 0), (1002, 6)]), update_id=42)
    before = state(book)
    move_onto_ladder(book)
    assert type(book) is LadderBook
    assert state(book) == before
    assert (book.update_id, book.update_count) == (42, 1)


def test_moving_a_deep_book_grows_its_overflow_store():
    """More far levels than a new ladder's overflow store holds are all carried over."""
    book = new_book("python", "DEEP", window_ticks=16)
    far = INITIAL_OVERFLOW_SLOTS
    book.apply_snapshot(
        *levels(
            [(10_000 - 7 * i, i + 1) for i in range(far)], [(20_000 + 3 * i, 2) for i in range(far)]
        ),
        update_id=5,
    )
    before = state(book)
    move_onto_ladder(book)
    assert state(book) == before
    assert book.depth() == (far, far)


def test_an_empty_book_moves_and_stays_usable():
    """An empty book moves; afterwards it takes messages like any ladder book."""
    book = new_book("python", "EMPTY")
    move_onto_ladder(book)
    assert state(book) == state(new_book("ladder", "EMPTY"))
    book.apply_delta(*levels([(5, 1)], [(6, 2)]), update_id=1)
    assert book.levels() == ([(5, 1)], [(6, 2)])


def test_loading_the_ladder_moves_every_live_book_in_place(before_compiling):
    """Books made before the ladder loads are moved by it; holders keep the same objects."""
    books = [OrderBook(f"B{i}", window_ticks=64) for i in range(3)]
    assert all(type(book) is OrderBook for book in books)
    assert not order_book.compiled()
    for i, book in enumerate(books):
        book.apply_snapshot(*levels([(100 + i, 1)], [(200 + i, 2)]), update_id=i)
    held = {id(book): book for book in books}
    before = [state(book) for book in books]
    assert order_book.use_compiled() == 3
    assert all(type(book) is LadderBook for book in books)
    assert [state(book) for book in books] == before
    assert all(held[id(book)] is book for book in books)
    assert type(OrderBook("AFTER")) is LadderBook


def test_books_that_are_gone_are_not_moved(before_compiling):
    """The registry of books waiting to move holds them weakly."""
    kept = OrderBook("KEPT")
    OrderBook("DROPPED")
    gc.collect()
    assert order_book.use_compiled() == 1
    assert type(kept) is LadderBook


def test_warm_up_waits_for_a_background_compile(before_compiling, monkeypatch):
    """While a background compile is pending, warm_up() leaves books on pure Python."""
    monkeypatch.setattr(order_book.jit, "_deferred", True)
    book = OrderBook("WAIT")
    order_book.warm_up()
    assert type(book) is OrderBook
    assert not order_book.compiled()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    window=st.sampled_from([16, 64, 1024]),
    snapshot=book_snapshots(5000),
    deltas=drifting_deltas(start=5000),
    move_at=st.integers(0, 30),
)
def test_moving_mid_stream_changes_nothing_a_reader_sees(
    window: int, snapshot: BookLevels, deltas: list[BookLevels], move_at: int
) -> None:
    """Moving at any point of a stream leaves the book equal to one that never moved."""
    moving = new_book("python", "MID", window_ticks=window)
    staying = new_book("python", "MID", window_ticks=window)
    model = DictBook()
    for book in (moving, staying):
        book.apply_snapshot(*snapshot, update_id=0)
    model.snapshot(snapshot)
    for update_id, msg in enumerate(deltas, start=1):
        if update_id == move_at:
            move_onto_ladder(moving)
        for book in (moving, staying):
            book.apply_delta(*msg, update_id=update_id)
        model.delta(msg)
        assert state(moving) == state(staying)
    assert_matches(moving, model, 10)
    assert type(moving) is (LadderBook if 1 <= move_at <= len(deltas) else OrderBook)

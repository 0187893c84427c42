"""The shared book-keeping pieces: truncation, crossed check, CRC32 readings, resync causes."""

from __future__ import annotations

import numpy as np
import pytest

from engine.book.order_book import OrderBook
from engine.errors import CrossedBook
from engine.ipc.protocol import ResyncReason
from engine.venues.book_sync import (
    ResyncCause,
    check_uncrossed,
    signed_crc32,
    truncate,
    unsigned_crc32,
)


def arr(*values: int) -> np.ndarray:
    """An int64 array."""
    return np.array(values, dtype=np.int64)


def test_truncate_drops_the_worst_levels_of_each_side():
    """Levels past the depth go, best ones stay; the update count is unchanged."""
    book = OrderBook("X")
    book.apply_snapshot(arr(10, 9, 8), arr(1, 1, 1), arr(11, 12, 13), arr(1, 1, 1), 5)
    assert truncate(book, 2) == ([8], [13])
    assert book.levels() == ([(10, 1), (9, 1)], [(11, 1), (12, 1)])
    assert (book.update_id, book.update_count) == (5, 0)
    assert truncate(book, 2) == ([], [])


def test_check_uncrossed_raises_with_the_touch():
    """A bid at the ask is crossed."""
    book = OrderBook("X")
    book.apply_snapshot(arr(11), arr(1), arr(11), arr(1), 1)
    with pytest.raises(CrossedBook) as caught:
        check_uncrossed(book)
    assert (caught.value.best_bid, caught.value.best_ask) == (11, 11)


def test_crc32_readings():
    """OKX reads the CRC signed, Kraken unsigned (test-vectors.md §6 and §8)."""
    assert signed_crc32("3366.1:7:3366.8:9:3366:6:3368:8") == -1881014294
    assert unsigned_crc32("3366.1:7:3366.8:9:3366:6:3368:8") == (1 << 32) - 1881014294


def test_every_cause_maps_onto_the_ipc_reasons():
    """Checksum and stale-snapshot resyncs travel as GAP; the rest keep their name."""
    assert {c: c.ipc_reason() for c in ResyncCause} == {
        ResyncCause.GAP: ResyncReason.GAP,
        ResyncCause.CHECKSUM: ResyncReason.GAP,
        ResyncCause.STALE_SNAPSHOT: ResyncReason.GAP,
        ResyncCause.CROSSED: ResyncReason.CROSSED,
        ResyncCause.MALFORMED: ResyncReason.MALFORMED,
        ResyncCause.RECONNECT: ResyncReason.RECONNECT,
    }

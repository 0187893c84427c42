"""The tick-to-order benchmark: registered, and its frames move the touch as it claims."""

from __future__ import annotations

import numpy as np

from engine.bench import SUBJECTS, runner
from engine.bench.tick_to_order import BTC, MID, MOVE, frames, run
from engine.book.order_book import OrderBook
from engine.core.events import BookDelta
from engine.venues.binance.protocol import BinanceSpotParser


def test_tick_to_order_is_a_registered_subject():
    """``hft-tui bench tick-to-order`` finds the subject's run function."""
    assert SUBJECTS["tick-to-order"] == "engine.bench.tick_to_order"
    assert runner("tick-to-order") is run


def test_frames_move_the_touch_up_and_back_with_contiguous_ids():
    """Each frame parses for the instrument, follows the last id, and flips the touch by MOVE."""
    parser = BinanceSpotParser([BTC])
    book = OrderBook(BTC.symbol)
    px = np.array([MID - 1], dtype=np.int64)
    sz = np.array([5_000_000], dtype=np.int64)
    book.apply_snapshot(px, sz, px + 2, sz, 1000)
    last = 1000
    for n, raw in enumerate(frames(6)):
        delta = parser.parse_frame(raw, 0)
        assert isinstance(delta, BookDelta)
        assert delta.first_id == last + 1
        last = delta.last_id
        book.apply_delta(delta.bid_px, delta.bid_sz, delta.ask_px, delta.ask_sz, delta.last_id)
        shift = MOVE if n % 2 == 0 else 0
        assert book.best_bid() == (MID - 1 + shift, 50_000)
        assert book.best_ask() == (MID + 1 + shift, 50_000)
    assert frames(2, first_id=77)[0].count(b'"U":77') == 1

"""StateReader on real segments written by the engine-side publisher."""

from __future__ import annotations

import msgspec

from engine.ipc.protocol import EventKind, Flag, LinkState, pack
from engine.ipc.publisher import EnginePublisher
from hft_tui.bridge import EngineBridge
from hft_tui.state_reader import IDLE_FRAME_NS, TAPE_LENGTH, StateReader
from tests.hft_tui.conftest import SYMBOL, book_view, engine_view, order_row, trading_view

SECOND = 1_000_000_000


def test_reader_returns_nothing_when_nothing_changed(reader, sim_clock):
    """A second read with no new page, event or time returns None: nothing to redraw."""
    first = reader.read()
    assert first is not None
    assert first.book == book_view()
    assert reader.read() is None
    sim_clock.advance(IDLE_FRAME_NS)
    later = reader.read()
    assert later is not None  # heartbeat ages still move on an idle engine
    assert later.seq == first.seq + 1  # a frame not handed out is not a replaced one


def test_reader_counts_page_versions_it_never_read(reader, publisher):
    """Writes that a newer write superseded before the read count as skipped."""
    reader.read()
    for n in range(4):
        publisher.publish_book(book_view(update_count=n + 2))
    frame = reader.read()
    assert frame is not None
    assert frame.skipped == 3
    assert frame.book is not None
    assert frame.book.update_count == 5


def test_reader_keeps_recent_trades_newest_first(reader, publisher):
    """Trades of the shown instrument go on the tape, newest first, bounded in length."""
    for n in range(TAPE_LENGTH + 5):
        flag = Flag.BUY if n % 2 else Flag.SELL
        publisher.emit(pack(EventKind.TRADE, flag, 0, exch_ts=n, price=100 + n, size=1, aux=n))
    publisher.emit(pack(EventKind.TRADE, Flag.BUY, 7, price=1, size=1))  # another instrument
    frame = reader.read()
    assert frame is not None
    assert len(frame.trades) == TAPE_LENGTH
    newest = frame.trades[0]
    assert (newest.price, newest.buy, newest.trade_id) == (100 + TAPE_LENGTH + 4, False, 68)


def test_silent_engine_is_lost_after_a_second(reader, sim_clock):
    """A heartbeat older than a second makes the frame lost and the book stale."""
    assert reader.read().lost == ""
    sim_clock.advance(SECOND + 1)
    frame = reader.read()
    assert frame is not None
    assert frame.lost == "silent"
    assert frame.book_state == "stale"
    assert frame.heartbeat_age_ns == SECOND + 1


def test_kill_pending_until_the_page_says_halted(reader, publisher, sim_clock, instance):
    """After kill_sent the frames show the kill pending until the engine page says halted."""
    reader.read()
    reader.kill_sent()
    pending = reader.read()
    assert pending is not None
    assert pending.kill_pending
    assert pending.trading == "running"
    sim_clock.advance(SECOND // 10)
    publisher.publish_engine(
        engine_view(sim_clock, instance, trading="halted", halt_reason="kill switch (ui)")
    )
    halted = reader.read()
    assert halted is not None
    assert halted.trading == "halted"
    assert not halted.kill_pending


def test_an_old_halted_event_does_not_override_a_newer_page(reader, publisher, sim_clock):
    """The page is the truth: a HALTED event older than the page's heartbeat is ignored."""
    reader.read()
    publisher.emit(pack(EventKind.HALTED, engine_ts=sim_clock.time_ns() - 1, aux=1))
    frame = reader.read()
    assert frame is not None
    assert frame.trading == "running"


def test_link_change_event_newer_than_the_page_wins(reader, publisher, sim_clock):
    """A LINK_CHANGED event newer than the engine page shows the new link state at once."""
    reader.read()
    sim_clock.advance(1)
    publisher.emit(
        pack(EventKind.LINK_CHANGED, engine_ts=sim_clock.time_ns(), aux=LinkState.CONNECTING)
    )
    frame = reader.read()
    assert frame is not None
    assert frame.link == "connecting"


def test_book_resync_event_marks_the_book_syncing(reader, publisher):
    """A BOOK_RESYNC in this batch shows the book syncing; BOOK_LIVE after it clears that."""
    reader.read()
    publisher.emit(pack(EventKind.BOOK_RESYNC, instrument=0, aux=1))
    assert reader.read().book_state == "syncing"
    publisher.emit(pack(EventKind.BOOK_RESYNC, instrument=0, aux=1))
    publisher.emit(pack(EventKind.BOOK_LIVE, instrument=0, seq=5))
    assert reader.read().book_state == "live"


def test_unwritten_book_page_reads_as_waiting(sim_clock, instance):
    """Before the engine's first book write the frame has no book and says waiting."""
    name = instance
    pub = EnginePublisher.create(name, [SYMBOL], clock=sim_clock)
    bridge = EngineBridge.attach(name, clock=sim_clock)
    try:
        frame = StateReader(bridge, 0, sim_clock).read()
        assert frame is not None
        assert frame.book is None
        assert frame.book_state == "waiting"
        assert frame.trading == "unknown"
        assert frame.symbol == SYMBOL
    finally:
        bridge.close()
        pub.close()


def test_ring_statistics_are_the_ui_side_view(reader, publisher):
    """The frame carries the event ring's depth and capacity as the UI sees them now."""
    frame = reader.read()
    assert frame is not None
    assert frame.events_ring.capacity == publisher.events_stats().capacity
    assert frame.events_ring.depth == 0


def test_frames_carry_the_desk_fills_and_the_control_url(reader, publisher, instance):
    """A trading page and FILL events reach the frame's desk; the control URL comes along."""
    publisher.publish_trading(trading_view(orders=[order_row(2, instance=instance)]))
    publisher.emit(pack(EventKind.FILL, Flag.SELL, 0, engine_ts=5, price=100, size=7, seq=2, aux=2))
    frame = reader.read()
    assert frame is not None
    assert [o.client_order_id for o in frame.desk.working(0)] == [f"{instance}-2"]
    [fill] = frame.desk.fills
    assert (fill.counter, fill.buy, fill.size, fill.maker) == (2, False, 7, False)
    assert frame.desk.market(0).tick_size == "0.01"
    assert frame.instrument == 0
    assert frame.control_url == ""


def test_grids_of_other_instruments_come_from_their_book_pages(sim_clock, instance):
    """Orders on an instrument not on show still print on its own grid."""
    pub = EnginePublisher.create(instance, ["ETHUSDT", SYMBOL], clock=sim_clock)
    try:
        pub.publish_engine(engine_view(sim_clock, instance))
        pub.publish_book(msgspec.structs.replace(book_view(), instrument=1))
        pub.publish_book(
            msgspec.structs.replace(
                book_view(), symbol="ETHUSDT", tick_size="0.1", lot_size="0.001"
            )
        )
        bridge = EngineBridge.attach(instance, clock=sim_clock)
        try:
            frame = StateReader(bridge, 1, sim_clock).read()
            assert frame is not None
            assert (frame.desk.market(0).tick_size, frame.desk.market(0).lot_size) == (
                "0.1",
                "0.001",
            )
            assert frame.desk.market(1).tick_size == "0.01"
        finally:
            bridge.close()
    finally:
        pub.close()

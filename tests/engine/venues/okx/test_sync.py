"""OKX ``books`` rules on hand-made messages: chain, reset, gaps, checksums, REST snapshots."""

from __future__ import annotations

import json

import pytest

from engine.book.order_book import OrderBook
from engine.core.instruments import Instrument
from engine.errors import ChecksumMismatch, CrossedBook, SequenceGap, SnapshotError
from engine.venues.book_sync import BookPhase, ResyncCause, signed_crc32
from engine.venues.okx.protocol import OkxBook, OkxParser
from engine.venues.okx.sync import OkxBookSync, OkxOutcome

INST = Instrument(venue="okx", symbol="ETH-USDT", tick_size="0.1", lot_size="1")


def frame(action: str, bids, asks, *, checksum=0, seq=None, prev=None, ts="1700000000") -> bytes:
    """A books frame."""
    data: dict[str, object] = {"asks": asks, "bids": bids, "ts": ts, "checksum": checksum}
    if seq is not None:
        data["seqId"] = seq
    if prev is not None:
        data["prevSeqId"] = prev
    return json.dumps(
        {"arg": {"channel": "books", "instId": "ETH-USDT"}, "action": action, "data": [data]}
    ).encode()


def lv(price: str, size: str) -> list[str]:
    """One OKX level."""
    return [price, size, "0", "1"]


def setup() -> tuple[OkxParser, OkxBookSync]:
    """A parser and a sync for INST."""
    parser = OkxParser([INST])
    price, size = parser.grids(INST.symbol)
    return parser, OkxBookSync(INST, OrderBook(INST.symbol), price, size)


def one(parser: OkxParser, raw: bytes) -> OkxBook:
    """The one book message of a frame."""
    (msg,) = parser.parse(raw, 1)
    assert isinstance(msg, OkxBook)
    return msg


def test_the_documented_checksum_vectors():
    """test-vectors.md §8: both OKX examples, from the parsed messages."""
    parser, sync = setup()
    bids = [["3366.1", "7", "0", "3"], ["3366", "6", "3", "4"]]
    asks = [["3366.8", "9", "10", "3"], ["3368", "8", "3", "4"]]
    sync.on_message(one(parser, frame("snapshot", bids, asks, checksum=-1881014294)))
    assert sync.check_text() == "3366.1:7:3366.8:9:3366:6:3368:8"
    assert sync.checksums_verified == 1
    bids = [["3366.1", "7", "0", "3"]]
    asks = [["3366.8", "9", "10", "3"], ["3368", "8", "3", "4"], ["3372", "8", "3", "4"]]
    sync.on_message(one(parser, frame("snapshot", bids, asks, checksum=831078360)))
    assert sync.check_text() == "3366.1:7:3366.8:9:3368:8:3372:8"
    assert signed_crc32(sync.check_text()) == 831078360


def test_texts_off_the_shortest_form_are_kept_for_the_checksum():
    """A venue text such as ``3366.10`` is checksummed as sent, then forgotten when it changes."""
    parser, sync = setup()
    text = "3366.10:7:3366.8:09"
    msg = one(
        parser,
        frame("snapshot", [lv("3366.10", "7")], [lv("3366.8", "09")], checksum=signed_crc32(text)),
    )
    assert len(msg.odd) == 2
    sync.on_message(msg)
    assert sync.check_text() == text
    assert sync.texts.kept == 2
    sync.on_message(one(parser, frame("update", [lv("3366.1", "5")], [lv("3366.8", "0")])))
    assert sync.check_text() == "3366.1:5"
    assert sync.texts.kept == 0


def test_chain_heartbeat_and_reset_are_accepted():
    """PrevSeqId == last seqId; a heartbeat repeats the id; seqId < prevSeqId is a reset."""
    parser, sync = setup()
    sync.on_message(
        one(parser, frame("snapshot", [lv("10", "1")], [lv("11", "1")], seq=10, prev=-1))
    )
    for prev, seq in ((10, 15), (15, 15), (15, 3), (3, 5)):
        outcome = sync.on_message(one(parser, frame("update", [], [], seq=seq, prev=prev)))
        assert outcome is OkxOutcome.APPLIED
    assert sync.seq_id == 5
    assert sync.book.update_id == 5


def test_a_gap_throws_the_book_away():
    """PrevSeqId that is not the last seqId: SequenceGap, empty book, cause GAP."""
    parser, sync = setup()
    sync.on_message(one(parser, frame("snapshot", [lv("10", "1")], [lv("11", "1")], seq=10)))
    with pytest.raises(SequenceGap) as caught:
        sync.on_message(one(parser, frame("update", [lv("10", "2")], [], seq=13, prev=12)))
    assert (caught.value.expected, caught.value.received) == (10, 12)
    assert sync.phase is BookPhase.SYNCING
    assert sync.snapshot_wanted
    assert sync.resync_cause is ResyncCause.GAP
    assert sync.book.depth() == (0, 0)


def test_a_bad_checksum_throws_the_book_away():
    """A non-zero checksum that disagrees: ChecksumMismatch with both values, cause CHECKSUM."""
    parser, sync = setup()
    sync.on_message(one(parser, frame("snapshot", [lv("10", "1")], [lv("11", "1")])))
    with pytest.raises(ChecksumMismatch) as caught:
        sync.on_message(one(parser, frame("update", [lv("10", "2")], [], checksum=12345)))
    assert caught.value.expected == 12345
    assert caught.value.computed == signed_crc32("10:2:11:1")
    assert sync.resync_cause is ResyncCause.CHECKSUM
    assert sync.book.depth() == (0, 0)


def test_a_zero_checksum_is_not_compared():
    """Since 2026-06-23 the venue sends 0: it is counted, not compared."""
    parser, sync = setup()
    sync.on_message(one(parser, frame("snapshot", [lv("10", "1")], [lv("11", "1")])))
    sync.on_message(one(parser, frame("update", [lv("10", "2")], [])))
    assert (sync.checksums_verified, sync.checksums_absent) == (0, 2)


def test_a_crossed_book_throws_the_book_away_unless_allowed():
    """Bid at or above the ask after an update: CrossedBook, cause CROSSED; pre-open allows it."""
    parser, sync = setup()
    sync.on_message(one(parser, frame("snapshot", [lv("10", "1")], [lv("11", "1")])))
    with pytest.raises(CrossedBook):
        sync.on_message(one(parser, frame("update", [lv("11", "1")], [])))
    assert sync.resync_cause is ResyncCause.CROSSED
    price, size = parser.grids(INST.symbol)
    auction = OkxBookSync(INST, OrderBook(INST.symbol), price, size, allow_crossed=True)
    auction.on_message(one(parser, frame("snapshot", [lv("12", "1")], [lv("11", "1")])))
    assert auction.book.is_crossed()


def test_a_snapshot_replaces_the_book_in_any_phase():
    """A WS snapshot mid-stream replaces every level and the book is live."""
    parser, sync = setup()
    sync.on_message(one(parser, frame("snapshot", [lv("10", "1"), lv("9", "1")], [lv("11", "1")])))
    outcome = sync.on_message(one(parser, frame("snapshot", [lv("8", "3")], [lv("12", "4")])))
    assert outcome is OkxOutcome.SNAPSHOT
    assert sync.book.levels() == ([(80, 3)], [(120, 4)])


def rest(seq: int) -> bytes:
    """A REST books answer at seqId ``seq``."""
    return json.dumps(
        {
            "code": "0",
            "msg": "",
            "data": [{"asks": [lv("11", "1")], "bids": [lv("10", "1")], "ts": "1", "seqId": seq}],
        }
    ).encode()


def test_rest_snapshot_procedure_drops_covered_updates_and_replays_the_rest():
    """2026: buffered updates with seqId <= snapshot go; prevSeqId <= snap < seqId goes on."""
    parser, sync = setup()
    for prev, seq in ((1, 4), (4, 7), (7, 9)):
        assert (
            sync.on_message(
                one(parser, frame("update", [lv("10", str(seq))], [], seq=seq, prev=prev))
            )
            is OkxOutcome.BUFFERED
        )
    snap = parser.parse_rest_snapshot(rest(5), INST.symbol, 2)
    assert sync.on_rest_snapshot(snap) is OkxOutcome.WENT_LIVE
    assert sync.phase is BookPhase.LIVE
    assert sync.book.best_bid() == (100, 9)
    assert sync.seq_id == 9


def test_rest_snapshot_too_old_is_refused_and_a_later_one_bridges():
    """A snapshot before the first buffered prevSeqId is refused; with none buffered, bridging."""
    parser, sync = setup()
    sync.on_message(one(parser, frame("update", [], [], seq=20, prev=18)))
    with pytest.raises(SnapshotError):
        sync.on_rest_snapshot(parser.parse_rest_snapshot(rest(12), INST.symbol, 2))
    assert (
        sync.on_rest_snapshot(parser.parse_rest_snapshot(rest(25), INST.symbol, 3))
        is OkxOutcome.SNAPSHOT
    )
    assert sync.phase is BookPhase.BRIDGING
    assert (
        sync.on_message(one(parser, frame("update", [], [], seq=24, prev=22))) is OkxOutcome.STALE
    )
    assert (
        sync.on_message(one(parser, frame("update", [lv("10", "5")], [], seq=27, prev=25)))
        is OkxOutcome.WENT_LIVE
    )
    assert (
        sync.on_rest_snapshot(parser.parse_rest_snapshot(rest(30), INST.symbol, 4))
        is OkxOutcome.IGNORED
    )


def test_the_first_update_starting_after_a_bridging_snapshot_means_fetch_again():
    """Bridging, then an update with prevSeqId past the snapshot: SnapshotError, stale snapshot."""
    parser, sync = setup()
    sync.on_rest_snapshot(parser.parse_rest_snapshot(rest(25), INST.symbol, 3))
    with pytest.raises(SnapshotError):
        sync.on_message(one(parser, frame("update", [], [], seq=31, prev=29)))
    assert sync.resync_cause is ResyncCause.STALE_SNAPSHOT
    assert sync.buffered == 1

"""Kraken book rules on hand-made v1 and v2 messages: vectors, truncation, checksum failures."""

from __future__ import annotations

import json

import pytest

from engine.book.order_book import OrderBook
from engine.core.instruments import Instrument
from engine.errors import ChecksumMismatch, CrossedBook
from engine.venues.book_sync import BookPhase, ResyncCause, unsigned_crc32
from engine.venues.kraken.protocol import KrakenBook, KrakenParser
from engine.venues.kraken.sync import KrakenBookSync, KrakenOutcome

V2 = Instrument(venue="kraken", symbol="BTC/USD", tick_size="0.1", lot_size="0.00000001")
V1 = Instrument(venue="kraken", symbol="XBT/EUR", tick_size="0.00001", lot_size="0.00000001")

V2_BIDS = [
    ("45283.5", "0.10000000"), ("45283.4", "1.54582015"), ("45282.1", "0.10000000"),
    ("45281.0", "0.10000000"), ("45280.3", "1.54592586"), ("45279.0", "0.07990000"),
    ("45277.6", "0.03310103"), ("45277.5", "0.30000000"), ("45277.3", "1.54602737"),
    ("45276.6", "0.15445238"),
]  # fmt: skip
V2_ASKS = [
    ("45285.2", "0.00100000"), ("45286.4", "1.54571953"), ("45286.6", "1.54571109"),
    ("45289.6", "1.54560911"), ("45290.2", "0.15890660"), ("45291.8", "1.54553491"),
    ("45294.7", "0.04454749"), ("45296.1", "0.35380000"), ("45297.5", "0.09945542"),
    ("45299.5", "0.18772827"),
]  # fmt: skip


def v2_frame(kind: str, bids, asks, checksum: int) -> bytes:
    """A v2 book frame; numbers are written as JSON numbers, as Kraken sends them."""

    def side(levels):
        return "[" + ",".join(f'{{"price":{p},"qty":{q}}}' for p, q in levels) + "]"

    return (
        f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"BTC/USD","bids":{side(bids)},'
        f'"asks":{side(asks)},"checksum":{checksum},"timestamp":"2023-07-30T15:29:58.343415Z"}}]}}'
    ).encode()


def v1_frame(body: dict, depth: int = 10) -> bytes:
    """A v1 book frame for XBT/EUR."""
    return json.dumps([336, body, f"book-{depth}", "XBT/EUR"]).encode()


def setup(inst: Instrument, depth: int = 10) -> tuple[KrakenParser, KrakenBookSync]:
    """A parser and a sync for one pair."""
    parser = KrakenParser([inst])
    price, size = parser.grids(inst.symbol)
    return parser, KrakenBookSync(inst, OrderBook(inst.symbol), price, size, depth=depth)


def one(parser: KrakenParser, raw: bytes) -> KrakenBook:
    """The one book message of a frame."""
    (msg,) = parser.parse(raw, 1)
    assert isinstance(msg, KrakenBook)
    return msg


def test_the_v2_documented_vector():
    """test-vectors.md §7: the BTC/USD snapshot checksums to 3310070434 (45281.0 -> 452810)."""
    parser, sync = setup(V2)
    assert sync.on_message(one(parser, v2_frame("snapshot", V2_BIDS, V2_ASKS, 3310070434))) is (
        KrakenOutcome.SNAPSHOT
    )
    assert sync.checksums_verified == 1
    assert sync.check_text().startswith("452852100000")
    assert "452810100000004528031545925" in sync.check_text()


def test_the_v1_documented_vector():
    """test-vectors.md §6: ten asks and bids of 0.00000500 checksum to 974947235."""
    inst = Instrument(venue="kraken", symbol="XBT/EUR", tick_size="0.00001", lot_size="0.00000001")
    asks = [f"0.{n:05d}" for n in range(5005, 5051, 5)]
    bids = [f"0.{n:05d}" for n in (5000, 4995, 4990, 4980, 4975, 4970, 4965, 4960, 4955, 4950)]
    parser, sync = setup(inst)
    snap = {
        "as": [[p, "0.00000500", "1.0"] for p in asks],
        "bs": [[p, "0.00000500", "1.0"] for p in bids],
    }
    sync.on_message(one(parser, v1_frame(snap)))
    assert sync.check_text().startswith("5005500" + "5010500")
    assert sync.checksum() == 974947235


def test_v1_update_applies_truncates_and_verifies():
    """A new level past depth pushes the worst one out; the checksum is over the truncated book."""
    parser, sync = setup(V1, depth=2)
    snap = {"as": [["10.00000", "1.00000000", "1.0"], ["11.00000", "1.00000000", "1.0"]],
            "bs": [["9.00000", "1.00000000", "1.0"], ["8.00000", "1.00000000", "1.0"]]}  # fmt: skip
    sync.on_message(one(parser, v1_frame(snap, depth=2)))
    expected = unsigned_crc32(
        "950000100000000" + "1000000100000000" + "900000100000000" + "800000100000000"
    )
    update = {"a": [["9.50000", "1.00000000", "2.0"]], "c": str(expected)}
    assert sync.on_message(one(parser, v1_frame(update, depth=2))) is KrakenOutcome.APPLIED
    assert sync.book.levels() == (
        [(900000, 100000000), (800000, 100000000)],
        [(950000, 100000000), (1000000, 100000000)],
    )
    assert sync.checksums_verified == 1


def test_v1_update_in_two_objects_uses_the_last_checksum():
    """[id, {"a": ...}, {"b": ..., "c": ...}, name, pair]: both sides apply, c from the last."""
    parser, sync = setup(V1)
    sync.on_message(
        one(
            parser,
            v1_frame(
                {
                    "as": [["10.00000", "1.00000000", "1.0"]],
                    "bs": [["9.00000", "1.00000000", "1.0"]],
                }
            ),
        )
    )
    expected = unsigned_crc32("1000000200000000" + "900000300000000")
    raw = json.dumps(
        [
            336,
            {"a": [["10.00000", "2.00000000", "2.0", "r"]]},
            {"b": [["9.00000", "3.00000000", "2.0"]], "c": str(expected)},
            "book-10",
            "XBT/EUR",
        ]
    ).encode()
    assert sync.on_message(one(parser, raw)) is KrakenOutcome.APPLIED


def test_a_bad_checksum_throws_the_book_away_until_a_snapshot():
    """Mismatch: ChecksumMismatch, empty book, updates skipped until a snapshot rebuilds it."""
    parser, sync = setup(V2)
    sync.on_message(one(parser, v2_frame("snapshot", V2_BIDS, V2_ASKS, 3310070434)))
    with pytest.raises(ChecksumMismatch) as caught:
        sync.on_message(one(parser, v2_frame("update", [("45283.5", "0.2")], [], 3310070434)))
    assert caught.value.expected == 3310070434
    assert sync.resync_cause is ResyncCause.CHECKSUM
    assert sync.phase is BookPhase.SYNCING
    assert sync.book.depth() == (0, 0)
    assert (
        sync.on_message(one(parser, v2_frame("update", [("45283.5", "0.2")], [], 1)))
        is KrakenOutcome.SKIPPED
    )
    sync.on_message(one(parser, v2_frame("snapshot", V2_BIDS, V2_ASKS, 3310070434)))
    assert sync.phase is BookPhase.LIVE


def test_a_snapshot_replaces_the_book():
    """Every level of the previous book goes."""
    parser, sync = setup(V2)
    sync.on_message(one(parser, v2_frame("snapshot", V2_BIDS, V2_ASKS, 3310070434)))
    bids, asks = [("100.0", "1.0")], [("101.0", "2.0")]
    sync.on_message(
        one(parser, v2_frame("snapshot", bids, asks, unsigned_crc32("10102000000001000100000000")))
    )
    assert sync.book.levels() == ([(1000, 100000000)], [(1010, 200000000)])


def test_a_crossed_book_throws_the_book_away():
    """A bid at the ask after an update (with a matching checksum): CrossedBook, cause CROSSED."""
    parser, sync = setup(V2)
    sync.on_message(
        one(
            parser,
            v2_frame(
                "snapshot",
                [("100.0", "1.0")],
                [("101.0", "2.0")],
                unsigned_crc32("10102000000001000100000000"),
            ),
        )
    )
    crossed = unsigned_crc32("1010200000000" + "1010100000000" + "1000100000000")
    with pytest.raises(CrossedBook):
        sync.on_message(one(parser, v2_frame("update", [("101.0", "1.0")], [], crossed)))
    assert sync.resync_cause is ResyncCause.CROSSED


def _v2_check(bids, asks) -> int:
    """Kraken's v2 checksum computed from (price, qty) text at 1 and 8 decimals, independently."""
    from decimal import Decimal

    def digits(value: str, places: int) -> str:
        return f"{Decimal(value):.{places}f}".replace(".", "").lstrip("0")

    asks = sorted(asks, key=lambda lv: Decimal(lv[0]))[:10]
    bids = sorted(bids, key=lambda lv: -Decimal(lv[0]))[:10]
    text = "".join(digits(p, 1) + digits(q, 8) for p, q in asks + bids)
    return unsigned_crc32(text)


def test_v2_update_applies_in_order_truncates_to_depth_and_verifies():
    """Same price twice in one update: the last wins; the new best ask pushes the 10th one out."""
    parser, sync = setup(V2, depth=10)
    sync.on_message(one(parser, v2_frame("snapshot", V2_BIDS, V2_ASKS, 3310070434)))
    bids = [("45283.5", "0.5"), ("45283.5", "0.25")]
    asks = [("45284.0", "1.0")]
    book_bids = [("45283.5", "0.25"), *V2_BIDS[1:]]
    book_asks = [("45284.0", "1.0"), *V2_ASKS[:9]]
    outcome = sync.on_message(
        one(parser, v2_frame("update", bids, asks, _v2_check(book_bids, book_asks)))
    )
    assert outcome is KrakenOutcome.APPLIED
    assert sync.book.depth() == (10, 10)
    assert sync.book.best_bid() == (452835, 25000000)
    assert sync.book.best_ask() == (452840, 100000000)
    assert sync.checksums_verified == 2

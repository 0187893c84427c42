"""Binance spot frames and snapshots to integer events, and every way a frame can be refused."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.core.events import BookDelta, Side, Trade
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage
from engine.venues.binance import protocol
from engine.venues.binance.protocol import BinanceSpotParser, ServerShutdown, stream_names
from tests.engine.venues.binance.captures import (
    CRYPTOFEED_INSTRUMENTS,
    SPOT_INSTRUMENTS,
    cryptofeed_session,
    hftbacktest_lines,
)

BTC = Instrument(
    venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", instrument_id=0
)
ODD = Instrument(
    venue="binance", symbol="ODDUSDT", tick_size="0.05", lot_size="0.5", instrument_id=1
)
DEPTH = "btcusdt@depth@100ms"


@pytest.fixture(autouse=True, scope="module", params=["general", "compiled"])
def readers(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test runs twice: on the general path alone, then with the compiled readers.

    The first is how every parser runs until the compiled readers are loaded.
    """
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "compiled":
            protocol.use_compiled_readers()
            assert protocol.compiled_readers()
        else:
            patch.setattr(protocol, "_depth_frame", protocol._decline_depth)
            patch.setattr(protocol, "_futures_depth_frame", protocol._decline_futures_depth)
            patch.setattr(protocol, "_levels_only", protocol._decline_levels)
            assert not protocol.compiled_readers()
        yield str(request.param)


@pytest.fixture
def parser() -> BinanceSpotParser:
    """A parser for BTCUSDT (powers-of-ten grid) and ODDUSDT (steps of 0.05 and 0.5)."""
    return BinanceSpotParser([BTC, ODD])


def depth_data(**fields: Any) -> dict[str, Any]:
    """A depthUpdate event for BTCUSDT, with fields replaced as given."""
    data: dict[str, Any] = {
        "e": "depthUpdate",
        "E": 1723161255308,
        "s": "BTCUSDT",
        "U": 101,
        "u": 103,
        "b": [["61837.63000000", "3.78826000"], ["61700.00000000", "0.00000000"]],
        "a": [["61837.64000000", "1.54698000"]],
    }
    data.update(fields)
    return data


def trade_data(**fields: Any) -> dict[str, Any]:
    """A trade event for BTCUSDT, with fields replaced as given."""
    data: dict[str, Any] = {
        "e": "trade",
        "E": 1723161255343,
        "s": "BTCUSDT",
        "t": 3735683259,
        "p": "61837.63000000",
        "q": "0.02000000",
        "T": 1723161255342,
        "m": True,
        "M": True,
    }
    data.update(fields)
    return data


def combined(stream: str, data: Any) -> bytes:
    """A combined-stream frame as Binance lays it out."""
    return msgspec.json.encode({"stream": stream, "data": data})


def steps(text: str, step: str) -> int:
    """The exact number of steps in ``text``, computed independently with Decimal."""
    quotient = Decimal(text) / Decimal(step)
    assert quotient == quotient.to_integral_value()
    return int(quotient)


# ---- well-formed frames ------------------------------------------------------------------------


def test_depth_frame_becomes_integer_ticks_and_lots(parser: BinanceSpotParser):
    """A diff turns into int64 ticks and lots, with its update ids and times in nanoseconds."""
    delta = parser.parse_frame(combined(DEPTH, depth_data()), recv_ts=42)
    assert isinstance(delta, BookDelta)
    assert (delta.instrument, delta.first_id, delta.last_id, delta.prev_id) == (0, 101, 103, -1)
    assert delta.bid_px.tolist() == [6183763, 6170000]
    assert delta.bid_sz.tolist() == [378826, 0]
    assert delta.ask_px.tolist() == [6183764]
    assert delta.ask_sz.tolist() == [154698]
    assert delta.bid_px.dtype == np.int64
    assert (delta.exch_ts, delta.recv_ts) == (1723161255308_000_000, 42)


def test_grid_steps_that_are_not_powers_of_ten_divide_exactly(parser: BinanceSpotParser):
    """With a 0.05 tick and 0.5 lot, 100.15 is 2003 ticks and 2.5 is 5 lots."""
    frame = combined(
        "oddusdt@depth@100ms",
        depth_data(s="ODDUSDT", b=[["100.15000000", "2.50000000"]], a=[]),
    )
    delta = parser.parse_frame(frame, 0)
    assert isinstance(delta, BookDelta)
    assert (delta.bid_px.tolist(), delta.bid_sz.tolist()) == ([2003], [5])
    assert delta.ask_px.size == 0


def test_trade_with_buyer_as_maker_is_a_selling_taker(parser: BinanceSpotParser):
    """``m: true`` means the buyer rested, so the aggressor sold."""
    trade = parser.parse_frame(combined("btcusdt@trade", trade_data()), 7)
    assert trade == Trade(
        instrument=0,
        trade_id=3735683259,
        price=6183763,
        size=2000,
        aggressor=Side.SELL,
        exch_ts=1723161255342_000_000,
        recv_ts=7,
    )


def test_trade_with_seller_as_maker_is_a_buying_taker(parser: BinanceSpotParser):
    """``m: false`` makes the taker a buyer."""
    trade = parser.parse_frame(combined("btcusdt@trade", trade_data(m=False)), 7)
    assert isinstance(trade, Trade)
    assert trade.aggressor is Side.BUY


@pytest.mark.parametrize(
    "frame",
    [
        b'{"result":null,"id":1}',
        combined(
            "btcusdt@bookTicker", {"u": 1, "s": "BTCUSDT", "b": "1.00", "B": "1", "a": "2.00"}
        ),
        combined("ethusdt@depth@100ms", depth_data(s="ETHUSDT")),
        combined("btcusdt@kline_1m", {"e": "kline"}),
    ],
    ids=["ack", "book-ticker", "other-symbol", "kline"],
)
def test_acknowledgements_and_streams_we_do_not_consume_give_nothing(
    parser: BinanceSpotParser, frame: bytes
):
    """Subscription acks and unsubscribed streams parse to None."""
    assert parser.parse_frame(frame, 0) is None


@pytest.mark.parametrize(
    "frame",
    [
        combined("!serverShutdown", {"e": "serverShutdown", "E": 1}),
        b'{"e":"serverShutdown","E":1}',
    ],
)
def test_server_shutdown_is_reported(parser: BinanceSpotParser, frame: bytes):
    """A ``serverShutdown`` event tells the feed to reconnect."""
    assert isinstance(parser.parse_frame(frame, 5), ServerShutdown)


@pytest.mark.parametrize(
    "frame",
    [
        msgspec.json.encode({"data": depth_data(), "stream": DEPTH}),
        msgspec.json.format(combined(DEPTH, depth_data()), indent=2),
        combined(DEPTH, depth_data()).replace(b'"depthUpdate"', b'"depth\\u0055pdate"'),
        combined(DEPTH, depth_data(x={"nested": [1, 2]})),
        combined(DEPTH, depth_data(b=[["61837.63", "3.78826"], ["61700", "0"]])),
        combined(DEPTH, {k: depth_data()[k] for k in ("a", "b", "u", "U", "s", "E", "e")}),
        combined(DEPTH, depth_data()).decode(),
    ],
    ids=["data-first", "indented", "escaped", "nested-extra", "unpadded", "reordered", "str"],
)
def test_other_valid_layouts_parse_to_the_same_diff(parser: BinanceSpotParser, frame: bytes):
    """Layouts the fast reader declines still give exactly the canonical diff."""
    expected = parser.parse_frame(combined(DEPTH, depth_data()), 0)
    delta = parser.parse_frame(frame, 0)
    assert isinstance(delta, BookDelta)
    assert isinstance(expected, BookDelta)
    for side in ("bid_px", "bid_sz", "ask_px", "ask_sz"):
        assert getattr(delta, side).tolist() == getattr(expected, side).tolist()
    assert (delta.first_id, delta.last_id, delta.exch_ts) == (101, 103, expected.exch_ts)


def test_sizes_past_18_digits_still_convert_exactly_when_they_fit_int64():
    """A 19-digit size takes the general path and converts exactly."""
    whole = Instrument(venue="binance", symbol="BTCUSDT", tick_size="1", lot_size="1")
    frame = combined(DEPTH, depth_data(b=[["5", "1234567890123456789"]], a=[]))
    delta = BinanceSpotParser([whole]).parse_frame(frame, 0)
    assert isinstance(delta, BookDelta)
    assert delta.bid_sz.tolist() == [1234567890123456789]


def test_diff_arrays_stay_intact_after_the_arena_is_replaced(parser: BinanceSpotParser):
    """Level arrays handed out earlier are never overwritten by later frames."""
    first = parser.parse_frame(combined(DEPTH, depth_data()), 0)
    assert isinstance(first, BookDelta)
    other = combined(DEPTH, depth_data(b=[["1.00", "9.00"]] * 50, a=[["2.00", "9.00"]] * 50))
    for _ in range(2000):  # far more slots than one arena holds
        parser.parse_frame(other, 0)
    assert first.bid_px.tolist() == [6183763, 6170000]
    assert first.ask_sz.tolist() == [154698]


def test_snapshot_body_becomes_a_book_snapshot(parser: BinanceSpotParser):
    """A REST depth body gives the snapshot's update id and integer levels."""
    body = b'{"lastUpdateId":99,"bids":[["61837.63000000","1.00000000"]],"asks":[]}'
    snap = parser.parse_snapshot(body, BTC, 11)
    assert (snap.instrument, snap.update_id, snap.recv_ts) == (0, 99, 11)
    assert (snap.bid_px.tolist(), snap.bid_sz.tolist()) == ([6183763], [100000])
    assert snap.ask_px.size == 0


def test_stream_names_follow_binance_naming():
    """Depth and trade streams per instrument, lower case, plain ``@depth`` at 1000 ms."""
    assert stream_names([BTC]) == ["btcusdt@depth@100ms", "btcusdt@trade"]
    assert stream_names([BTC], depth_interval_ms=1000) == ["btcusdt@depth", "btcusdt@trade"]
    assert stream_names([BTC], depth_interval_ms=20)[0] == "btcusdt@depth@20ms"


# ---- refused frames ---------------------------------------------------------------------------

_BAD_FRAMES = [
    ("not-json", b"not json at all", "unknown", "malformed"),
    ("cut-off", combined(DEPTH, depth_data())[:60], DEPTH, "malformed"),
    ("data-is-a-list", combined(DEPTH, [1, 2]), DEPTH, "Expected `object`"),
    (
        "missing-u",
        combined(DEPTH, {k: v for k, v in depth_data().items() if k != "u"}),
        DEPTH,
        "`u`",
    ),
    (
        "off-grid-price",
        combined(DEPTH, depth_data(a=[["61837.645", "1"]])),
        DEPTH,
        "multiple of 0.01",
    ),
    ("off-grid-size", combined(DEPTH, depth_data(a=[["1.00", "0.000001"]])), DEPTH, "multiple of"),
    ("negative-size", combined(DEPTH, depth_data(b=[["1.00", "-1.0"]])), DEPTH, "'-1.0'"),
    ("zero-price", combined(DEPTH, depth_data(b=[["0.00000000", "1.0"]])), DEPTH, "not positive"),
    ("number-price", combined(DEPTH, depth_data(b=[[61837.63, "1.0"]])), DEPTH, "Expected `str`"),
    ("three-fields", combined(DEPTH, depth_data(b=[["1.00", "1.0", "x"]])), DEPTH, "length 2"),
    ("not-a-number", combined(DEPTH, depth_data(b=[["1e5", "1.0"]])), DEPTH, "'1e5'"),
    ("ids-backwards", combined(DEPTH, depth_data(U=9, u=8)), DEPTH, "U=9 u=8"),
    ("wrong-symbol", combined(DEPTH, depth_data(s="ETHUSDT")), DEPTH, "'ETHUSDT'"),
    ("wrong-event", combined(DEPTH, depth_data(e="trade")), DEPTH, "'trade'"),
    (
        "huge-size",
        combined(DEPTH, depth_data(b=[["1.00", "99999999999999999999"]])),
        DEPTH,
        "range",
    ),
    ("no-data", b'{"stream":"btcusdt@depth@100ms"}', DEPTH, "`data`"),
    ("ticker-no-data", b'{"stream":"btcusdt@bookTicker"}', "btcusdt@bookTicker", "without data"),
    (
        "trade-missing-p",
        combined("btcusdt@trade", {"e": "trade", "s": "BTCUSDT"}),
        "btcusdt@trade",
        "`t`",
    ),
    (
        "trade-zero-size",
        combined("btcusdt@trade", trade_data(q="0.00000000")),
        "btcusdt@trade",
        "positive",
    ),
    ("venue-error", b'{"code":-1121,"msg":"Invalid symbol."}', "control", "-1121"),
    ("stray-object", b'{"hello":"there"}', "unknown", "neither"),
]


@pytest.mark.parametrize(
    ("frame", "stream", "fragment"),
    [case[1:] for case in _BAD_FRAMES],
    ids=[case[0] for case in _BAD_FRAMES],
)
def test_bad_frames_raise_malformed_message_naming_venue_and_stream(
    parser: BinanceSpotParser, frame: bytes, stream: str, fragment: str
):
    """Each refused frame raises MalformedMessage with the venue, the stream and the reason."""
    with pytest.raises(MalformedMessage) as caught:
        parser.parse_frame(frame, 0)
    assert caught.value.venue == "binance"
    assert caught.value.stream == stream
    assert fragment in str(caught.value)
    assert f"binance {stream}" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<html>busy</html>", "malformed"),
        (b'{"code":-1121,"msg":"Invalid symbol."}', "lastUpdateId"),
        (b'{"lastUpdateId":1,"bids":[["1.001","1"]],"asks":[]}', "multiple of 0.01"),
    ],
)
def test_bad_snapshots_raise_malformed_message(
    parser: BinanceSpotParser, body: bytes, fragment: str
):
    """A snapshot body that cannot be used names the symbol's snapshot as the stream."""
    with pytest.raises(MalformedMessage) as caught:
        parser.parse_snapshot(body, BTC, 0)
    assert caught.value.stream == "BTCUSDT depth snapshot"
    assert fragment in str(caught.value)


# ---- exactness ----------------------------------------------------------------------------------

_DIGITS = st.text("0123456789", min_size=1, max_size=9)


@given(
    whole=_DIGITS,
    frac=st.text("0123456789", max_size=10),
    step=st.sampled_from(["0.01", "0.05", "0.5", "1", "25", "0.00000001"]),
    padded=st.booleans(),
)
def test_prices_convert_exactly_or_are_refused(whole: str, frac: str, step: str, padded: bool):
    """Any plain decimal price converts to exactly Decimal(text)/step ticks, or is refused."""
    if padded:  # as Binance prints: exactly 8 decimals
        frac = frac[:8].ljust(8, "0")
    text = f"{whole}.{frac}" if frac else whole
    inst = Instrument(venue="binance", symbol="BTCUSDT", tick_size=step, lot_size="1")
    parser = BinanceSpotParser([inst])
    depth = combined(DEPTH, depth_data(b=[[text, "1"]], a=[]))
    trade = combined("btcusdt@trade", trade_data(p=text, q="1"))
    quotient = Decimal(text) / Decimal(step)
    if quotient == 0 or quotient != quotient.to_integral_value() or quotient >= 2**63:
        for frame in (depth, trade):
            with pytest.raises(MalformedMessage):
                parser.parse_frame(frame, 0)
        return
    delta = parser.parse_frame(depth, 0)
    assert isinstance(delta, BookDelta)
    assert delta.bid_px.tolist() == [int(quotient)]
    printed = parser.parse_frame(trade, 0)
    assert isinstance(printed, Trade)
    assert printed.price == int(quotient)


# ---- real frames --------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_captured_frames_and_snapshots_convert_exactly(shared_data: Path):
    """Every captured depth diff and snapshot level equals an independent Decimal conversion."""
    parser = BinanceSpotParser(CRYPTOFEED_INSTRUMENTS)
    by_symbol = {i.symbol: i for i in CRYPTOFEED_INSTRUMENTS}
    checked = 0
    for _, source, body in cryptofeed_session(shared_data):
        doc = msgspec.json.decode(body)
        if source != "ws":
            inst = by_symbol[source]
            snap = parser.parse_snapshot(body, inst, 0)
            sides = [
                (snap.bid_px, snap.bid_sz, doc["bids"]),
                (snap.ask_px, snap.ask_sz, doc["asks"]),
            ]
        else:
            event = parser.parse_frame(body, 0)
            if doc["data"].get("e") != "depthUpdate":
                assert event is None
                continue
            assert isinstance(event, BookDelta)
            inst = CRYPTOFEED_INSTRUMENTS[event.instrument]
            data = doc["data"]
            assert (event.first_id, event.last_id) == (data["U"], data["u"])
            sides = [
                (event.bid_px, event.bid_sz, data["b"]),
                (event.ask_px, event.ask_sz, data["a"]),
            ]
        for px, sz, levels in sides:
            assert px.tolist() == [steps(p, inst.tick_size) for p, _ in levels]
            assert sz.tolist() == [steps(q, inst.lot_size) for _, q in levels]
            checked += len(levels)
    assert checked > 1000


@pytest.mark.shared_data
def test_captured_spot_diffs_and_trades_equal_an_independent_decimal_conversion(
    shared_data: Path,
):
    """The first 20,000 captured BTCUSDT frames: every level, trade price and size exact."""
    inst = SPOT_INSTRUMENTS["btcusdt"]
    parser = BinanceSpotParser([inst])
    diffs = trades = 0
    for _, raw in itertools.islice(hftbacktest_lines(shared_data, "btcusdt"), 20_000):
        data = msgspec.json.decode(raw).get("data")
        if data is None:
            continue  # a REST snapshot body
        event = parser.parse_frame(raw, 7)
        if data.get("e") == "depthUpdate":
            assert isinstance(event, BookDelta)
            assert (event.first_id, event.last_id, event.exch_ts) == (
                data["U"],
                data["u"],
                data["E"] * 1_000_000,
            )
            for px, sz, levels in (
                (event.bid_px, event.bid_sz, data["b"]),
                (event.ask_px, event.ask_sz, data["a"]),
            ):
                assert px.tolist() == [steps(p, inst.tick_size) for p, _ in levels]
                assert sz.tolist() == [steps(q, inst.lot_size) for _, q in levels]
            diffs += 1
        elif data.get("e") == "trade":
            assert event == Trade(
                instrument=inst.instrument_id,
                trade_id=data["t"],
                price=steps(data["p"], inst.tick_size),
                size=steps(data["q"], inst.lot_size),
                aggressor=Side.SELL if data["m"] else Side.BUY,
                exch_ts=data["T"] * 1_000_000,
                recv_ts=7,
            )
            trades += 1
    assert diffs > 1000
    assert trades > 1000


def test_trade_texts_off_the_grid_are_refused_every_time(parser: BinanceSpotParser):
    """The conversion memo keeps only successes: a bad price raises on each frame it is in."""
    good = combined("btcusdt@trade", trade_data(p="61837.63000000"))
    bad = combined("btcusdt@trade", trade_data(p="61837.63500000"))
    for _ in range(2):
        assert isinstance(parser.parse_frame(good, 0), Trade)
        with pytest.raises(MalformedMessage, match=r"61837\.635"):
            parser.parse_frame(bad, 0)


def test_conversion_memo_stays_bounded():
    """The memo starts again empty once it holds its most texts; results stay exact."""
    grid = BTC.price_grid()
    memo: dict[str, int] = {}
    for cents in range(protocol._MEMO_ENTRIES + 10):
        text = f"{cents // 100}.{cents % 100:02d}"
        assert protocol.memo_steps(text, grid, memo, "binance", "s", "trade") == cents
        assert len(memo) <= protocol._MEMO_ENTRIES

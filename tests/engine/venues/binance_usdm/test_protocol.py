"""The futures parser: pu on every diff, aggTrade and trade, zero prints dropped, others counted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from engine.core.events import BookDelta, Side, Trade
from engine.core.instruments import Instrument
from engine.errors import MalformedMessage
from engine.venues.binance import protocol
from engine.venues.binance.protocol import BookTop
from engine.venues.binance_usdm.protocol import (
    BinanceUsdmParser,
    depth_limit,
    stream_names,
)

BTC = Instrument(venue="binance-usdm", symbol="BTCUSDT", tick_size="0.1", lot_size="0.001")


@pytest.fixture(autouse=True, scope="module", params=["general", "compiled"])
def readers(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test runs on the general path alone, then with the compiled readers."""
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "compiled":
            protocol.use_compiled_readers()
        else:
            patch.setattr(protocol, "_depth_frame", protocol._decline_depth)
            patch.setattr(protocol, "_futures_depth_frame", protocol._decline_futures_depth)
            patch.setattr(protocol, "_levels_only", protocol._decline_levels)
        yield str(request.param)


def frame(stream: str, **data: Any) -> bytes:
    """A combined-stream frame of ``stream`` carrying ``data``."""
    return json.dumps({"stream": stream, "data": data}, separators=(",", ":")).encode()


def depth(**fields: Any) -> bytes:
    """A USD-M depthUpdate frame for BTCUSDT, with fields replaced (None removes one)."""
    data: dict[str, Any] = {
        "e": "depthUpdate",
        "E": 1721347022557,
        "T": 1721347022553,
        "s": "BTCUSDT",
        "U": 4984028370826,
        "u": 4984028373334,
        "pu": 4984028370730,
        "b": [["63943.90", "46.371"], ["63620.10", "0.000"]],
        "a": [["63951.20", "0.020"]],
    }
    data.update(fields)
    return frame("btcusdt@depth@0ms", **{k: v for k, v in data.items() if v is not None})


def test_futures_diff_carries_pu_as_prev_id():
    """A diff becomes ticks and lots, with ``pu`` as ``prev_id``."""
    event = BinanceUsdmParser([BTC]).parse_frame(depth(), 5)
    assert isinstance(event, BookDelta)
    assert (event.first_id, event.last_id, event.prev_id) == (
        4984028370826,
        4984028373334,
        4984028370730,
    )
    assert event.bid_px.tolist() == [639439, 636201]
    assert event.bid_sz.tolist() == [46371, 0]
    assert np.array_equal(event.ask_px, [639512])
    assert event.exch_ts == 1721347022557 * 1_000_000


def test_futures_diff_without_pu_is_malformed_naming_the_stream():
    """A futures diff must carry ``pu``; without it the frame is refused."""
    with pytest.raises(MalformedMessage, match="without pu") as caught:
        BinanceUsdmParser([BTC]).parse_frame(depth(pu=None), 5)
    assert caught.value.stream == "btcusdt@depth@0ms"
    assert caught.value.venue == "binance-usdm"


def test_trade_and_agg_trade_become_trades():
    """``@trade`` (id ``t``) and ``@aggTrade`` (id ``a``) are both trades."""
    parser = BinanceUsdmParser([BTC])
    trade = parser.parse_frame(
        frame(
            "btcusdt@trade",
            e="trade",
            E=1,
            T=2,
            s="BTCUSDT",
            t=5182005737,
            p="63943.90",
            q="0.003",
            X="MARKET",
            m=True,
        ),
        9,
    )
    assert isinstance(trade, Trade)
    assert (trade.trade_id, trade.price, trade.size, trade.aggressor) == (
        5182005737,
        639439,
        3,
        Side.SELL,
    )
    agg = parser.parse_frame(
        frame(
            "btcusdt@aggTrade",
            e="aggTrade",
            E=1,
            s="BTCUSDT",
            a=77,
            p="63944.00",
            q="0.010",
            f=100,
            l=101,
            T=3,
            m=False,
        ),
        9,
    )
    assert isinstance(agg, Trade)
    assert (agg.trade_id, agg.price, agg.size, agg.aggressor) == (77, 639440, 10, Side.BUY)


def test_zero_price_zero_size_print_is_dropped():
    """A trade id spent without a fill prints 0 at 0: dropped, not refused."""
    parser = BinanceUsdmParser([BTC])
    zero = frame(
        "btcusdt@trade", e="trade", E=1, T=2, s="BTCUSDT", t=8, p="0.00", q="0.000", m=True
    )
    assert parser.parse_frame(zero, 1) is None


def test_book_ticker_becomes_the_venues_top_of_book():
    """A futures bookTicker is read as the top at its u, in ticks and lots."""
    ticker = frame(
        "btcusdt@bookTicker",
        e="bookTicker",
        u=4984028370881,
        s="BTCUSDT",
        b="63943.90",
        B="46.371",
        a="63944.00",
        A="0.095",
        T=1,
        E=2,
    )
    top = BinanceUsdmParser([BTC]).parse_frame(ticker, 3)
    assert top == BookTop(
        instrument=0,
        update_id=4984028370881,
        bid_px=639439,
        bid_sz=46371,
        ask_px=639440,
        ask_sz=95,
        exch_ts=2_000_000,
        recv_ts=3,
    )


def test_kline_and_mark_price_are_counted_and_ignored():
    """Streams the parser does not consume are counted."""
    parser = BinanceUsdmParser([BTC])
    assert parser.parse_frame(frame("btcusdt@markPrice", e="markPriceUpdate"), 1) is None
    assert parser.parse_frame(frame("btcusdt@kline_1m", e="kline"), 1) is None
    assert parser.unknown == 2


def test_snapshot_body_with_e_and_t_parses():
    """The ``/fapi/v1/depth`` body, with ``E`` and ``T``, parses like spot's."""
    body = (
        b'{"lastUpdateId":42,"E":1,"T":2,"bids":[["63943.90","1.000"]],"asks":[["63944.00","0.5"]]}'
    )
    snap = BinanceUsdmParser([BTC]).parse_snapshot(body, BTC, 3)
    assert snap.update_id == 42
    assert snap.bid_px.tolist() == [639439]
    assert snap.ask_sz.tolist() == [500]


def test_stream_names_and_depth_limits():
    """Stream names by cadence, and the REST limit that covers a depth."""
    assert stream_names([BTC], 0) == ["btcusdt@depth@0ms", "btcusdt@trade"]
    assert stream_names([BTC], 250, trades="aggTrade") == ["btcusdt@depth", "btcusdt@aggTrade"]
    assert [depth_limit(n) for n in (1, 5, 300, 1000, 5000)] == [5, 5, 500, 1000, 1000]

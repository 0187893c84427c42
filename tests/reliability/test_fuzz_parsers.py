"""Fuzzing every venue message parser: no input crashes it; refusals are the project's errors.

Each parser gets raw bytes and valid frames (from the venue tests' own builders) mutated at the
JSON or byte level. A parser may return anything or raise its documented error
(:class:`~engine.errors.MalformedMessage` for market data, :class:`~engine.errors.VenueGarbage`
for private streams), whose message must say something; any other exception is a bug.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings

from engine.core.instruments import Instrument
from engine.errors import MalformedMessage, VenueGarbage
from engine.venues.binance.orders import BinanceMarket
from engine.venues.binance.protocol import BinanceSpotParser
from engine.venues.binance.user_stream import UserStreamParser
from engine.venues.binance_usdm.protocol import BinanceUsdmParser
from engine.venues.binance_usdm.user_stream import UsdmStreamParser
from engine.venues.bybit.orders import BybitMarket
from engine.venues.bybit.private import PrivateParser
from engine.venues.bybit.protocol import BybitPublicParser
from engine.venues.coinbase.protocol import CoinbaseParser
from engine.venues.hyperliquid.protocol import HyperliquidParser
from engine.venues.kraken.protocol import KrakenParser
from engine.venues.okx.protocol import OkxParser
from tests.engine.venues.binance import test_protocol as spot
from tests.engine.venues.binance import test_user_stream as spot_user
from tests.engine.venues.binance_usdm import test_protocol as usdm
from tests.engine.venues.binance_usdm import test_user_stream as usdm_user
from tests.engine.venues.bybit import test_private as bybit_private
from tests.engine.venues.coinbase import test_protocol as coinbase
from tests.engine.venues.hyperliquid import test_protocol as hyperliquid
from tests.engine.venues.okx import test_protocol as okx
from tests.reliability.fuzzing import frames

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _survives(parse: Callable[[bytes], object], raw: bytes, allowed: type[Exception]) -> None:
    message = "parsed"
    try:
        parse(raw)
    except allowed as exc:
        message = str(exc)
    assert message, f"{allowed.__name__} without a message for {raw!r}"


BTC = spot.BTC
USDM = usdm.BTC
SPOT_SEEDS = [
    spot.combined(spot.DEPTH, spot.depth_data()),
    spot.combined("btcusdt@trade", spot.trade_data()),
    b'{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1}}',
]
USDM_SEEDS = [
    usdm.depth(),
    usdm.frame(
        "btcusdt@aggTrade",
        e="aggTrade",
        E=1,
        T=1,
        s="BTCUSDT",
        a=5,
        p="65000.1",
        q="0.001",
        f=1,
        l=1,
        m=True,
    ),
]
BYBIT = Instrument(venue="bybit-linear", symbol="BTCUSDT", tick_size="0.10", lot_size="0.001")
BYBIT_SEEDS = [
    b'{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1,"cts":1,"data":{"s":"BTCUSDT",'
    b'"b":[["65000.1","0.010"]],"a":[["65000.2","0.020"]],"u":7,"seq":9}}',
    b'{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1,"data":[{"T":1,"s":"BTCUSDT",'
    b'"S":"Buy","v":"0.001","p":"65000.1","i":"abc","BT":false}]}',
]
KRAKEN_V2 = Instrument(
    venue="kraken", symbol="BTC/USD", tick_size="0.1", lot_size="0.00000001", instrument_id=0
)
KRAKEN_SEEDS = [
    b'{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45283.5,'
    b'"qty":0.10000000}],"asks":[],"checksum":7,"timestamp":"2023-07-30T15:29:58.343415Z"}]}',
    b'{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":'
    b'45283.5,"qty":0.5,"ord_type":"market","trade_id":42,"timestamp":"2023-07-30T15:29:58Z"}]}',
    b'[992,{"as":[["354.10000000","5.00000000","1618678133.365913"]],"bs":[]},"book-100",'
    b'"BTC/USD"]',
]
COINBASE_SEEDS = [
    coinbase.L2_UPDATE,
    coinbase.envelope(
        "market_trades",
        15,
        [
            {
                "type": "update",
                "trades": [
                    {
                        "trade_id": "1",
                        "product_id": "BTC-USD",
                        "price": "65062.5",
                        "size": "0.1",
                        "side": "BUY",
                        "time": "2026-08-09T21:05:48.210883123Z",
                    }
                ],
            }
        ],
    ),
]
HYPERLIQUID_SEEDS = [
    hyperliquid.l2(1737918794873, [("105000", "0.1")], [("105001", "0.2")]),
    hyperliquid.TRADES,
]
OKX_SEEDS = [
    okx.books(
        "snapshot",
        {
            "asks": [["30219.0", "0.5", "0", "1"]],
            "bids": [["30218.9", "1", "0", "2"]],
            "ts": "1652459199958",
            "checksum": 0,
            "seqId": 5,
            "prevSeqId": -1,
        },
    ),
    okx.TRADES,
]

PUBLIC = {
    "binance spot": (lambda: BinanceSpotParser([BTC], "binance").parse_frame, SPOT_SEEDS),
    "binance usdm": (lambda: BinanceUsdmParser([USDM], "binance-usdm").parse_frame, USDM_SEEDS),
    "bybit linear": (lambda: BybitPublicParser([BYBIT]).parse_frame, BYBIT_SEEDS),
    "coinbase": (lambda: CoinbaseParser([coinbase.BTC]).parse, COINBASE_SEEDS),
    "hyperliquid": (lambda: HyperliquidParser([hyperliquid.BTC]).parse, HYPERLIQUID_SEEDS),
    "kraken": (lambda: KrakenParser([KRAKEN_V2]).parse, KRAKEN_SEEDS),
    "okx": (lambda: OkxParser([okx.INST]).parse, OKX_SEEDS),
}


@pytest.mark.parametrize("venue", sorted(PUBLIC))
def test_market_data_parsers_survive_any_frame(venue):
    """Market-data frames: parsed, or refused with MalformedMessage naming the problem."""
    make, seeds = PUBLIC[venue]
    parse = make()
    for seed in seeds:
        parse(seed, 1)  # the seeds themselves are valid

    @FUZZ
    @given(raw=frames(seeds))
    def check(raw: bytes) -> None:
        _survives(lambda r: parse(r, 1), raw, MalformedMessage)

    check()


def test_binance_depth_snapshot_parser_survives_any_body():
    """REST depth snapshots: parsed, or refused with MalformedMessage."""
    parser = BinanceSpotParser([BTC], "binance")
    seed = json.dumps(
        {"lastUpdateId": 5, "bids": [["65000.00", "0.10000"]], "asks": [["65000.01", "0.2"]]}
    ).encode()
    parser.parse_snapshot(seed, BTC, 1)

    @FUZZ
    @given(raw=frames([seed]))
    def check(raw: bytes) -> None:
        _survives(lambda r: parser.parse_snapshot(r, BTC, 1), raw, MalformedMessage)

    check()


PRIVATE = {
    "binance spot user stream": (
        lambda: UserStreamParser({"BTCUSDT": BinanceMarket(spot_user.BTC)}).parse,
        [
            spot_user.report(),
            spot_user.report(x="TRADE", X="PARTIALLY_FILLED", t=7, l="0.001", L="65000.00"),
            b'{"id":"1","status":200,"result":{"subscriptionId":0}}',
        ],
    ),
    "binance usdm user stream": (
        lambda: UsdmStreamParser({"BTCUSDT": BinanceMarket(usdm_user.BTC)}).parse,
        [usdm_user.report(), b'{"e":"listenKeyExpired","E":1,"listenKey":"k"}'],
    ),
    "bybit private stream": (
        lambda: PrivateParser({"BTCUSDT": BybitMarket(bybit_private.BTC)}).parse,
        [
            bybit_private.push("order", bybit_private.order_item()),
            bybit_private.push("execution", bybit_private.execution_item()),
            b'{"op":"auth","success":true,"ret_msg":"","conn_id":"x"}',
        ],
    ),
}


@pytest.mark.parametrize("stream", sorted(PRIVATE))
def test_private_stream_parsers_survive_any_frame(stream):
    """User-stream frames: parsed, or refused with VenueGarbage naming the problem."""
    make, seeds = PRIVATE[stream]
    parse = make()
    for seed in seeds:
        parse(seed, 1)

    @FUZZ
    @given(raw=frames(seeds))
    def check(raw: bytes) -> None:
        _survives(lambda r: parse(r, 1), raw, VenueGarbage)

    check()


def _bad_utf8(seed: bytes) -> bytes:
    """``seed`` with a byte that is not UTF-8 at the start of every string value."""
    return seed.replace(b'":"', b'":"\x80').replace(b'": "', b'": "\x80')


@pytest.mark.parametrize("venue", sorted(PUBLIC))
def test_invalid_utf8_in_a_market_data_frame_is_malformed(venue):
    """Such bytes make msgspec raise UnicodeDecodeError; parsers must raise their own error."""
    make, seeds = PUBLIC[venue]
    with pytest.raises(MalformedMessage):
        make()(_bad_utf8(seeds[0]), 1)


@pytest.mark.parametrize("stream", sorted(PRIVATE))
def test_invalid_utf8_in_a_private_frame_is_garbage(stream):
    """The same on the user streams: VenueGarbage, not UnicodeDecodeError."""
    make, seeds = PRIVATE[stream]
    with pytest.raises(VenueGarbage):
        make()(_bad_utf8(seeds[0]), 1)

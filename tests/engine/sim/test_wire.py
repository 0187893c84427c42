from __future__ import annotations

import json
from decimal import Decimal

import pytest

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim import wire
from engine.sim.market import LevelChange, TradePrint


def test_prices_and_sizes_are_padded_to_eight_decimals(btc):
    """Ticks and lots become Binance's eight-decimal text exactly."""
    text = wire.WireText(btc)
    assert text.price(6500001) == "65000.01000000"
    assert text.size(12300) == "0.12300000"
    assert text.size(1) == "0.00001000"


def test_coarse_grids_are_padded_too():
    """A tick of 0.5 and a lot of 1 still print eight decimals."""
    inst = Instrument(venue="sim", symbol="XUSDT", tick_size="0.5", lot_size="1")
    text = wire.WireText(inst)
    assert text.price(203) == "101.50000000"
    assert text.size(3) == "3.00000000"


def test_padded_keeps_finer_steps_whole():
    """A step finer than eight decimals is printed in full, never rounded."""
    assert wire.padded(Decimal("0.01")) == "0.01000000"
    assert wire.padded(Decimal("0.000000001")) == "0.000000001"
    assert wire.padded(Decimal("5")) == "5.00000000"


def test_depth_update_coalesces_with_the_last_size_winning(btc):
    """Several changes of one level in a batch become one entry carrying the last size."""
    changes = [
        LevelChange(11, Side.BUY, 6500000, 5),
        LevelChange(12, Side.SELL, 6500002, 7),
        LevelChange(13, Side.BUY, 6500000, 0),
        LevelChange(14, Side.BUY, 6500001, 9),
        LevelChange(15, Side.SELL, 6500003, 1),
    ]
    data = json.loads(wire.depth_update(wire.WireText(btc), "BTCUSDT", 1700000000000, changes))
    assert list(data) == ["e", "E", "s", "U", "u", "b", "a"]
    assert data["e"] == "depthUpdate"
    assert (data["U"], data["u"]) == (11, 15)
    assert data["b"] == [["65000.01000000", "0.00009000"], ["65000.00000000", "0.00000000"]]
    assert data["a"] == [["65000.02000000", "0.00007000"], ["65000.03000000", "0.00001000"]]


def test_trade_frame_has_binance_fields(btc):
    """A trade frame carries Binance's fields in Binance's order, with text price and size."""
    frame = wire.trade(wire.WireText(btc), "BTCUSDT", 10, 9, TradePrint(77, 6500001, 250, True, 0))
    data = json.loads(frame)
    assert list(data) == ["e", "E", "s", "t", "p", "q", "T", "m", "M"]
    assert data == {
        "e": "trade",
        "E": 10,
        "s": "BTCUSDT",
        "t": 77,
        "p": "65000.01000000",
        "q": "0.00250000",
        "T": 9,
        "m": True,
        "M": True,
    }


def test_combined_wraps_the_event():
    """The combined endpoint wraps each event with its stream name."""
    assert json.loads(wire.combined("btcusdt@trade", '{"e":"trade"}')) == {
        "stream": "btcusdt@trade",
        "data": {"e": "trade"},
    }


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("btcusdt@depth@100ms", ("BTCUSDT", "depth", 100)),
        ("btcusdt@depth", ("BTCUSDT", "depth", None)),
        ("ethusdt@trade", ("ETHUSDT", "trade", None)),
        ("btcusdt@aggTrade", None),
        ("btcusdt@bookTicker", None),
        ("btcusdt@trade@100ms", None),
    ],
)
def test_data_stream_names_parse(name, parsed):
    """Depth and trade stream names give symbol, kind and interval; other streams give None."""
    assert wire.parse_data_stream(name) == parsed


@pytest.mark.parametrize(
    ("name", "valid"),
    [("btcusdt@depth@100ms", True), ("btcusdt@kline_1m", True), ("BTCUSDT@trade", False),
     ("btcusdt", False), ("", False), ("btc usdt@trade", False)],
)  # fmt: skip
def test_stream_name_syntax(name, valid):
    """Stream names need a lower-case symbol, an ``@`` and a stream type."""
    assert wire.is_valid_stream_name(name) is valid


def test_depth_limit_defaults_truncates_and_rejects():
    """No limit means 100, above 5000 means 5000, and non-numbers or zero are -1100."""
    assert wire.depth_limit(None) == 100
    assert wire.depth_limit("5") == 5
    assert wire.depth_limit("99999") == 5000
    for bad in ("abc", "-1", "0", "1.5"):
        with pytest.raises(wire.RestError) as info:
            wire.depth_limit(bad)
        assert (info.value.status, info.value.code) == (400, -1100)


def test_symbol_parameter_errors_match_binance():
    """A missing symbol is -1102 and a lower-case one -1100, both HTTP 400."""
    with pytest.raises(wire.RestError) as info:
        wire.rest_symbol(None)
    assert info.value.code == -1102
    with pytest.raises(wire.RestError) as info:
        wire.rest_symbol("btcusdt")
    assert info.value.code == -1100
    assert json.loads(wire.invalid_symbol().body()) == {"code": -1121, "msg": "Invalid symbol."}


def test_depth_weight_follows_binance_table():
    """Snapshot weight grows with the limit: 5, 25, 50, 250."""
    assert [wire.depth_weight(n) for n in (100, 500, 1000, 5000)] == [5, 25, 50, 250]


def test_symbols_split_into_base_and_quote():
    """Quote assets are recognised at the end of the symbol."""
    assert wire.split_symbol("BTCUSDT") == ("BTC", "USDT")
    assert wire.split_symbol("ETHBTC") == ("ETH", "BTC")
    assert wire.split_symbol("BTCFDUSD") == ("BTC", "FDUSD")


def test_malformed_frames_alternate_broken_json_and_wrong_shape():
    """Even variants are not JSON; odd ones are JSON without usable fields."""
    data = '{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}'
    with pytest.raises(json.JSONDecodeError):
        json.loads(wire.malformed("btcusdt@depth@100ms", data, "BTCUSDT", 1, 0))
    wrong = json.loads(wire.malformed("btcusdt@depth@100ms", data, "BTCUSDT", 1, 1))
    assert wrong["e"] == "depthUpdate"
    assert not isinstance(wrong["U"], int)
    trade = json.loads(wire.malformed("btcusdt@trade", "{}", "BTCUSDT", 1, 1))
    assert not isinstance(trade["p"], str)

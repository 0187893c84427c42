"""Pairs written with a slash (Kraken v2 ``BTC/USD``) still name a store hash."""

from __future__ import annotations

from engine.core.instruments import Instrument
from engine.risk.limits_layout import hash_name
from engine.risk.store import valid_name


def test_a_slash_pair_names_a_valid_hash():
    """``kraken:BTC/USD`` is ``kraken.BTC_USD``; dashes and plain symbols stay as they are."""
    kraken = Instrument(venue="kraken", symbol="BTC/USD", tick_size="0.1", lot_size="0.1")
    okx = Instrument(venue="okx", symbol="BTC-USDT", tick_size="0.1", lot_size="0.1")
    assert hash_name(kraken) == "kraken.BTC_USD"
    assert valid_name(hash_name(kraken))
    assert hash_name(okx) == "okx.BTC-USDT"

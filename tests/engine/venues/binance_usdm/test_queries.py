"""The USD-M gateway's account calls against the local venue: trade windows, positions, wallet."""

from __future__ import annotations

import logging
import time

import pytest

from engine.core.commands import SubmitOrder
from engine.core.events import Side
from tests.engine.venues.binance_usdm.helpers import make_gateway
from tests.engine.venues.recording import Recorder, until

pytestmark = pytest.mark.integration
WEEK_NS = 7 * 86_400 * 10**9


async def test_trades_are_asked_for_week_by_week_and_at_most_26_weeks_back(gateway, venue, caplog):
    """A start a year ago: a warning, 26 weekly windows and one more, and the fill found."""
    gw, listener = gateway
    _, asks, _ = venue.true_book("BTCUSDT")
    gw.submit(
        SubmitOrder(
            client_order_id="q-1",
            instrument=0,
            side=Side.BUY,
            size_lots=500,
            price_ticks=asks[0][0],
        )
    )
    await until(lambda: listener.unique_fills("q-1"), "the fill")
    before = gw.stats.requests + 0
    weight_before = {u.name: u.used for u in gw.limiter.usage()}["REQUEST_WEIGHT"]
    with caplog.at_level(logging.WARNING, "engine.venues.binance_usdm"):
        fills = await gw.fills_since(time.time_ns() - 52 * WEEK_NS)
    assert {f.trade_id for f in fills} == set(listener.unique_fills("q-1"))
    assert "further back than the venue keeps them" in caplog.text
    spent = {u.name: u.used for u in gw.limiter.usage()}["REQUEST_WEIGHT"] - weight_before
    assert spent in (26 * 5, 27 * 5)  # 5 weight a window; the last one may split at now
    assert gw.stats.requests == before  # awaited calls are not hot-path requests


async def test_a_recent_start_is_one_window(gateway):
    """Trades since a minute ago: one call, nothing found on a quiet account."""
    gw, _ = gateway
    weight_before = {u.name: u.used for u in gw.limiter.usage()}["REQUEST_WEIGHT"]
    assert await gw.fills_since(time.time_ns() - 60 * 10**9) == []
    spent = {u.name: u.used for u in gw.limiter.usage()}["REQUEST_WEIGHT"] - weight_before
    assert spent == 5


async def test_positions_and_wallet_of_an_account_that_never_traded(venue):
    """Flat on every market; the wallet is the account's USDT."""
    gw = make_gateway(venue, Recorder())
    await gw.start()
    try:
        (position,) = await gw.positions()
        (usdt,) = await gw.balances()
        assert (position.instrument, position.net_lots, position.inventory) == (0, 0, False)
        assert (usdt.asset, usdt.wallet, usdt.available) == ("USDT", 10**14, 10**14)
        assert await gw.open_orders() == []
    finally:
        await gw.stop()

"""Fuzzing the Binance spot REST answer readers: order, cancel, open orders, account, trades.

The live gateway reads these bodies from the venue; any body, and valid ones mutated, must give
events or :class:`~engine.errors.VenueGarbage` naming the problem, never another exception.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings

from engine.core.events import Side
from engine.errors import VenueGarbage
from engine.venues.binance.answers import (
    cancel_event,
    my_trades_answer,
    new_order_events,
    open_orders_answer,
    order_status_answer,
    positions_answer,
)
from tests.engine.venues.binance import test_answers as answers
from tests.reliability.fuzzing import frames

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MARKET, MARKETS = answers.MARKET, answers.MARKETS
BY_ID = {m.instrument_id: m for m in MARKETS.values()}
RECV = answers.RECV
TRADE = {
    "symbol": "BTCUSDT",
    "id": 28457,
    "orderId": 28,
    "price": "65000.10",
    "qty": "0.00100",
    "quoteQty": "65.0001",
    "commission": "0.00000100",
    "commissionAsset": "BTC",
    "time": 1499865549590,
    "isBuyer": True,
    "isMaker": False,
}

READERS: dict[str, tuple[Callable[[bytes], object], list[bytes]]] = {
    "new order": (
        lambda b: new_order_events(MARKET, b, Side.BUY, RECV, 6_500_000, 100),
        [answers.encode(answers.full_answer())],
    ),
    "cancel": (
        lambda b: cancel_event(MARKET, b, RECV),
        [answers.encode(answers.cancel_body())],
    ),
    "open orders": (
        lambda b: open_orders_answer(MARKETS, b),
        [answers.encode([answers.open_order("BTCUSDT", "desk-5")])],
    ),
    "order status": (
        lambda b: order_status_answer(MARKETS, b),
        [answers.encode(answers.open_order("BTCUSDT", "desk-5"))],
    ),
    "account": (
        lambda b: positions_answer(BY_ID, b),
        [answers.encode({"balances": [{"asset": "BTC", "free": "1.00000000", "locked": "0.5"}]})],
    ),
    "my trades": (
        lambda b: my_trades_answer(MARKETS, b, {"28": "desk-1"}, RECV),
        [answers.encode([TRADE])],
    ),
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_rest_answer_readers_survive_any_body(reader):
    """Any body: read, or VenueGarbage with a message; nothing else escapes."""
    read, seeds = READERS[reader]
    for seed in seeds:
        read(seed)

    @FUZZ
    @given(raw=frames(seeds))
    def check(raw: bytes) -> None:
        message = "read"
        try:
            read(raw)
        except VenueGarbage as exc:
            message = str(exc)
        assert message, f"VenueGarbage without a message for {raw!r}"

    check()

"""USD-M order parameters: what passes, and the code each refusal carries."""

from __future__ import annotations

import pytest

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.usdm_params import modify, new_order, order_ref, time_range
from engine.sim.wire import RestError

BTC = Instrument(
    venue="sim", symbol="BTCUSDT", tick_size="0.10", lot_size="0.001", min_notional="5"
)
LISTED = {"BTCUSDT": BTC}
BASE = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTX"}


def test_a_gtx_limit_order_reads_back_exactly():
    """Price and quantity become ticks and lots; GTX, reduceOnly and the client id are kept."""
    got = new_order(
        {
            **BASE,
            "quantity": "0.250",
            "price": "65000.1",
            "reduceOnly": "true",
            "newClientOrderId": "a.b:c/d_e-1",
        },
        LISTED,
        0,
    )
    assert (got.side, got.quantity, got.price, got.time_in_force) == (Side.BUY, 250, 650001, "GTX")
    assert (got.reduce_only, got.client_order_id, got.response_type) == (True, "a.b:c/d_e-1", "ACK")


def test_a_market_order_is_judged_at_the_reference_price():
    """A market order under the minimum notional at the touch is -4164; reduce-only is exempt."""
    params = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.001"}
    with pytest.raises(RestError) as small:
        new_order(params, LISTED, 10_000)  # 1000.0 * 0.001 = 1 USDT
    assert small.value.code == -4164
    assert new_order({**params, "reduceOnly": "true"}, LISTED, 10_000).reduce_only


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"reduceOnly": "yes"}, -1130),
        ({"newOrderRespType": "FULL"}, -1100),
        ({"selfTradePreventionMode": "DECREMENT"}, -1130),
        ({"priceMatch": "QUEUE"}, -1014),
        ({"stopPrice": "1"}, -4120),
        ({"newClientOrderId": "has space"}, -1100),
        ({"quantity": "1e3"}, -1100),
        ({"price": "99999999999.9"}, -4016),
    ],
)
def test_refusals_carry_usdm_codes(extra, code):
    """Each bad parameter is refused with its own code."""
    params = {**BASE, "quantity": "0.250", "price": "65000.1", **extra}
    with pytest.raises(RestError) as refused:
        new_order(params, LISTED, 0)
    assert refused.value.code == code


def test_modify_needs_side_quantity_and_price():
    """PUT without a price is -1102; with everything it names the order and its new values."""
    params = {"symbol": "BTCUSDT", "origClientOrderId": "m-1", "side": "SELL", "quantity": "0.002"}
    with pytest.raises(RestError) as missing:
        modify(params, LISTED)
    assert missing.value.code == -1102
    got = modify({**params, "price": "65000.0"}, LISTED)
    assert (got.ref.orig_client_order_id, got.side, got.quantity, got.price) == (
        "m-1",
        Side.SELL,
        2,
        650000,
    )


def test_an_order_reference_needs_an_id():
    """Neither ``orderId`` nor ``origClientOrderId``: -1102; a bad symbol: -1121."""
    with pytest.raises(RestError) as neither:
        order_ref({"symbol": "BTCUSDT"}, LISTED)
    with pytest.raises(RestError) as unlisted:
        order_ref({"symbol": "ETHUSDT", "orderId": "1"}, LISTED)
    assert (neither.value.code, unlisted.value.code) == (-1102, -1121)
    assert order_ref({"symbol": "BTCUSDT", "orderId": "7"}, LISTED).order_id == 7


def test_a_trade_query_spans_at_most_the_window():
    """A start and end time further apart than allowed: -1127 naming the hours."""
    assert time_range({"startTime": "5"}, 100) == (5, None)
    with pytest.raises(RestError) as wide:
        time_range({"startTime": "0", "endTime": str(7 * 86_400_000 + 1)}, 7 * 86_400_000)
    assert wide.value.code == -1127
    assert "168 hours" in wide.value.msg

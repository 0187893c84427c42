"""USD-M bodies and events as the local venue writes them: exact text, Binance's fields."""

from __future__ import annotations

from fractions import Fraction

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.accounts import Account, AccountSpec
from engine.sim.bybit_ledger import LinearPosition
from engine.sim.usdm_ledger import FuturesExecution, FuturesOrder, FuturesWallet, MarginState
from engine.sim.usdm_wire import (
    FuturesText,
    account_update,
    listen_key_expired,
    order_body,
    order_trade_update,
    position_risk,
)

BTC = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
TEXT = FuturesText(BTC)
ALICE = Account(AccountSpec("k", "s", balances={"USDT": "100", "BTC": "1"}), uid=1)


def test_text_is_exact_without_exponents():
    """Prices and sizes on the grids; quote and averages exact, never in scientific notation."""
    assert (TEXT.price(6500001), TEXT.size(1)) == ("65000.01", "0.00001")
    assert TEXT.quote(1) == "0.0000001"
    assert TEXT.average(6500001 * 2 + 6500002, 3) == "65000.01333333"
    assert TEXT.average(0, 0) == "0"
    assert TEXT.margin_asset == "USDT"


def test_an_order_trade_update_names_commission_only_on_trades():
    """NEW has no ``N``/``n``; TRADE has the margin asset and the commission."""
    order = FuturesOrder(ALICE, "BTCUSDT", 9, "c-1", Side.SELL, "LIMIT", "GTX", 6500001, 100)
    new = order_trade_update(TEXT, order, FuturesExecution(exec_type="NEW", time_ms=5), 6)
    assert (new["e"], new["E"], new["T"]) == ("ORDER_TRADE_UPDATE", 6, 5)
    assert "N" not in new["o"]
    assert (new["o"]["f"], new["o"]["t"]) == ("GTX", 0)
    order.executed, order.cum_quote, order.status = 100, 650000100, "FILLED"
    trade = FuturesExecution(
        exec_type="TRADE",
        time_ms=7,
        last_quantity=100,
        last_price=6500001,
        commission=65,
        trade_id=3,
    )
    got = order_trade_update(TEXT, order, trade, 8)["o"]
    assert (got["x"], got["X"], got["N"], got["n"], got["l"], got["ap"]) == (
        "TRADE",
        "FILLED",
        "USDT",
        "0.00000065",
        "0.00100",
        "65000.01",
    )


def test_a_short_position_reads_negative_with_its_entry_price():
    """A short's positionAmt carries the minus sign; its entry price is exact."""
    position = LinearPosition(ALICE, "BTCUSDT", TEXT.unit)
    position.fill(Side.SELL, 6500000, 300, 1)
    risk = position_risk(TEXT, position, 6400000, 2)
    assert (risk["positionAmt"], risk["entryPrice"], risk["markPrice"]) == (
        "-0.00300",
        "65000",
        "64000.00",
    )
    assert risk["unRealizedProfit"] == "3.00000000"
    assert TEXT.unit == Fraction(1, 100_000) * 100_000_000 / 100


def test_account_update_and_listen_key_expired_shapes():
    """ACCOUNT_UPDATE carries the wallet and the position; listenKeyExpired sends E as text."""
    wallet = FuturesWallet(ALICE, ["USDT"])
    assert wallet.balances == {"USDT": 100 * 10**8}
    state = MarginState(
        asset="USDT", wallet=wallet.balance("USDT"), unrealized=0, position_margin=0, order_margin=0
    )
    position = LinearPosition(ALICE, "BTCUSDT", TEXT.unit)
    update = account_update(state, TEXT, position, 6500000, 9)
    assert update["a"]["B"][0]["wb"] == "100.00000000"
    assert update["a"]["P"][0]["pa"] == "0.00000"
    assert listen_key_expired("k", 5) == {"e": "listenKeyExpired", "E": "5", "listenKey": "k"}


def test_an_order_body_has_usdm_fields():
    """The order object names position side BOTH, reduceOnly and the times."""
    order = FuturesOrder(
        ALICE, "BTCUSDT", 2, "c-2", Side.BUY, "MARKET", "GTC", 0, 100, reduce_only=True, now_ms=4
    )
    body = order_body(TEXT, order)
    assert (body["positionSide"], body["reduceOnly"], body["time"], body["updateTime"]) == (
        "BOTH",
        True,
        4,
        4,
    )
    assert (body["avgPrice"], body["executedQty"]) == ("0", "0.00000")

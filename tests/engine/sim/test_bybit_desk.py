"""The Bybit linear desk without sockets: Bybit's rules over the matching core, money and pushes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.accounts import Account, Accounts, AccountSpec
from engine.sim.bybit_desk import LinearDesk
from engine.sim.bybit_ledger import LinearExecution, LinearOrder, LinearPosition
from engine.sim.bybit_params import Amend, CreateOrder, OrderRef
from engine.sim.bybit_wire import BybitError, LinearText
from engine.sim.market import LevelChange, MarketActivity, MarketModel, TradePrint
from engine.sim.matching import MatchingCore

BTC = Instrument(
    venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", min_notional="5"
)


class Heard:
    """Records what the desk tells its listener, and feeds takes back as the venue does."""

    def __init__(self) -> None:
        self.orders: list[tuple[str, str, str, str]] = []
        self.executions: list[LinearExecution] = []
        self.positions: list[int] = []
        self.wallets = 0
        self.desk: LinearDesk | None = None

    def on_order(self, text: LinearText, order: LinearOrder) -> None:
        """Keep the order's link id, status and ending."""
        self.orders.append(
            (order.order_link_id, order.status, order.cancel_type, order.reject_reason)
        )

    def on_execution(self, text: LinearText, order: LinearOrder, fill: LinearExecution) -> None:
        """Keep the fill."""
        self.executions.append(fill)

    def on_position(self, text: LinearText, position: LinearPosition) -> None:
        """Keep the position's size."""
        self.positions.append(position.size)

    def on_wallet(self, account: Account) -> None:
        """Count the wallet change."""
        self.wallets += 1

    def taken(self, symbol: str, activity: MarketActivity, taker: MatchingCore) -> None:
        """Feed what an order took back to the desk, as the venue does."""
        assert self.desk is not None
        self.desk.on_market(symbol, activity.in_order, taker)


@pytest.fixture
def model() -> MarketModel:
    """A seeded BTCUSDT market that moves only when the test says."""
    return MarketModel(BTC, seed=3, mid_price="65000.00", events_per_second=2000.0)


@pytest.fixture
def heard() -> Heard:
    """The desk's listener."""
    return Heard()


@pytest.fixture
def desk(model: MarketModel, heard: Heard) -> LinearDesk:
    """A linear desk with one account holding 1,000,000 USDT, taker 0.0006, maker 0.0001."""
    accounts = Accounts(
        [
            AccountSpec(
                "k1",
                "s1",
                balances={"USDT": "1000000"},
                maker_commission="0.0001",
                taker_commission="0.0006",
                name="alice",
            )
        ]
    )
    linear = LinearDesk([BTC], {"BTCUSDT": model}, accounts, heard, heard.taken, seed=3)
    heard.desk = linear
    return linear


def account(desk: LinearDesk) -> Account:
    """The desk's only account."""
    return desk.accounts.all()[0]


BASE = CreateOrder(
    symbol="BTCUSDT",
    side=Side.BUY,
    order_type="Limit",
    qty=100,
    price=0,
    time_in_force="GTC",
    order_link_id="",
    reduce_only=False,
    smp_type="CancelTaker",
)


def create(**kw: Any) -> CreateOrder:
    """A 0.001 BTC limit buy unless ``kw`` says otherwise."""
    return msgspec.structs.replace(BASE, **kw)


def test_ioc_and_fok_remainders_end_in_bybits_words(desk, model, heard):
    """An IOC remainder ends EC_NoImmediateQtyToFill; an unfillable FOK, EC_CancelForNoFullFill."""
    ask_price, ask_lots = model.asks()[0]
    ioc = desk.place(
        account(desk),
        create(qty=ask_lots + 5, price=ask_price, time_in_force="IOC", order_link_id="i"),
    )
    fok = desk.place(
        account(desk), create(qty=10**7, price=ask_price, time_in_force="FOK", order_link_id="f")
    )
    assert (ioc.status, ioc.filled, ioc.reject_reason) == (
        "Cancelled",
        ask_lots,
        "EC_NoImmediateQtyToFill",
    )
    assert (fok.status, fok.filled, fok.reject_reason) == ("Cancelled", 0, "EC_CancelForNoFullFill")


def test_fills_pay_fees_and_realised_pnl_into_the_wallet(desk, model, heard):
    """A round trip leaves the USDT balance at start plus realised PnL less both fees."""
    me = account(desk)
    start = me.balance("USDT").free
    buy = desk.place(me, create(order_type="Market", qty=1000))
    sell = desk.place(me, create(order_type="Market", side=Side.SELL, qty=1000))
    position = desk.book(me, "BTCUSDT").position
    assert position.size == 0
    assert me.balance("USDT").free == start + position.realised - buy.cum_fee - sell.cum_fee
    assert buy.cum_fee > 0
    assert heard.positions[-1] == 0
    assert heard.wallets == 2
    assert all(not e.maker and e.fee_rate == "0.0006" for e in heard.executions)
    value = Decimal(buy.cum_value) * Decimal("0.0000001")
    assert Decimal(buy.cum_fee) / 10**8 == pytest.approx(
        value * Decimal("0.0006"), abs=Decimal("0.00000002")
    )


def test_a_resting_reduce_only_order_expires_when_the_position_closes(desk, model, heard):
    """A resting reduce-only sell ends CancelByReduceOnly once another order closed the long."""
    me = account(desk)
    desk.place(me, create(order_type="Market", qty=300))
    ask = model.asks()[0][0]
    resting = desk.place(
        me, create(side=Side.SELL, qty=300, price=ask + 100, reduce_only=True, order_link_id="ro")
    )
    desk.place(me, create(order_type="Market", side=Side.SELL, qty=300))
    assert resting.status == "Cancelled"
    assert resting.cancel_type == "CancelByReduceOnly"
    with pytest.raises(BybitError) as refused:
        desk.place(me, create(side=Side.SELL, qty=300, price=ask + 100, reduce_only=True))
    assert refused.value.ret_code == 110017


def test_a_reduce_only_amend_may_not_outgrow_the_position(desk, model):
    """Amending a reduce-only order above the position is 110017."""
    me = account(desk)
    desk.place(me, create(order_type="Market", qty=200))
    ask = model.asks()[0][0]
    order = desk.place(
        me, create(side=Side.SELL, qty=200, price=ask + 100, reduce_only=True, order_link_id="r")
    )
    ref = OrderRef(symbol="BTCUSDT", order_id="", order_link_id="r")
    with pytest.raises(BybitError) as refused:
        desk.amend(me, Amend(ref=ref, qty=500, price=None))
    assert refused.value.ret_code == 110017
    assert desk.amend(me, Amend(ref=ref, qty=150, price=None)) is order
    assert order.qty == 150


def test_a_smaller_amend_at_the_same_price_keeps_the_queue_place(desk, model):
    """Amending qty down at the same price keeps the lots ahead; a new price starts again."""
    me = account(desk)
    bid_price, bid_lots = model.bids()[0]
    order = desk.place(me, create(qty=500, price=bid_price, order_link_id="q"))
    core = desk.book(me, "BTCUSDT").core
    ahead = core.order(order.order_id).ahead
    assert ahead == bid_lots
    ref = OrderRef(symbol="BTCUSDT", order_id=order.order_id, order_link_id="")
    desk.amend(me, Amend(ref=ref, qty=200, price=None))
    assert core.order(order.order_id).ahead == ahead
    desk.amend(me, Amend(ref=ref, qty=None, price=bid_price - 1))
    assert core.order(order.order_id).price == bid_price - 1


def test_the_market_trading_through_fills_a_resting_order_as_maker(desk, model, heard):
    """A public sweep through a resting bid fills it at its price with the maker rate."""
    me = account(desk)
    bids = model.bids()
    order = desk.place(me, create(qty=100, price=bids[1][0], order_link_id="m"))
    activity = model.sweep(Side.SELL, bids[0][1] + bids[1][1] + bids[2][1])
    desk.on_market("BTCUSDT", activity.in_order)
    assert order.status == "Filled"
    (fill,) = heard.executions
    assert (fill.maker, fill.price, fill.fee_rate) == (True, bids[1][0], "0.0001")
    assert ("m", "Filled", "UNKNOWN", "EC_NoError") in heard.orders


def test_market_events_for_other_symbols_are_ignored(desk):
    """Events for a symbol the desk does not list change nothing."""
    events: list[LevelChange | TradePrint] = [LevelChange(1, Side.BUY, 100, 5)]
    desk.on_market("ETHUSDT", events)
    assert desk.orders(account(desk), "BTCUSDT") == []

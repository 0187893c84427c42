"""The USD-M desk in process: netted positions, the wallet, reduce-only, GTX, modify, margin."""

from __future__ import annotations

import pytest

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.accounts import Account
from engine.sim.market import MarketActivity
from engine.sim.matching import MatchingCore
from engine.sim.server import SimVenue
from engine.sim.usdm_desk import UsdmDesk
from engine.sim.usdm_ledger import FuturesExecution, FuturesOrder
from engine.sim.usdm_params import Modify, NewFuturesOrder, OrderRef
from engine.sim.usdm_wire import FuturesText
from engine.sim.wire import RestError
from tests.engine.sim.traders import accounts


class Heard:
    """A desk listener that keeps every execution and account change."""

    def __init__(self) -> None:
        self.executions: list[tuple[str, str, str]] = []
        self.accounts: list[str] = []
        self.taken: list[MarketActivity] = []

    def on_order(self, text: FuturesText, order: FuturesOrder, execution: FuturesExecution) -> None:
        """Keep ``(client id, x, X)``."""
        self.executions.append((order.client_order_id, execution.exec_type, order.status))

    def on_account(self, account: Account, symbol: str) -> None:
        """Keep the symbol."""
        self.accounts.append(symbol)

    def take(self, symbol: str, activity: MarketActivity, core: MatchingCore) -> None:
        """Keep what was taken."""
        self.taken.append(activity)

    def of(self, client_order_id: str) -> list[tuple[str, str]]:
        """One order's ``(x, X)`` in order."""
        return [(x, status) for cid, x, status in self.executions if cid == client_order_id]


@pytest.fixture
def setup(btc: Instrument) -> tuple[UsdmDesk, Heard, Account, SimVenue]:
    """A desk over a still venue's market, its listener, and Alice."""
    venue = SimVenue([btc], seed=3, autorun=False, accounts=accounts())
    heard = Heard()
    models = {s: venue.model(s) for s in venue.symbols}
    desk = UsdmDesk(venue.instruments, models, venue.trading.accounts, heard, heard.take)
    alice = venue.trading.accounts.all()[0]
    return desk, heard, alice, venue


def order(cid: str, side: Side, lots: int, price: int = 0, **fields: object) -> NewFuturesOrder:
    """A LIMIT GTC order on BTCUSDT (MARKET without a price)."""
    kind = "LIMIT" if price else "MARKET"
    base: dict[str, object] = {"time_in_force": "GTC"}
    base.update(fields)
    return NewFuturesOrder(
        symbol="BTCUSDT",
        side=side,
        order_type=kind,
        quantity=lots,
        price=price,
        client_order_id=cid,
        **base,  # type: ignore[arg-type]
    )


def touch(venue: SimVenue) -> tuple[tuple[int, int], tuple[int, int]]:
    """Best bid and best ask as (ticks, lots)."""
    bids, asks, _ = venue.true_book("BTCUSDT")
    return bids[0], asks[0]


def test_positions_net_and_the_wallet_takes_pnl_and_fees(setup):
    """Buy 300, sell 500: short 200; the wallet moved by exactly the realised PnL less fees."""
    desk, heard, alice, venue = setup
    (bid, _), (ask, _) = touch(venue)
    start = desk.wallets[alice.uid].balance("USDT")
    desk.place(alice, order("a", Side.BUY, 300, ask))
    desk.place(alice, order("b", Side.SELL, 500, bid))
    book = desk.book(alice, "BTCUSDT")
    assert book.position.size == -200 == book.core.position_lots
    trades = desk.trades(alice, "BTCUSDT")
    paid = sum(t.commission for t in trades)
    realised = sum(t.realized_pnl for t in trades)
    assert realised == book.position.realised < 0
    assert desk.wallets[alice.uid].balance("USDT") == start + realised - paid
    assert alice.balance("USDT").free == start  # the spot balance is not the futures wallet
    assert heard.accounts == ["BTCUSDT", "BTCUSDT"]


def test_a_reduce_only_order_beyond_the_position_fills_the_position_and_expires(setup):
    """Long 300, reduce-only sell 500 through the bid: TRADE 300 then EXPIRED; flat."""
    desk, heard, alice, venue = setup
    (bid, _), (ask, _) = touch(venue)
    desk.place(alice, order("long", Side.BUY, 300, ask))
    record = desk.place(alice, order("ro", Side.SELL, 500, bid, reduce_only=True))
    assert heard.of("ro") == [("NEW", "NEW"), ("TRADE", "PARTIALLY_FILLED"), ("EXPIRED", "EXPIRED")]
    assert (record.executed, record.quantity) == (300, 500)
    assert desk.book(alice, "BTCUSDT").position.size == 0


def test_reduce_only_with_nothing_to_reduce_is_refused(setup):
    """Flat, or adding to the position: -2022."""
    desk, _, alice, venue = setup
    (bid, _), (ask, _) = touch(venue)
    with pytest.raises(RestError) as flat:
        desk.place(alice, order("r1", Side.SELL, 100, bid, reduce_only=True))
    desk.place(alice, order("long", Side.BUY, 300, ask))
    with pytest.raises(RestError) as adding:
        desk.place(alice, order("r2", Side.BUY, 100, ask, reduce_only=True))
    assert flat.value.code == adding.value.code == -2022


def test_a_resting_reduce_only_order_expires_when_the_position_is_gone(setup):
    """Long 300 with a reduce-only sell resting; a plain sell closes the position: it expires."""
    desk, heard, alice, venue = setup
    (bid, _), (ask, _) = touch(venue)
    desk.place(alice, order("long", Side.BUY, 300, ask))
    desk.place(alice, order("tp", Side.SELL, 300, ask + 100, reduce_only=True))
    desk.place(alice, order("flat", Side.SELL, 300, bid))
    assert heard.of("tp")[-1] == ("EXPIRED", "EXPIRED")
    assert desk.open_orders(alice) == []


def test_gtx_that_would_take_is_refused_and_not_recorded(setup):
    """Post-only through the book: -5022; nothing is booked."""
    desk, heard, alice, venue = setup
    _, (ask, _) = touch(venue)
    with pytest.raises(RestError) as refused:
        desk.place(alice, order("gtx", Side.BUY, 100, ask, time_in_force="GTX"))
    assert refused.value.code == -5022
    assert (
        desk.find(alice, OrderRef(symbol="BTCUSDT", order_id=None, orig_client_order_id="gtx"))
        is None
    )
    assert heard.executions == []


def test_modify_changes_price_and_size_and_may_take(setup):
    """A resting buy modified through the ask: AMENDMENT, then it trades; orderId unchanged."""
    desk, heard, alice, venue = setup
    (bid, _), (ask, _) = touch(venue)
    record = desk.place(alice, order("m", Side.BUY, 300, bid - 10))
    ref = OrderRef(symbol="BTCUSDT", order_id=None, orig_client_order_id="m")
    desk.modify(alice, Modify(ref=ref, side=Side.BUY, quantity=400, price=ask))
    assert heard.of("m")[:2] == [("NEW", "NEW"), ("AMENDMENT", "NEW")]
    assert heard.of("m")[2][0] == "TRADE"
    assert (record.order_id, record.quantity, record.price) == (1, 400, ask)


def test_modify_at_or_below_the_filled_size_cancels(setup):
    """An order that partly filled and rests, modified down to what filled: CANCELED."""
    desk, heard, alice, venue = setup
    _, (ask, ask_size) = touch(venue)
    record = desk.place(alice, order("p", Side.BUY, ask_size + 300, ask))
    assert record.status == "PARTIALLY_FILLED"
    ref = OrderRef(symbol="BTCUSDT", order_id=record.order_id, orig_client_order_id=None)
    desk.modify(alice, Modify(ref=ref, side=Side.BUY, quantity=record.executed, price=ask))
    assert heard.of("p")[-1] == ("CANCELED", "CANCELED")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"quantity": 300, "price": 0}, -5027),  # the same price and quantity
        ({"quantity": 300, "price": 0, "side": Side.SELL}, -1117),
    ],
)
def test_modify_refusals(setup, change, code):
    """Nothing to change is -5027; another side is -1117."""
    desk, _, alice, venue = setup
    (bid, _), _ = touch(venue)
    record = desk.place(alice, order("q", Side.BUY, 300, bid - 10))
    ref = OrderRef(symbol="BTCUSDT", order_id=record.order_id, orig_client_order_id=None)
    side = change.get("side", Side.BUY)
    with pytest.raises(RestError) as refused:
        desk.modify(alice, Modify(ref=ref, side=side, quantity=300, price=bid - 10))
    assert refused.value.code == code


def test_a_market_sweep_fills_a_resting_order_as_maker(setup):
    """The public market trading through our resting sell fills it as maker, with a trade id."""
    desk, _, alice, venue = setup
    _, (ask, _) = touch(venue)
    desk.place(alice, order("mk", Side.SELL, 100, ask + 1))
    model = venue.model("BTCUSDT")
    activity = model.sweep(Side.BUY, sum(size for _, size in model.asks()[:5]))
    desk.on_market("BTCUSDT", activity.in_order)
    (trade,) = desk.trades(alice, "BTCUSDT")
    assert trade.maker
    assert trade.trade_id > 0
    assert desk.book(alice, "BTCUSDT").position.size == -100


def test_open_orders_hold_margin_and_duplicates_are_refused(setup):
    """A resting order's margin is in use; its client id cannot be reused while it works."""
    desk, _, alice, venue = setup
    (bid, _), _ = touch(venue)
    (before,) = desk.margin(alice)
    desk.place(alice, order("d", Side.BUY, 1000, bid - 10))
    (after,) = desk.margin(alice)
    assert before.order_margin == 0 < after.order_margin
    assert after.available == before.available - after.order_margin
    with pytest.raises(RestError) as duplicate:
        desk.place(alice, order("d", Side.BUY, 1000, bid - 10))
    assert duplicate.value.code == -4116


def test_taker_fills_leave_the_public_book(setup):
    """What an order takes is handed over to be published and fed to every core."""
    desk, heard, alice, venue = setup
    _, (ask, ask_size) = touch(venue)
    desk.place(alice, order("t", Side.BUY, min(ask_size, 300), ask))
    (activity,) = heard.taken
    assert activity.trades[0].price == ask
    assert desk.trades(alice, "BTCUSDT")[0].trade_id == activity.trades[0].trade_id

from __future__ import annotations

import asyncio
import contextlib

import pytest
from hypothesis import HealthCheck, given, settings

from engine.core.events import Side
from engine.sim.accounts import amount_units
from engine.sim.order_params import CancelTarget, new_order
from engine.sim.server import SimVenue
from engine.sim.wire import RestError
from tests.engine.sim.helpers import STEP_NS, next_event, open_stream
from tests.engine.sim.traders import (
    OTHER_KEY,
    OTHER_SECRET,
    Trader,
    UserStream,
    accounts,
    price_text,
    size_text,
)
from tests.strategies import VenueAction, venue_scripts

pytestmark = pytest.mark.integration


async def test_taken_liquidity_leaves_the_public_depth_stream(trading_venue, btc):
    """What an order takes shows in the next depth diff as the level's new size."""
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    async with (
        open_stream(f"{trading_venue.ws_url}/stream?streams=btcusdt@depth@100ms") as ws,
        Trader(trading_venue) as alice,
    ):
        await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="IOC",
            quantity=size_text(btc, 250),
            price=price_text(btc, asks[0][0]),
        )
        await trading_venue.step(0)
        diff = await next_event(ws, "depthUpdate")
    shown = {btc.price_grid().to_int(p): btc.size_grid().to_int(q) for p, q in diff["a"]}
    assert shown[asks[0][0]] == asks[0][1] - 250


async def test_every_account_core_sees_what_another_account_took(trading_venue, btc):
    """After alice takes part of the touch, bob's matching core mirrors the smaller level."""
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    bob = trading_venue.desk.accounts.by_name("bob")
    async with Trader(trading_venue) as alice:
        await alice.order(side="BUY", type="MARKET", quantity=size_text(btc, 40))
    core = trading_venue.desk.core(bob, "BTCUSDT")
    assert core.best_ask == asks[0][0]
    assert core.mirror.asks.size(asks[0][0]) == asks[0][1] - 40


async def test_another_accounts_take_advances_a_resting_queue(trading_venue, btc):
    """Bob's sell through alice's bid level fills alice's bid as maker (the public prints)."""
    bids, _, _ = trading_venue.true_book("BTCUSDT")
    async with (
        UserStream(trading_venue) as stream,
        Trader(trading_venue) as alice,
        Trader(trading_venue, OTHER_KEY, OTHER_SECRET) as bob,
    ):
        await stream.subscribe()
        await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price_text(btc, bids[0][0]),
        )
        await bob.order(
            side="SELL",
            type="LIMIT",
            timeInForce="IOC",
            quantity=size_text(btc, bids[0][1] + 1),
            price=price_text(btc, bids[1][0]),
        )
        new, fill = await stream.reports(2)
    assert new["x"] == "NEW"
    assert (fill["x"], fill["X"], fill["m"]) == ("TRADE", "FILLED", True)


async def test_self_trade_prevention_expires_the_resting_order_by_default(trading_venue, btc):
    """A buy meeting the account's own resting sell expires the sell (EXPIRE_MAKER) and goes on."""
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    async with UserStream(trading_venue) as stream, Trader(trading_venue) as alice:
        await stream.subscribe()
        await alice.order(
            side="SELL",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price_text(btc, asks[0][0]),
            newClientOrderId="own-sell",
        )
        await stream.event("executionReport")
        buy = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="IOC",
            quantity="0.00100",
            price=price_text(btc, asks[0][0]),
        )
        reports = await stream.reports(3)
        sell = await alice.call(
            "GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="own-sell"
        )
    prevented = next(r for r in reports if r["c"] == "own-sell")
    assert (prevented["x"], prevented["X"]) == ("TRADE_PREVENTION", "EXPIRED_IN_MATCH")
    assert prevented["A"] == "0.00100000"
    assert sell.body["status"] == "EXPIRED_IN_MATCH"
    assert buy.body["status"] == "FILLED"


async def test_expire_taker_stops_the_incoming_order(trading_venue, btc):
    """With EXPIRE_TAKER the incoming buy expires in match and the resting sell stays."""
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    async with Trader(trading_venue) as alice:
        await alice.order(
            side="SELL",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price_text(btc, asks[0][0]),
        )
        buy = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.00100",
            price=price_text(btc, asks[0][0]),
            selfTradePreventionMode="EXPIRE_TAKER",
        )
        still = await alice.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert buy.body["status"] == "EXPIRED_IN_MATCH"
    assert [o["side"] for o in still.body] == ["SELL"]


async def test_without_stp_two_own_orders_trade_once_and_leave_the_book(trading_venue, btc):
    """With STP off a buy through the public queue meets the own sell: one trade id, two fills."""
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    touch, ahead = asks[0]
    async with (
        open_stream(f"{trading_venue.ws_url}/ws/btcusdt@trade") as ws,
        Trader(trading_venue) as alice,
    ):
        await alice.order(
            side="SELL",
            type="LIMIT",
            timeInForce="GTC",
            quantity=size_text(btc, 100),
            price=price_text(btc, touch),
        )
        buy = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="IOC",
            quantity=size_text(btc, ahead + 100),
            price=price_text(btc, touch),
            selfTradePreventionMode="NONE",
        )
        public, own_print = await next_event(ws, "trade"), await next_event(ws, "trade")
        trades = await alice.call("GET", "/api/v3/myTrades", symbol="BTCUSDT")
    sizes = btc.size_grid()
    assert [sizes.to_int(f["qty"]) for f in buy.body["fills"]] == [ahead, 100]
    assert [sizes.to_int(public["q"]), sizes.to_int(own_print["q"])] == [ahead, 100]
    own = [t for t in trades.body if t["id"] == own_print["t"]]
    assert sorted((t["isBuyer"], t["isMaker"]) for t in own) == [(False, True), (True, False)]
    assert trading_venue.true_book("BTCUSDT")[1][0] == asks[1]


async def test_the_market_keeps_feeding_the_cores_as_it_moves(trading_venue, btc):
    """Stepping the market updates every core's mirror to the model's book."""
    bob = trading_venue.desk.accounts.by_name("bob")
    await trading_venue.step(STEP_NS)
    bids, asks, _ = trading_venue.true_book("BTCUSDT")
    core = trading_venue.desk.core(bob, "BTCUSDT")
    assert (core.best_bid, core.best_ask) == (bids[0][0], asks[0][0])
    assert core.mirror.bids.size(bids[3][0]) == bids[3][1]


def _run_script(btc, script: list[VenueAction]) -> None:
    venue = SimVenue([btc], seed=11, events_per_second=2000.0, autorun=False, accounts=accounts())
    desk = venue.desk
    alice = desk.accounts.by_name("alice")
    assert alice is not None
    listed = {"BTCUSDT": btc}
    for action in script:
        model = venue.model("BTCUSDT")
        if action.kind == "order":
            touch = model.best_ask() if action.side is Side.BUY else model.best_bid()
            price = touch + action.offset if action.side is Side.BUY else touch - action.offset
            params = {
                "symbol": "BTCUSDT",
                "side": action.side.name,
                "type": action.order_type,
                "quantity": size_text(btc, action.lots),
            }
            if action.order_type != "MARKET":
                params["price"] = price_text(btc, max(1, price))
            if action.order_type == "LIMIT":
                params["timeInForce"] = action.time_in_force
            with contextlib.suppress(RestError):
                desk.place(alice, new_order(params, listed, touch))
        elif action.kind == "cancel":
            open_now = desk.open_orders(alice)
            if open_now:
                target = open_now[action.lots % len(open_now)]
                desk.cancel(
                    alice,
                    CancelTarget(
                        symbol="BTCUSDT", order_id=target.order_id, orig_client_order_id=None
                    ),
                )
        elif action.kind == "sweep":
            venue.market_order("BTCUSDT", *_sweep_at(venue, desk.open_orders(alice), action))
        else:
            asyncio.run(venue.step(action.offset * 1_000_000))
        _check_books(venue, alice, btc)


def _sweep_at(venue: SimVenue, open_now: list, action: VenueAction) -> tuple[Side, int]:
    """A sweep aimed through one of our resting orders when there is one, else as drawn."""
    if not open_now:
        return action.side, action.lots
    target = open_now[action.lots % len(open_now)]
    model = venue.model("BTCUSDT")
    if target.side is Side.BUY:
        ahead = sum(size for price, size in model.bids() if price >= target.price)
        return Side.SELL, ahead + action.lots % 3_000 + 1
    ahead = sum(size for price, size in model.asks() if price <= target.price)
    return Side.BUY, ahead + action.lots % 3_000 + 1


def _check_books(venue: SimVenue, alice, btc) -> None:
    desk = venue.desk
    records = desk.orders(alice)
    for asset in ("USDT", "BTC"):
        locks = sum(r.lock_left for r in records if r.is_open and r.lock_asset == asset)
        balance = alice.balance(asset)
        assert balance.locked == locks
        assert balance.free >= 0
    usdt, base = amount_units("1000000"), amount_units("10")
    for trade in desk.trades(alice, "BTCUSDT"):
        quote = trade.price * trade.quantity * 10  # 10**-8 USDT per tick-lot on this grid
        lots = trade.quantity * 1000  # 10**-8 BTC per lot
        if trade.side is Side.BUY:
            usdt, base = usdt - quote, base + lots - trade.commission
        else:
            usdt, base = usdt + quote - trade.commission, base - lots
    held = alice.balance("USDT"), alice.balance("BTC")
    assert (held[0].free + held[0].locked, held[1].free + held[1].locked) == (usdt, base)
    core = desk.core(alice, "BTCUSDT")
    for record in records:
        assert 0 <= record.executed <= record.quantity
        assert (record.status == "FILLED") == (record.executed == record.quantity)
        view = core.order(str(record.order_id))
        if record.is_open:
            assert view is not None
            assert view.leaves == record.quantity - record.executed
    model = venue.model("BTCUSDT")
    assert model.best_bid() < model.best_ask()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=venue_scripts())
def test_random_trading_keeps_balances_locks_and_orders_consistent(btc, script):
    """Any run of orders, cancels, sweeps and time conserves balances and matches the core."""
    _run_script(btc, script)

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from engine.core.events import Side
from engine.sim.accounts import (
    Account,
    AccountError,
    Accounts,
    AccountSpec,
    InsufficientBalance,
    amount_text,
    amount_units,
    commission_units,
)
from engine.sim.server import SimVenue
from tests.engine.sim.traders import KEY, SECRET, Trader, accounts, price_text, size_text

pytestmark = pytest.mark.integration


def _free(body: dict, asset: str) -> Decimal:
    return next(Decimal(b["free"]) for b in body["balances"] if b["asset"] == asset)


def _locked(body: dict, asset: str) -> Decimal:
    return next(Decimal(b["locked"]) for b in body["balances"] if b["asset"] == asset)


def test_amounts_are_exact_units_of_ten_to_the_minus_eight():
    """Balance text converts to integer 10**-8 units and back without rounding."""
    assert amount_units("1.5") == 150_000_000
    assert amount_units("0.00000001") == 1
    assert amount_text(150_000_000) == "1.50000000"
    assert amount_text(-1) == "-0.00000001"
    with pytest.raises(AccountError, match="more than 8 decimals"):
        amount_units("0.000000001")
    with pytest.raises(AccountError, match="not a decimal"):
        amount_units("lots")


def test_commissions_round_charges_up_and_rebates_toward_zero():
    """A charge never undercharges and a rebate never overpays by a fraction of a unit."""
    assert commission_units(1001, Fraction(1, 1000)) == 2
    assert commission_units(1000, Fraction(1, 1000)) == 1
    assert commission_units(1999, Fraction(-1, 1000)) == -1
    assert commission_units(0, Fraction(1, 1000)) == 0


def test_locking_moves_free_to_locked_and_refuses_more_than_free():
    """lock() and unlock() move units between free and locked; too much raises, moving nothing."""
    account = Account(AccountSpec(KEY, SECRET, balances={"USDT": "100"}), uid=1)
    account.lock("USDT", amount_units("60"))
    usdt = account.balance("USDT")
    assert (usdt.free, usdt.locked) == (amount_units("40"), amount_units("60"))
    with pytest.raises(InsufficientBalance, match=r"only 40\.00000000 is free"):
        account.lock("USDT", amount_units("41"))
    account.unlock("USDT", amount_units("60"))
    assert (usdt.free, usdt.locked) == (amount_units("100"), 0)
    assert account.take_changed() == ["USDT"]
    assert account.take_changed() == []


def test_accounts_refuse_a_shared_key_and_bad_balances():
    """Two accounts with one key, a negative or over-precise balance stop the venue's start."""
    with pytest.raises(AccountError, match="same API key"):
        Accounts([AccountSpec(KEY, SECRET), AccountSpec(KEY, "other")])
    with pytest.raises(AccountError, match="must not be negative"):
        Accounts([AccountSpec(KEY, SECRET, balances={"BTC": "-1"})])
    with pytest.raises(AccountError, match="API secret"):
        Accounts([AccountSpec(KEY, "")])


def test_secrets_stay_out_of_reprs():
    """Neither the account nor its spec shows its secret (or key) when printed."""
    spec = AccountSpec(KEY, SECRET, name="alice")
    account = Account(spec, uid=7)
    for text in (repr(spec), repr(account), str(account.balances)):
        assert SECRET not in text
        assert KEY not in text


async def test_account_reports_balances_rates_and_permissions(trading_venue):
    """``GET /api/v3/account`` shows starting balances, commission rates and ``canTrade``."""
    async with Trader(trading_venue) as alice:
        reply = await alice.call("GET", "/api/v3/account")
    body = reply.body
    assert reply.status == 200
    assert {b["asset"]: b["free"] for b in body["balances"]} == {
        "USDT": "1000000.00000000",
        "BTC": "10.00000000",
    }
    assert body["commissionRates"] == {
        "maker": "0.00100000",
        "taker": "0.00100000",
        "buyer": "0.00000000",
        "seller": "0.00000000",
    }
    assert (body["makerCommission"], body["takerCommission"]) == (10, 10)
    assert body["canTrade"] is True
    assert body["accountType"] == "SPOT"
    assert int(reply.headers["X-MBX-USED-WEIGHT-1M"]) >= 20


async def test_a_resting_buy_locks_its_quote_until_canceled(trading_venue, btc):
    """A resting buy locks price times quantity of USDT exactly; its cancel releases all of it."""
    bids, _, _ = trading_venue.true_book("BTCUSDT")
    price = bids[0][0] - 10
    async with Trader(trading_venue) as alice:
        placed = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.01234",
            price=price_text(btc, price),
        )
        while_open = await alice.call("GET", "/api/v3/account")
        await alice.call(
            "DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=str(placed.body["orderId"])
        )
        after = await alice.call("GET", "/api/v3/account")
    notional = btc.price_grid().to_decimal(price) * Decimal("0.01234")
    assert _locked(while_open.body, "USDT") == notional
    assert _free(while_open.body, "USDT") == Decimal(1_000_000) - notional
    assert _locked(after.body, "USDT") == 0
    assert _free(after.body, "USDT") == Decimal(1_000_000)


async def test_a_buy_pays_quote_and_receives_base_less_commission(trading_venue, btc):
    """Taking asks costs the exact cumulative quote; BTC arrives less 0.1% rounded up."""
    _, asks, _ = trading_venue.true_book("BTCUSDT")
    lots = asks[0][1] + 3
    async with Trader(trading_venue) as alice:
        reply = await alice.order(
            side="BUY",
            type="LIMIT",
            timeInForce="IOC",
            quantity=size_text(btc, lots),
            price=price_text(btc, asks[1][0]),
        )
        account = await alice.call("GET", "/api/v3/account")
    spent = Decimal(reply.body["cummulativeQuoteQty"])
    commissions = sum(Decimal(f["commission"]) for f in reply.body["fills"])
    bought = btc.size_grid().to_decimal(lots)
    assert _free(account.body, "USDT") == Decimal(1_000_000) - spent
    assert _free(account.body, "BTC") == Decimal(10) + bought - commissions
    for fill in reply.body["fills"]:
        exact = Decimal(fill["qty"]) * Decimal("0.001")
        assert Decimal(fill["commission"]) == exact.quantize(Decimal("1E-8"), "ROUND_CEILING")


async def test_a_sell_pays_base_and_receives_quote_less_commission(trading_venue, btc):
    """A market sell pays its BTC and receives the quote less 0.1%, charged in USDT."""
    async with Trader(trading_venue) as alice:
        reply = await alice.order(side="SELL", type="MARKET", quantity="0.50000")
        account = await alice.call("GET", "/api/v3/account")
    received = Decimal(reply.body["cummulativeQuoteQty"])
    commissions = sum(Decimal(f["commission"]) for f in reply.body["fills"])
    assert {f["commissionAsset"] for f in reply.body["fills"]} == {"USDT"}
    assert _free(account.body, "BTC") == Decimal("9.5")
    assert _free(account.body, "USDT") == Decimal(1_000_000) + received - commissions


async def test_a_maker_rebate_is_credited(btc):
    """With a negative maker rate a resting fill credits more than it bought."""
    venue = SimVenue([btc], seed=3, autorun=False, accounts=accounts(maker_commission="-0.0001"))
    await venue.start()
    try:
        bids, _, _ = venue.true_book("BTCUSDT")
        async with Trader(venue) as alice:
            await alice.order(
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                quantity="0.10000",
                price=price_text(btc, bids[0][0]),
            )
            venue.market_order("BTCUSDT", Side.SELL, bids[0][1] + bids[1][1])
            trades = await alice.call("GET", "/api/v3/myTrades", symbol="BTCUSDT")
            account = await alice.call("GET", "/api/v3/account")
    finally:
        await venue.stop()
    (trade,) = trades.body
    assert trade["isMaker"] is True
    assert trade["commission"] == "-0.00001000"
    assert _free(account.body, "BTC") == Decimal("10.10001")


async def test_an_order_beyond_the_balance_is_refused(trading_venue, btc):
    """A buy worth more than the free USDT (or a sell of more BTC than held) gets -2010."""
    async with Trader(trading_venue) as alice:
        buy = await alice.order(
            side="BUY", type="LIMIT", timeInForce="GTC", quantity="100", price="60000.00"
        )
        sell = await alice.order(side="SELL", type="MARKET", quantity="10.00001")
        account = await alice.call("GET", "/api/v3/account")
    for reply in (buy, sell):
        assert (reply.status, reply.code) == (400, -2010)
        assert reply.body["msg"] == "Account has insufficient balance for requested action."
    assert _locked(account.body, "USDT") == 0


async def test_zero_balances_can_be_left_out(btc):
    """``omitZeroBalances=true`` drops assets with nothing free or locked."""
    venue = SimVenue(
        [btc],
        autorun=False,
        accounts=accounts(balances={"USDT": "10", "BTC": "0", "ETH": "0"}),
    )
    await venue.start()
    try:
        async with Trader(venue) as alice:
            every = await alice.call("GET", "/api/v3/account")
            some = await alice.call("GET", "/api/v3/account", omitZeroBalances="true")
    finally:
        await venue.stop()
    assert [b["asset"] for b in every.body["balances"]] == ["USDT", "BTC", "ETH"]
    assert [b["asset"] for b in some.body["balances"]] == ["USDT"]

"""The local venue's USD-M user data stream: listen keys, ``/private/ws``, events and expiry."""

from __future__ import annotations

import aiohttp
import pytest

from engine.sim.server import SimVenue
from tests.engine.sim.traders import OTHER_KEY, OTHER_SECRET, price_text
from tests.engine.sim.usdm_traders import FuturesStream, FuturesTrader

pytestmark = pytest.mark.integration


def touch(venue: SimVenue) -> tuple[int, int]:
    """Best bid and best ask in ticks."""
    bids, asks, _ = venue.true_book("BTCUSDT")
    return bids[0][0], asks[0][0]


async def test_post_returns_the_same_key_while_it_lives_and_put_extends_it(trading_venue):
    """POST twice gives one key; PUT answers it; after DELETE, PUT is -1125."""
    async with FuturesTrader(trading_venue) as alice:
        first = await alice.listen_key()
        second = await alice.listen_key()
        kept = await alice.listen_key("PUT")
        closed = await alice.listen_key("DELETE")
        gone = await alice.listen_key("PUT")
        bad_key = await alice.listen_key(key="nobody")
    assert first.status == 200
    assert len(first.body["listenKey"]) == 64
    assert second.body == first.body == kept.body
    assert closed.body == {}
    assert (gone.status, gone.code, gone.body["msg"]) == (
        400,
        -1125,
        "This listenKey does not exist.",
    )
    assert bad_key.code == -2015


async def test_fills_arrive_as_order_trade_updates_then_an_account_update(trading_venue, btc):
    """A crossing order: NEW, TRADE (commission in USDT), then ACCOUNT_UPDATE with the position."""
    _, ask = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        key = (await alice.listen_key()).body["listenKey"]
        async with FuturesStream(trading_venue, key) as stream:
            await alice.limit("BUY", "0.00100", price_text(btc, ask), newClientOrderId="s-1")
            await stream.wait("the account update", lambda: stream.of("ACCOUNT_UPDATE"))
    reports = stream.orders("s-1")
    assert [(o["x"], o["X"]) for o in reports] == [("NEW", "NEW"), ("TRADE", "FILLED")]
    trade = reports[1]
    assert (trade["l"], trade["z"], trade["L"], trade["N"]) == (
        "0.00100",
        "0.00100",
        price_text(btc, ask),
        "USDT",
    )
    assert trade["t"] > 0
    assert (trade["m"], trade["R"]) == (False, False)
    (update,) = stream.of("ACCOUNT_UPDATE")
    assert update["a"]["P"][0]["pa"] == "0.00100"
    assert update["a"]["B"][0]["a"] == "USDT"


async def test_modify_and_cancel_are_amendment_and_canceled(trading_venue, btc):
    """PUT is ``x=AMENDMENT`` with the new price and size; DELETE is ``x=CANCELED``."""
    bid, _ = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        key = (await alice.listen_key()).body["listenKey"]
        async with FuturesStream(trading_venue, key) as stream:
            await alice.limit("BUY", "0.00100", price_text(btc, bid - 5), newClientOrderId="s-2")
            await alice.modify(
                origClientOrderId="s-2",
                side="BUY",
                quantity="0.00200",
                price=price_text(btc, bid - 6),
            )
            await alice.cancel(origClientOrderId="s-2")
            await stream.wait("the cancel", lambda: len(stream.orders("s-2")) >= 3)
    new, amended, canceled = stream.orders("s-2")
    assert (amended["x"], amended["X"], amended["p"], amended["q"]) == (
        "AMENDMENT",
        "NEW",
        price_text(btc, bid - 6),
        "0.00200",
    )
    assert amended["i"] == new["i"] == canceled["i"]
    assert (canceled["x"], canceled["X"]) == ("CANCELED", "CANCELED")


async def test_events_is_an_allow_list(trading_venue, btc):
    """A stream that names only ORDER_TRADE_UPDATE gets no ACCOUNT_UPDATE."""
    _, ask = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        key = (await alice.listen_key()).body["listenKey"]
        async with (
            FuturesStream(trading_venue, key, events="ORDER_TRADE_UPDATE") as narrow,
            FuturesStream(trading_venue, key) as wide,
        ):
            await alice.limit("BUY", "0.00100", price_text(btc, ask))
            await wide.wait("the account update", lambda: wide.of("ACCOUNT_UPDATE"))
            await narrow.wait("the trade", lambda: len(narrow.received) >= 2)
    assert {e["e"] for e in narrow.received} == {"ORDER_TRADE_UPDATE"}


async def test_an_expired_key_says_so_and_closes_its_streams(trading_venue):
    """Expiry sends ``listenKeyExpired`` and closes; the old key no longer connects."""
    async with FuturesTrader(trading_venue) as alice:
        key = (await alice.listen_key()).body["listenKey"]
        async with FuturesStream(trading_venue, key) as stream:
            assert trading_venue.usdm.expire_listen_keys() == 1
            await stream.wait("the close", lambda: stream.closed)
        kept = await alice.listen_key("PUT")
        fresh = (await alice.listen_key()).body["listenKey"]
    (expired,) = stream.of("listenKeyExpired")
    assert expired["listenKey"] == key
    assert isinstance(expired["E"], str)
    assert kept.code == -1125
    assert fresh != key


async def test_an_unknown_key_is_refused_before_the_upgrade(trading_venue):
    """Connecting with a key the venue never gave: HTTP 400 with -1125."""
    async with aiohttp.ClientSession() as http:
        url = f"{trading_venue.ws_url}/private/ws?listenKey=notakey"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url)
    assert refused.value.status == 400


async def test_the_legacy_path_form_gets_every_event(trading_venue, btc):
    """``/private/ws/<listenKey>`` connects and receives the account's events."""
    _, ask = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        key = (await alice.listen_key()).body["listenKey"]
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{trading_venue.ws_url}/private/ws/{key}")
            await alice.limit("BUY", "0.00100", price_text(btc, ask))
            kinds = set()
            while "ACCOUNT_UPDATE" not in kinds:
                msg = await ws.receive(timeout=5)
                kinds.add(msg.json()["e"])
            await ws.close()
    assert kinds == {"ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE"}


async def test_events_go_to_their_own_account_only(trading_venue, btc):
    """Bob's stream hears nothing of Alice's order."""
    bid, _ = touch(trading_venue)
    async with (
        FuturesTrader(trading_venue) as alice,
        FuturesTrader(trading_venue, OTHER_KEY, OTHER_SECRET) as bob,
    ):
        alice_key = (await alice.listen_key()).body["listenKey"]
        bob_key = (await bob.listen_key()).body["listenKey"]
        async with (
            FuturesStream(trading_venue, alice_key) as mine,
            FuturesStream(trading_venue, bob_key) as theirs,
        ):
            await alice.limit("BUY", "0.00100", price_text(btc, bid - 5), newClientOrderId="o-1")
            await mine.wait("the ack", lambda: mine.orders("o-1"))
    assert alice_key != bob_key
    assert theirs.received == []


async def test_a_malformed_frame_goes_ahead_of_the_next_event(trading_venue, btc):
    """The order-side fault puts a broken frame before the event it precedes."""
    bid, _ = touch(trading_venue)
    async with FuturesTrader(trading_venue) as alice:
        key = (await alice.listen_key()).body["listenKey"]
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"{trading_venue.ws_url}/private/ws/{key}")
            trading_venue.faults.trading.malformed_user_stream_next(1)
            await alice.limit("BUY", "0.00100", price_text(btc, bid - 5))
            first = await ws.receive(timeout=5)
            second = await ws.receive(timeout=5)
            await ws.close()
    assert first.data != second.data
    assert second.json()["e"] == "ORDER_TRADE_UPDATE"


async def test_dropping_streams_cuts_them_without_a_close_frame(trading_venue):
    """The disconnect fault aborts every connection."""
    async with FuturesTrader(trading_venue) as alice:
        key = (await alice.listen_key()).body["listenKey"]
        async with FuturesStream(trading_venue, key) as stream:
            assert trading_venue.usdm.drop_user_streams() == 1
            await stream.wait("the cut", lambda: stream.closed)
    assert stream.received == []

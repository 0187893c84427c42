"""The Binance USD-M gateway end to end against the local venue, over real sockets on 127.0.0.1.

The venue's market stands still (no autorun) so that prices and fills are known; orders that
cross the book take the venue's resting liquidity at once. Acks and ends come from the REST
answer and from the user stream, fills from the stream (and ``userTrades``); all are passed on:
the listener checks fill ids.
"""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest

from engine.core.clock import LiveClock
from engine.core.commands import CancelOrder, OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import OrderUpdateKind, Side
from engine.errors import AuthError
from engine.sim.server import SimVenue
from engine.sim.wire import RestError
from engine.venues.binance_usdm.gateway import BinanceUsdmGateway
from tests.engine.venues.binance_usdm.helpers import BTC, KEY, SECRET, make_gateway
from tests.engine.venues.recording import Recorder, until

pytestmark = pytest.mark.integration

K = OrderUpdateKind


def best(venue: SimVenue) -> tuple[tuple[int, int], tuple[int, int]]:
    """The venue's best bid and best ask as (ticks, lots)."""
    bids, asks, _ = venue.true_book("BTCUSDT")
    return bids[0], asks[0]


def order(cid: str, side: Side, price: int, size: int, **fields: object) -> SubmitOrder:
    """A limit order on BTCUSDT."""
    return SubmitOrder(
        client_order_id=cid,
        instrument=0,
        side=side,
        size_lots=size,
        price_ticks=price,
        **fields,  # type: ignore[arg-type]
    )


def resting_buy(venue: SimVenue, cid: str, size: int = 1000) -> SubmitOrder:
    """A buy 500 ticks under the best bid: it rests."""
    (bid, _), _ = best(venue)
    return order(cid, Side.BUY, bid - 500, size)


async def test_start_makes_the_link_healthy(gateway):
    """After start the clock is measured, the key checked and the stream open: healthy."""
    gw, listener = gateway
    assert gw.stats.healthy
    assert listener.links == [(True, "")]
    assert gw.clock_offset.synced
    assert gw.user_stream is not None
    assert gw.user_stream.keys == 1


async def test_a_crossing_order_is_acked_then_filled_then_done(gateway, venue):
    """A buy through two ask levels: ACCEPTED, then fills at each level, every lot, fees paid."""
    gw, listener = gateway
    _, asks, _ = venue.true_book("BTCUSDT")
    size = asks[0][1] + asks[1][1] // 2
    gw.submit(order("t-1", Side.BUY, asks[1][0], size))
    await until(lambda: sum(f.size for f in listener.unique_fills("t-1").values()) == size, "fills")
    assert listener.story("t-1")[0] == "accepted"
    assert set(listener.story("t-1")) == {"accepted", "fill"}
    fills = sorted(listener.unique_fills("t-1").values(), key=lambda f: f.price)
    assert fills[0].price == asks[0][0]
    assert {f.price for f in fills} <= {asks[0][0], asks[1][0]}
    assert all(f.fee > 0 for f in fills)
    assert all(f.liquidity == "taker" and f.side is Side.BUY for f in fills)
    assert all(f.venue == "binance-usdm" for f in fills)


async def test_an_ioc_remainder_expires_after_its_fills(gateway, venue):
    """An IOC larger than the touch: fills first, then EXPIRED, never a fill after the end."""
    gw, listener = gateway
    _, (ask, ask_size) = best(venue)
    gw.submit(order("t-2", Side.BUY, ask, ask_size + 500, time_in_force=TimeInForce.IOC))
    await until(lambda: listener.of("t-2", K.EXPIRED), "the expiry")
    await asyncio.sleep(0.1)  # the stream's copies would be in by now
    assert listener.story("t-2") == ["accepted", "fill", "expired"]
    assert sum(f.size for f in listener.unique_fills("t-2").values()) == ask_size


async def test_fills_the_stream_lost_are_fetched_before_the_end(gateway, venue):
    """The stream lost its reports: the IOC's fills come from userTrades, and then its end."""
    gw, listener = gateway
    _, (ask, ask_size) = best(venue)
    venue.faults.trading.malformed_user_stream_next(1)
    gw.submit(order("t-27", Side.BUY, ask, ask_size + 500, time_in_force=TimeInForce.IOC))
    await until(lambda: listener.of("t-27", K.EXPIRED), "the expiry")
    assert listener.story("t-27") == ["accepted", "fill", "expired"]
    assert sum(f.size for f in listener.unique_fills("t-27").values()) == ask_size


async def test_a_resting_order_is_accepted_then_canceled(gateway, venue):
    """A resting order is ACCEPTED; a cancel makes it CANCELED and the venue holds nothing."""
    gw, listener = gateway
    gw.submit(resting_buy(venue, "t-3"))
    await until(lambda: listener.of("t-3", K.ACCEPTED), "the ack")
    assert [o.client_order_id for o in await gw.open_orders()] == ["t-3"]
    gw.cancel(CancelOrder(client_order_id="t-3", instrument=0))
    await until(lambda: listener.of("t-3", K.CANCELED), "the cancel")
    assert listener.kinds("t-3") == [K.ACCEPTED, K.CANCELED]
    assert await gw.open_orders() == []


async def test_a_modify_keeps_the_venue_order_id_and_is_one_replace(gateway, venue):
    """PUT: one REPLACED with the new price and size under the same venue order id."""
    gw, listener = gateway
    placed = resting_buy(venue, "t-4")
    gw.submit(placed)
    await until(lambda: listener.of("t-4", K.ACCEPTED), "the ack")
    venue_id = listener.of("t-4", K.ACCEPTED)[0].venue_order_id
    new_price = placed.price_ticks - 100
    gw.replace(
        ReplaceOrder(client_order_id="t-4", instrument=0, price_ticks=new_price, size_lots=700)
    )
    await until(lambda: listener.of("t-4", K.REPLACED), "the replace")
    await until(lambda: len(listener.of("t-4", K.ACCEPTED)) >= 2, "the other copy, as an ack")
    (replaced,) = listener.of("t-4", K.REPLACED)
    assert (replaced.venue_order_id, replaced.price_ticks, replaced.size_lots) == (
        venue_id,
        new_price,
        700,
    )
    (working,) = await gw.open_orders()
    assert (working.venue_order_id, working.price_ticks, working.size_lots) == (
        venue_id,
        new_price,
        700,
    )


async def test_a_modify_the_stream_reports_first_is_still_one_replace(gateway, venue):
    """With the answer held back, the stream's AMENDMENT is the REPLACED; the answer an ack."""
    gw, listener = gateway
    placed = resting_buy(venue, "t-5")
    gw.submit(placed)
    await until(lambda: listener.of("t-5", K.ACCEPTED), "the ack")
    venue.faults.trading.slow_orders(0.3)
    gw.replace(
        ReplaceOrder(
            client_order_id="t-5", instrument=0, price_ticks=placed.price_ticks - 5, size_lots=800
        )
    )
    await until(lambda: listener.of("t-5", K.REPLACED), "the replace from the stream")
    await until(lambda: len(listener.of("t-5", K.ACCEPTED)) >= 2, "the late answer, as an ack")
    assert len(listener.of("t-5", K.REPLACED)) == 1


async def test_a_modify_through_the_book_takes(gateway, venue):
    """A resting buy modified to the ask fills there (modify may take)."""
    gw, listener = gateway
    _, (ask, ask_size) = best(venue)
    gw.submit(resting_buy(venue, "t-6", size=min(ask_size, 1000)))
    await until(lambda: listener.of("t-6", K.ACCEPTED), "the ack")
    gw.replace(
        ReplaceOrder(
            client_order_id="t-6", instrument=0, price_ticks=ask, size_lots=min(ask_size, 1000)
        )
    )
    await until(lambda: listener.unique_fills("t-6"), "the fill")
    assert listener.story("t-6")[:2] == ["accepted", "replaced"]


async def test_a_gtx_modify_that_would_cross_cancels(gateway, venue):
    """A post-only order modified through the book is CANCELED by the venue."""
    gw, listener = gateway
    _, (ask, _) = best(venue)
    gw.submit(
        msgspec.structs.replace(resting_buy(venue, "t-7"), time_in_force=TimeInForce.POST_ONLY)
    )
    await until(lambda: listener.of("t-7", K.ACCEPTED), "the ack")
    gw.replace(ReplaceOrder(client_order_id="t-7", instrument=0, price_ticks=ask, size_lots=1000))
    await until(lambda: listener.of("t-7", K.CANCELED), "the cancel")
    assert not listener.of("t-7", K.REPLACED)


async def test_cancel_all_reports_every_order_canceled(gateway, venue):
    """Cancel-all waits until the stream ended each order it canceled."""
    gw, listener = gateway
    for cid in ("t-8", "t-9"):
        gw.submit(resting_buy(venue, cid))
    await until(lambda: listener.of("t-8", K.ACCEPTED) and listener.of("t-9", K.ACCEPTED), "acks")
    await gw.cancel_all()
    assert listener.of("t-8", K.CANCELED)
    assert listener.of("t-9", K.CANCELED)
    assert await gw.open_orders() == []
    await gw.cancel_all()  # nothing open: fine


async def test_cancel_all_looks_up_what_the_stream_does_not_report(gateway, venue):
    """With the stream cut, cancel-all still reports each order as the venue holds it."""
    gw, listener = gateway
    gw.submit(resting_buy(venue, "t-10"))
    await until(lambda: listener.of("t-10", K.ACCEPTED), "the ack")
    gw.settle_s = 0.0
    await gw.cancel_all()
    assert listener.of("t-10", K.CANCELED)


async def test_a_gtx_that_would_take_is_rejected_with_the_venues_words(gateway, venue):
    """Post-only through the book is REJECTED with -5022 and Binance's sentence."""
    gw, listener = gateway
    _, (ask, _) = best(venue)
    gw.submit(order("t-11", Side.BUY, ask, 1000, time_in_force=TimeInForce.POST_ONLY))
    await until(lambda: listener.of("t-11", K.REJECTED), "the reject")
    (reject,) = listener.of("t-11", K.REJECTED)
    assert reject.code == -5022
    assert "could not be executed as maker" in reject.reason


async def test_reduce_only_is_rejected_flat_and_partly_filled_beyond_the_position(gateway, venue):
    """Flat: -2022. Long 1000, reduce-only sell 1500: 1000 filled, the rest EXPIRED, flat."""
    gw, listener = gateway
    (bid, _), (ask, _) = best(venue)
    gw.submit(order("t-12", Side.SELL, bid, 1000, reduce_only=True))
    await until(lambda: listener.of("t-12", K.REJECTED), "the reject")
    assert listener.of("t-12", K.REJECTED)[0].code == -2022
    gw.submit(order("t-13", Side.BUY, ask, 1000, order_type=OrderType.LIMIT))
    await until(lambda: sum(f.size for f in listener.unique_fills("t-13").values()) == 1000, "long")
    gw.submit(order("t-14", Side.SELL, bid, 1500, reduce_only=True))
    await until(lambda: listener.of("t-14", K.EXPIRED), "the expiry of the rest")
    assert sum(f.size for f in listener.unique_fills("t-14").values()) == 1000
    assert listener.story("t-14") == ["accepted", "fill", "expired"]
    (position,) = await gw.positions()
    assert (position.net_lots, position.inventory) == (0, False)


async def test_order_status_reads_open_finished_and_unknown_orders(gateway, venue):
    """The venue's record of one order: open while it rests, closed once canceled, None unknown."""
    gw, listener = gateway
    gw.submit(resting_buy(venue, "t-26"))
    await until(lambda: listener.of("t-26", K.ACCEPTED), "the ack")
    working = await gw.order_status(0, "t-26")
    assert working is not None
    assert (working.open, working.size_lots, working.filled_lots) == (True, 1000, 0)
    gw.cancel(CancelOrder(client_order_id="t-26", instrument=0))
    await until(lambda: listener.of("t-26", K.CANCELED), "the cancel")
    done = await gw.order_status(0, "t-26")
    assert done is not None
    assert not done.open
    assert await gw.order_status(0, "never-sent") is None


async def test_positions_are_real_positions(gateway, venue):
    """A short of 700 lots reads -700, not a balance."""
    gw, listener = gateway
    (bid, _), _ = best(venue)
    gw.submit(order("t-15", Side.SELL, bid, 700))
    await until(lambda: sum(f.size for f in listener.unique_fills("t-15").values()) == 700, "fills")
    (position,) = await gw.positions()
    assert position.net_lots == -700
    assert not position.inventory
    (usdt,) = await gw.balances()
    assert usdt.asset == "USDT"
    assert usdt.wallet < 1_000_000 * 10**8


async def test_fills_since_finds_the_streams_fills_with_the_same_ids(gateway, venue):
    """``userTrades`` gives the fills the stream gave, with the same trade ids, oldest first."""
    gw, listener = gateway
    since = time.time_ns() - 1_000_000_000
    _, asks, _ = venue.true_book("BTCUSDT")
    gw.submit(order("t-16", Side.BUY, asks[1][0], asks[0][1] + 10))
    await until(
        lambda: sum(f.size for f in listener.unique_fills("t-16").values()) == asks[0][1] + 10,
        "fills",
    )
    venue_id = listener.of("t-16", K.ACCEPTED)[0].venue_order_id
    fetched = await gw.fills_since(since, {venue_id: "t-16"})
    assert {f.trade_id for f in fetched} == set(listener.unique_fills("t-16"))
    assert all(f.client_order_id == "t-16" for f in fetched)
    assert [f.exch_ts for f in fetched] == sorted(f.exch_ts for f in fetched)


async def test_an_expired_listen_key_is_replaced_and_the_link_comes_back(gateway, venue):
    """``listenKeyExpired``: link bad, a new key, a new stream, healthy; orders flow again."""
    gw, listener = gateway
    venue.usdm.expire_listen_keys()
    await until(lambda: len(listener.links) >= 3 and listener.links[-1][0], "the new stream")
    assert [healthy for healthy, _ in listener.links[:3]] == [True, False, True]
    assert "expired" in listener.links[1][1]
    assert gw.user_stream is not None
    assert gw.user_stream.keys == 2
    gw.submit(resting_buy(venue, "t-17"))
    await until(lambda: len(listener.of("t-17", K.ACCEPTED)) >= 2, "the ack from both sources")


async def test_a_refused_keep_alive_makes_a_new_key(venue):
    """A key that lapsed unannounced: the keep-alive gets -1125, the stream ends, a new key."""
    listener = Recorder()
    gw = make_gateway(venue, listener, keepalive_s=0.05)
    await gw.start()
    try:
        venue.usdm.expire_listen_keys(notify=False)
        await until(lambda: gw.user_stream is not None and gw.user_stream.keys >= 2, "a new key")
        await until(lambda: listener.links[-1][0], "healthy again")
        assert any("keep-alive refused" in reason for _, reason in listener.links)
    finally:
        await gw.stop()


async def test_a_key_the_venue_closed_is_replaced(gateway, venue):
    """The venue closes the key and its stream: the old key is refused, a new one made."""
    gw, listener = gateway
    venue.usdm.streams.close(venue.trading.accounts.all()[0])
    await until(lambda: gw.user_stream is not None and gw.user_stream.keys >= 2, "a new key")
    await until(lambda: listener.links[-1][0], "healthy again")


async def test_a_dropped_stream_reconnects_on_the_same_key(gateway, venue):
    """A cut connection: link bad, then healthy again on the same listen key."""
    gw, listener = gateway
    venue.usdm.drop_user_streams()
    await until(lambda: len(listener.links) >= 3 and listener.links[-1][0], "the reconnect")
    assert gw.user_stream is not None
    assert (gw.user_stream.keys, gw.user_stream.connections) == (1, 2)


async def test_garbage_on_the_stream_reconnects(gateway, venue):
    """A malformed frame: link bad, reconnect, healthy."""
    gw, listener = gateway
    venue.faults.trading.malformed_user_stream_next(1)
    gw.submit(resting_buy(venue, "t-18"))
    await until(lambda: any("garbage" in r for _, r in listener.links), "the bad link")
    await until(lambda: listener.links[-1][0], "healthy again")


@pytest.mark.parametrize("placed", [True, False])
async def test_an_unknown_status_is_resolved_by_asking_never_by_resending(gateway, venue, placed):
    """408 -1007 after the order was (or was not) placed: looked up, ACCEPTED or REJECTED."""
    gw, listener = gateway
    venue.faults.trading.status_unknown_next(1, placed=placed)
    gw.submit(resting_buy(venue, "t-19"))
    kind = K.ACCEPTED if placed else K.REJECTED
    await until(lambda: listener.of("t-19", kind), f"the order {kind}")
    assert len(await gw.open_orders()) == (1 if placed else 0)


@pytest.mark.parametrize("placed", [True, False])
async def test_a_cancel_of_unknown_status_is_resolved_by_asking(gateway, venue, placed):
    """408 on a cancel: looked up; CANCELED when it was carried out, else CANCEL_REJECTED."""
    gw, listener = gateway
    gw.submit(resting_buy(venue, "t-28"))
    await until(lambda: listener.of("t-28", K.ACCEPTED), "the ack")
    venue.faults.trading.status_unknown_next(1, placed=placed)
    gw.cancel(CancelOrder(client_order_id="t-28", instrument=0))
    kind = K.CANCELED if placed else K.CANCEL_REJECTED
    await until(lambda: listener.of("t-28", kind), f"the cancel {kind}")
    if not placed:
        assert "still open" in listener.of("t-28", K.CANCEL_REJECTED)[0].reason


@pytest.mark.parametrize("placed", [True, False])
async def test_a_modify_of_unknown_status_is_resolved_by_asking(gateway, venue, placed):
    """408 on a modify: looked up; REPLACED when it took, else REPLACE_REJECTED, unchanged."""
    gw, listener = gateway
    placed_order = resting_buy(venue, "t-29")
    gw.submit(placed_order)
    await until(lambda: listener.of("t-29", K.ACCEPTED), "the ack")
    venue.faults.trading.status_unknown_next(1, placed=placed)
    new_price = placed_order.price_ticks - 7
    gw.replace(
        ReplaceOrder(client_order_id="t-29", instrument=0, price_ticks=new_price, size_lots=900)
    )
    kind = K.REPLACED if placed else K.REPLACE_REJECTED
    await until(lambda: listener.of("t-29", kind), f"the modify {kind}")
    assert len(listener.of("t-29", K.REPLACED)) == (1 if placed else 0)
    (working,) = await gw.open_orders()
    expected = (new_price, 900) if placed else (placed_order.price_ticks, 1000)
    assert (working.price_ticks, working.size_lots) == expected


async def test_a_clock_jump_is_answered_with_a_resync_and_one_resend(venue):
    """When our clock jumps ahead the venue refuses the timestamp (-1021): resync, resend, ok."""

    class JumpingClock(LiveClock):
        shift_ns = 0

        def time_ns(self) -> int:
            return super().time_ns() + self.shift_ns

    clock = JumpingClock()
    listener = Recorder()
    gw = BinanceUsdmGateway(
        [BTC], listener, venue.rest_url, f"{venue.ws_url}/private", KEY, SECRET, clock, venue="sim"
    )
    await gw.start()
    try:
        clock.shift_ns = 3_000_000_000
        gw.submit(resting_buy(venue, "t-30"))
        await until(lambda: listener.of("t-30", K.ACCEPTED), "the resent order")
        assert gw.clock_offset.syncs >= 2
    finally:
        await gw.stop()


async def test_a_429_rejects_the_order_and_holds_everything_for_retry_after(gateway, venue):
    """A 429 is a REJECTED with its code; the limiter then waits Retry-After before sending."""
    gw, listener = gateway
    venue.faults.trading.order_rate_limit_next(1, retry_after_s=1)
    gw.submit(resting_buy(venue, "t-20"))
    await until(lambda: listener.of("t-20", K.REJECTED), "the rate-limit reject")
    assert listener.of("t-20", K.REJECTED)[0].code == -1003
    assert gw.limiter.paused_for_s > 0
    gw.submit(resting_buy(venue, "t-21"))
    await until(lambda: listener.of("t-21", K.ACCEPTED), "the next order, after the pause")


async def test_a_wrong_secret_fails_start_with_auth_error(venue):
    """The venue refuses the signature of the start-up check: start raises AuthError."""
    gw = make_gateway(venue, Recorder(), secret="not-the-secret")
    with pytest.raises(AuthError) as caught:
        await gw.start()
    assert caught.value.code == -1022
    assert "not-the-secret" not in str(caught.value)


async def test_filter_failures_and_unknown_cancels_carry_the_venues_codes(gateway, venue):
    """Under the minimum notional: -4164; a cancel of nothing: -2011."""
    gw, listener = gateway
    (bid, _), _ = best(venue)
    gw.submit(order("t-22", Side.BUY, bid - 500, 1))
    gw.cancel(CancelOrder(client_order_id="never-sent", instrument=0))
    await until(
        lambda: listener.of("t-22", K.REJECTED) and listener.of("never-sent", K.CANCEL_REJECTED),
        "both refusals",
    )
    assert listener.of("t-22", K.REJECTED)[0].code == -4164
    assert listener.of("never-sent", K.CANCEL_REJECTED)[0].code == -2011


async def test_usage_of_every_limit_is_in_the_stats(gateway, venue):
    """``stats.rate`` names USD-M's limits with the venue's own counts after an answer."""
    gw, listener = gateway
    gw.submit(resting_buy(venue, "t-23"))
    await until(lambda: listener.of("t-23", K.ACCEPTED), "the ack")
    await gw.open_orders()
    usage = {u.name: u for u in gw.stats.rate}
    assert set(usage) == {"REQUEST_WEIGHT", "ORDERS_10S", "ORDERS_1M"}
    assert usage["ORDERS_10S"].used >= 1
    assert usage["REQUEST_WEIGHT"].used >= 1


async def test_requests_the_gateway_cannot_send_are_refused_here(gateway, venue):
    """A post-only market order, an unknown order's modify and an unknown instrument: code 0."""
    gw, listener = gateway
    sent = gw.stats.requests
    gw.submit(
        SubmitOrder(
            client_order_id="t-24",
            instrument=0,
            side=Side.BUY,
            size_lots=100,
            order_type=OrderType.MARKET,
            time_in_force=TimeInForce.POST_ONLY,
        )
    )
    gw.replace(ReplaceOrder(client_order_id="nobody", instrument=0, price_ticks=1, size_lots=1))
    gw.cancel(CancelOrder(client_order_id="t-25", instrument=9))
    assert "post-only" in listener.of("t-24", K.REJECTED)[0].reason
    assert listener.of("nobody", K.REPLACE_REJECTED)[0].reason == "Unknown order sent."
    assert "not traded" in listener.of("t-25", K.CANCEL_REJECTED)[0].reason
    assert all(u.code == 0 for u in listener.updates)
    assert gw.stats.requests == sent


def test_no_secret_in_the_gateway_repr(venue):
    """The gateway's repr names venue and URLs, never the key or secret."""
    gw = make_gateway(venue, Recorder())
    assert SECRET not in repr(gw)
    assert KEY not in repr(gw)


async def test_stop_closes_the_listen_key(venue):
    """Stopping the gateway deletes its listen key at the venue."""
    gw = make_gateway(venue, Recorder())
    await gw.start()
    alice = venue.trading.accounts.all()[0]
    assert venue.usdm.streams.listening(alice)
    await gw.stop()
    assert not venue.usdm.streams.listening(alice)
    with pytest.raises(RestError) as gone:
        venue.usdm.streams.keepalive(alice)
    assert gone.value.code == -1125

"""The Binance spot gateway end to end against the local venue, over real sockets on 127.0.0.1.

The venue's market stands still (no autorun) so that prices and fills are known; orders that
cross the book take the venue's resting liquidity at once. Every report comes twice, from the
REST answer and from the user stream, and both are passed on: the listener checks fill ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest

from engine.core.clock import LiveClock
from engine.core.commands import CancelOrder, OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.errors import AuthError
from engine.sim.accounts import AccountSpec
from engine.sim.server import SimVenue
from engine.venues.backoff import Backoff
from engine.venues.binance.gateway import BinanceSpotGateway
from tests.engine.venues.recording import Recorder, until

pytestmark = pytest.mark.integration

KEY = "gatewayKey01"
SECRET = "gatewaySecret01"
BTC = Instrument(
    venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", min_notional="5"
)
K = OrderUpdateKind


@pytest.fixture
async def venue() -> AsyncIterator[SimVenue]:
    """A still market with one funded account."""
    sim = SimVenue(
        [BTC],
        seed=11,
        autorun=False,
        accounts=[AccountSpec(KEY, SECRET, balances={"USDT": "1000000", "BTC": "10"})],
    )
    await sim.start()
    yield sim
    await sim.stop()


def make_gateway(venue: SimVenue, listener: Recorder, secret: str = SECRET) -> BinanceSpotGateway:
    """A gateway to the local venue with quick reconnects and look-ups."""
    return BinanceSpotGateway(
        [BTC],
        listener,
        venue.rest_url,
        f"{venue.ws_url}/ws-api/v3",
        KEY,
        secret,
        LiveClock(),
        venue="sim",
        backoff=Backoff(base_s=0.01, cap_s=0.05),
        status_query_delay_s=0.05,
        timeout_s=3.0,
    )


@pytest.fixture
async def gateway(venue: SimVenue) -> AsyncIterator[tuple[BinanceSpotGateway, Recorder]]:
    """A started gateway and its listener."""
    listener = Recorder()
    gw = make_gateway(venue, listener)
    await gw.start()
    yield gw, listener
    await gw.stop()


def best(venue: SimVenue) -> tuple[tuple[int, int], tuple[int, int]]:
    """The venue's best bid and best ask as (ticks, lots)."""
    bids, asks, _ = venue.true_book("BTCUSDT")
    return bids[0], asks[0]


def order(cid: str, side: Side, price: int, size: int, **fields) -> SubmitOrder:
    """A limit order on BTCUSDT."""
    return SubmitOrder(
        client_order_id=cid, instrument=0, side=side, size_lots=size, price_ticks=price, **fields
    )


def resting_buy(venue: SimVenue, cid: str, size: int = 1000) -> SubmitOrder:
    """A buy 500 ticks under the best bid: it rests."""
    (bid, _), _ = best(venue)
    return order(cid, Side.BUY, bid - 500, size)


async def test_start_makes_the_link_healthy(gateway):
    """After start the clock is measured and the user stream subscribed: healthy."""
    gw, listener = gateway
    assert gw.stats.healthy
    assert listener.links == [(True, "")]
    assert gw.clock_offset.synced


async def test_a_crossing_order_is_acked_then_filled_across_levels(gateway, venue):
    """A buy through two ask levels: ACCEPTED, then fills at each level, all lots, fees paid."""
    gw, listener = gateway
    _, asks, _ = venue.true_book("BTCUSDT")
    size = asks[0][1] + asks[1][1] // 2
    gw.submit(order("t-1", Side.BUY, asks[1][0], size))
    await until(lambda: sum(f.size for f in listener.unique_fills("t-1").values()) == size, "fills")
    first = next(u for u in listener.updates if u.client_order_id == "t-1")
    assert first.kind is K.ACCEPTED
    fills = sorted(listener.unique_fills("t-1").values(), key=lambda f: f.price)
    assert [f.price for f in fills][:1] == [asks[0][0]]
    assert {f.price for f in fills} <= {asks[0][0], asks[1][0]}
    assert all(f.fee > 0 and f.liquidity == "taker" and f.side is Side.BUY for f in fills)
    await until(lambda: len(listener.fills) == 2 * len(fills), "the stream's copies of each fill")


async def test_a_resting_order_is_accepted_then_canceled(gateway, venue):
    """A resting order is ACCEPTED; a cancel makes it CANCELED and the venue holds nothing."""
    gw, listener = gateway
    gw.submit(resting_buy(venue, "t-2"))
    await until(lambda: listener.of("t-2", K.ACCEPTED), "the ack")
    assert [o.client_order_id for o in await gw.open_orders()] == ["t-2"]
    gw.cancel(CancelOrder(client_order_id="t-2", instrument=0))
    await until(lambda: listener.of("t-2", K.CANCELED), "the cancel")
    assert listener.kinds("t-2") == [K.ACCEPTED, K.CANCELED]
    assert await gw.open_orders() == []


async def test_a_replace_moves_the_order_under_the_same_client_id(gateway, venue):
    """Cancel-replace is one REPLACED with the new venue order id; the old half never shows."""
    gw, listener = gateway
    placed = resting_buy(venue, "t-3")
    gw.submit(placed)
    await until(lambda: listener.of("t-3", K.ACCEPTED), "the ack")
    old_id = listener.of("t-3", K.ACCEPTED)[0].venue_order_id
    new_price = placed.price_ticks - 100
    gw.replace(
        ReplaceOrder(client_order_id="t-3", instrument=0, price_ticks=new_price, size_lots=700)
    )
    await until(lambda: listener.of("t-3", K.REPLACED), "the replace")
    replaced = listener.of("t-3", K.REPLACED)[0]
    assert replaced.venue_order_id != old_id
    assert (replaced.price_ticks, replaced.size_lots) == (new_price, 700)
    (working,) = await gw.open_orders()
    assert (working.venue_order_id, working.price_ticks, working.size_lots) == (
        replaced.venue_order_id,
        new_price,
        700,
    )
    await asyncio.sleep(0.05)  # the stream's CANCELED of the old half would be here by now
    assert not listener.of("t-3", K.CANCELED)


async def test_cancel_all_cancels_every_open_order(gateway, venue):
    """Cancel-all waits for the venue and reports each order CANCELED."""
    gw, listener = gateway
    for cid in ("t-4", "t-5"):
        gw.submit(resting_buy(venue, cid))
    await until(lambda: listener.of("t-4", K.ACCEPTED) and listener.of("t-5", K.ACCEPTED), "acks")
    await gw.cancel_all()
    assert listener.of("t-4", K.CANCELED)
    assert listener.of("t-5", K.CANCELED)
    assert await gw.open_orders() == []
    await gw.cancel_all()  # nothing open: fine


async def test_a_post_only_that_would_take_is_rejected_with_the_venues_words(gateway, venue):
    """LIMIT_MAKER through the book is REJECTED with -2010 and Binance's sentence."""
    gw, listener = gateway
    _, (ask, _) = best(venue)
    gw.submit(order("t-6", Side.BUY, ask, 100, time_in_force=TimeInForce.POST_ONLY))
    await until(lambda: listener.of("t-6", K.REJECTED), "the reject")
    reject = listener.of("t-6", K.REJECTED)[0]
    assert reject.code == -2010
    assert "immediately match and take" in reject.reason


async def test_a_filter_failure_and_an_unknown_cancel_carry_the_venues_codes(gateway, venue):
    """An order under the minimum notional is -1013; a cancel of nothing is -2011."""
    gw, listener = gateway
    (bid, _), _ = best(venue)
    gw.submit(order("t-7", Side.BUY, bid - 500, 1))
    gw.cancel(CancelOrder(client_order_id="never-sent", instrument=0))
    await until(
        lambda: listener.of("t-7", K.REJECTED) and listener.of("never-sent", K.CANCEL_REJECTED),
        "both refusals",
    )
    assert listener.of("t-7", K.REJECTED)[0].code == -1013
    refused = listener.of("never-sent", K.CANCEL_REJECTED)[0]
    assert (refused.code, refused.reason) == (-2011, "Unknown order sent.")


async def test_a_429_rejects_the_order_and_holds_everything_for_retry_after(gateway, venue):
    """A 429 is a REJECTED with its code; the limiter then waits Retry-After before sending."""
    gw, listener = gateway
    venue.faults.trading.order_rate_limit_next(1, retry_after_s=1)
    gw.submit(resting_buy(venue, "t-8"))
    await until(lambda: listener.of("t-8", K.REJECTED), "the rate-limit reject")
    assert listener.of("t-8", K.REJECTED)[0].code == -1003
    assert gw.limiter.paused_for_s > 0
    gw.submit(resting_buy(venue, "t-9"))
    await until(lambda: listener.of("t-9", K.ACCEPTED), "the next order, after the pause")
    assert gw.stats.healthy


async def test_a_418_ban_stops_sending_and_marks_the_link_bad(gateway, venue):
    """A ban rejects the order, marks the link bad and refuses new orders without sending."""
    gw, listener = gateway
    venue.faults.trading.order_rate_limit_next(1, retry_after_s=30, banned=True)
    gw.submit(resting_buy(venue, "t-10"))
    await until(lambda: listener.of("t-10", K.REJECTED), "the ban reject")
    assert not gw.stats.healthy
    assert "banned" in gw.stats.reason
    sent = gw.stats.requests
    gw.submit(resting_buy(venue, "t-11"))
    assert listener.of("t-11", K.REJECTED)
    assert gw.stats.requests == sent


async def test_a_dropped_user_stream_reconnects_and_turns_healthy_again(gateway, venue):
    """When the stream drops the link goes bad, then healthy after it resubscribes."""
    gw, listener = gateway
    venue.faults.trading.disconnect_user_streams()
    await until(lambda: len(listener.links) >= 3 and listener.links[-1][0], "the reconnect")
    assert [healthy for healthy, _ in listener.links[:3]] == [True, False, True]
    gw.submit(resting_buy(venue, "t-12"))
    await until(lambda: listener.of("t-12", K.ACCEPTED), "an order after the reconnect")


async def test_an_ended_subscription_is_renewed(gateway, venue):
    """``eventStreamTerminated`` makes the gateway subscribe again."""
    _, listener = gateway
    venue.faults.trading.terminate_user_streams()
    await until(lambda: len(listener.links) >= 3 and listener.links[-1][0], "the new subscription")


async def test_a_garbage_answer_marks_the_link_bad_and_the_order_is_looked_up(gateway, venue):
    """A body that is not JSON: link bad, the order found by its id, healthy after resubscribing."""
    gw, listener = gateway
    venue.faults.trading.garbage_rest_next(1)
    gw.submit(resting_buy(venue, "t-13"))
    await until(lambda: listener.of("t-13", K.ACCEPTED), "the order found by its client id")
    assert any(not healthy and "garbage" in reason for healthy, reason in listener.links)
    await until(lambda: listener.links[-1][0], "healthy again")


async def test_a_malformed_user_stream_frame_marks_the_link_bad_until_resubscribed(gateway, venue):
    """Garbage on the stream: link bad, resubscribe, healthy."""
    gw, listener = gateway
    venue.faults.trading.malformed_user_stream_next(1)
    gw.submit(resting_buy(venue, "t-14"))
    await until(lambda: any("garbage" in r for _, r in listener.links), "the bad link")
    await until(lambda: listener.links[-1][0], "healthy again")


@pytest.mark.parametrize("placed", [True, False])
async def test_an_unknown_status_is_resolved_by_asking_never_by_resending(gateway, venue, placed):
    """-1007 after the order was (or was not) placed: looked up, ACCEPTED or REJECTED."""
    gw, listener = gateway
    venue.faults.trading.status_unknown_next(1, placed=placed)
    gw.submit(resting_buy(venue, "t-15"))
    kind = K.ACCEPTED if placed else K.REJECTED
    await until(lambda: listener.of("t-15", kind), f"the order {kind}")
    if not placed:
        assert "no such order" in listener.of("t-15", K.REJECTED)[0].reason
    assert len(await gw.open_orders()) == (1 if placed else 0)


async def test_a_clock_jump_is_answered_with_a_resync_and_one_resend(venue):
    """When our clock jumps ahead the venue refuses the timestamp; resync, resend, accepted."""

    class JumpingClock(LiveClock):
        shift_ns = 0

        def time_ns(self) -> int:
            return super().time_ns() + self.shift_ns

    clock = JumpingClock()
    listener = Recorder()
    gw = BinanceSpotGateway(
        [BTC],
        listener,
        venue.rest_url,
        f"{venue.ws_url}/ws-api/v3",
        KEY,
        SECRET,
        clock,
        venue="sim",
    )
    await gw.start()
    try:
        clock.shift_ns = 3_000_000_000
        gw.submit(resting_buy(venue, "t-16"))
        await until(lambda: listener.of("t-16", K.ACCEPTED), "the resent order")
        assert gw.clock_offset.syncs >= 2
    finally:
        await gw.stop()


async def test_a_wrong_secret_fails_start_with_auth_error(venue):
    """The venue refuses the subscription's signature: start raises AuthError."""
    gw = make_gateway(venue, Recorder(), secret="not-the-secret")
    with pytest.raises(AuthError) as caught:
        await gw.start()
    assert caught.value.code == -1022
    assert "not-the-secret" not in str(caught.value)


async def test_positions_are_the_base_asset_balance(gateway, venue):
    """The venue's BTC balance in lots grows by what we bought, less the commission in BTC."""
    gw, listener = gateway
    (before,) = await gw.positions()
    _, (ask, ask_size) = best(venue)
    gw.submit(order("t-17", Side.BUY, ask, min(ask_size, 1000), order_type=OrderType.LIMIT))
    await until(lambda: listener.unique_fills("t-17"), "the fill")
    bought = sum(f.size for f in listener.unique_fills("t-17").values())
    (after,) = await gw.positions()
    assert after.net_lots - before.net_lots == bought - bought // 1000  # 0.1 % taken in BTC


async def test_usage_of_every_limit_is_in_the_stats(gateway, venue):
    """``stats.rate`` names every limit with the venue's own counts after an answer."""
    gw, listener = gateway
    gw.submit(resting_buy(venue, "t-18"))
    await until(lambda: listener.of("t-18", K.ACCEPTED), "the ack")
    usage = {u.name: u for u in gw.stats.rate}
    assert set(usage) == {"REQUEST_WEIGHT", "ORDERS_10S", "ORDERS_1D", "RAW_REQUESTS"}
    assert usage["ORDERS_10S"].used >= 1
    assert usage["REQUEST_WEIGHT"].used >= 1


def test_no_secret_in_the_gateway_repr(venue):
    """The gateway's repr names venue and URLs, never the key or secret."""
    gw = make_gateway(venue, Recorder())
    assert SECRET not in repr(gw)
    assert KEY not in repr(gw)


async def test_a_replace_reported_first_by_the_stream_is_still_one_replace(gateway, venue):
    """With the REST answer held back, the stream's NEW is the REPLACED; nothing is canceled."""
    gw, listener = gateway
    placed = resting_buy(venue, "t-19")
    gw.submit(placed)
    await until(lambda: listener.of("t-19", K.ACCEPTED), "the ack")
    venue.faults.trading.slow_orders(0.3)
    new_price = placed.price_ticks - 50
    gw.replace(
        ReplaceOrder(client_order_id="t-19", instrument=0, price_ticks=new_price, size_lots=800)
    )
    await until(lambda: listener.of("t-19", K.REPLACED), "the replace from the stream")
    replaced = listener.of("t-19", K.REPLACED)
    new_id = replaced[0].venue_order_id
    await until(
        lambda: any(u.venue_order_id == new_id for u in listener.of("t-19", K.ACCEPTED)),
        "the late REST answer, passed on as an ack of the new order",
    )
    assert len(listener.of("t-19", K.REPLACED)) == 1
    assert (replaced[0].price_ticks, replaced[0].size_lots) == (new_price, 800)
    assert not listener.of("t-19", K.CANCELED)


async def test_requests_the_gateway_cannot_send_are_refused_here(gateway, venue):
    """Reduce-only, an unknown order's replace and an unknown instrument are refused, code 0."""
    gw, listener = gateway
    sent = gw.stats.requests
    gw.submit(msgspec.structs.replace(resting_buy(venue, "t-20"), reduce_only=True))
    gw.replace(ReplaceOrder(client_order_id="nobody", instrument=0, price_ticks=1, size_lots=1))
    gw.cancel(CancelOrder(client_order_id="t-21", instrument=9))
    assert "reduce-only" in listener.of("t-20", K.REJECTED)[0].reason
    assert listener.of("nobody", K.REPLACE_REJECTED)[0].reason == "Unknown order sent."
    assert "not traded" in listener.of("t-21", K.CANCEL_REJECTED)[0].reason
    assert all(u.code == 0 for u in listener.updates)
    assert gw.stats.requests == sent


async def test_orders_before_start_are_refused(venue):
    """A gateway that is not started refuses orders without sending anything."""
    listener = Recorder()
    gw = make_gateway(venue, listener)
    gw.submit(resting_buy(venue, "t-22"))
    assert "not started" in listener.of("t-22", K.REJECTED)[0].reason

"""The Bybit linear gateway end to end against the local venue, over real sockets on 127.0.0.1.

The venue's market stands still (no autorun) so that prices and fills are known; orders that
cross the book take the venue's resting liquidity at once. Acks come from REST, the order's life
from the private stream; the listener sees every report, in order, the ack first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from engine.core.clock import LiveClock
from engine.core.commands import CancelOrder, OrderType, ReplaceOrder, SubmitOrder, TimeInForce
from engine.core.events import Fill, OrderUpdate, OrderUpdateKind, Side
from engine.core.instruments import Instrument
from engine.errors import AuthError
from engine.sim.accounts import AccountSpec
from engine.sim.server import SimVenue
from engine.venues.backoff import Backoff
from engine.venues.base import VenuePosition
from engine.venues.bybit.gateway import BybitLinearGateway, credentials_from_env

pytestmark = pytest.mark.integration

KEY = "bybitGatewayKey1"
SECRET = "bybitGatewaySecret1"
BTC = Instrument(
    venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", min_notional="5"
)
K = OrderUpdateKind
NAME = "bybit-linear"
"""The venue name the engine gives the gateway: every report carries it, not the module's."""


class Recorder:
    """A gateway listener that keeps everything it is told, in order."""

    def __init__(self) -> None:
        self.events: list[OrderUpdate | Fill] = []
        self.links: list[tuple[bool, str]] = []

    def on_order_update(self, update: OrderUpdate) -> None:
        """Keep the update."""
        self.events.append(update)

    def on_fill(self, fill: Fill) -> None:
        """Keep the fill."""
        self.events.append(fill)

    def on_gateway_link(self, venue: str, healthy: bool, reason: str) -> None:
        """Keep the link change."""
        self.links.append((healthy, reason))

    def of(self, client_order_id: str) -> list[OrderUpdate | Fill]:
        """One order's reports, in order."""
        return [e for e in self.events if e.client_order_id == client_order_id]

    def kinds(self, client_order_id: str) -> list[str]:
        """One order's reports as kinds (``fill`` for fills), adjacent repeats removed."""
        out: list[str] = []
        for e in self.of(client_order_id):
            kind = "fill" if isinstance(e, Fill) else e.kind.value
            if not out or out[-1] != kind:
                out.append(kind)
        return out

    def fills(self, client_order_id: str) -> list[Fill]:
        """One order's fills, one per fill id."""
        unique = {e.trade_id: e for e in self.of(client_order_id) if isinstance(e, Fill)}
        return list(unique.values())

    def last(self, client_order_id: str, kind: OrderUpdateKind) -> OrderUpdate:
        """One order's latest update of one kind."""
        found = [
            e for e in self.of(client_order_id) if isinstance(e, OrderUpdate) and e.kind is kind
        ]
        assert found, f"no {kind} for {client_order_id}: {self.kinds(client_order_id)}"
        return found[-1]


async def until(condition: Callable[[], object], what: str, within_s: float = 10.0) -> None:
    """Wait for ``condition`` to hold (no timing is asserted; the limit only ends a hung test)."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.005)


@pytest.fixture
async def venue() -> AsyncIterator[SimVenue]:
    """A still market with one funded account."""
    sim = SimVenue(
        [BTC],
        seed=11,
        autorun=False,
        accounts=[AccountSpec(KEY, SECRET, balances={"USDT": "1000000"})],
    )
    await sim.start()
    yield sim
    await sim.stop()


def make_gateway(
    venue: SimVenue, listener: Recorder, secret: str = SECRET, clock: LiveClock | None = None
) -> BybitLinearGateway:
    """A gateway to the local venue with quick reconnects and look-ups."""
    return BybitLinearGateway(
        [BTC],
        listener,
        venue.rest_url,
        f"{venue.ws_url}/v5/private",
        KEY,
        secret,
        clock or LiveClock(),
        venue=NAME,
        backoff=Backoff(base_s=0.01, cap_s=0.05),
        status_query_delay_s=0.05,
        timeout_s=3.0,
    )


@pytest.fixture
async def gateway(venue: SimVenue) -> AsyncIterator[tuple[BybitLinearGateway, Recorder]]:
    """A started gateway and its listener."""
    listener = Recorder()
    gw = make_gateway(venue, listener)
    await gw.start()
    yield gw, listener
    await gw.stop()


def limit(cid: str, side: Side, ticks: int, lots: int, **kw: Any) -> SubmitOrder:
    """A limit order on BTCUSDT."""
    return SubmitOrder(
        client_order_id=cid, instrument=0, side=side, size_lots=lots, price_ticks=ticks, **kw
    )


def market(cid: str, side: Side, lots: int, **kw: Any) -> SubmitOrder:
    """A market order on BTCUSDT."""
    return SubmitOrder(
        client_order_id=cid,
        instrument=0,
        side=side,
        size_lots=lots,
        order_type=OrderType.MARKET,
        **kw,
    )


async def test_start_is_healthy_and_reports_the_link(gateway):
    """After start the link is healthy and the listener heard so."""
    gw, listener = gateway
    assert gw.stats.healthy
    assert listener.links == [(True, "")]
    assert "bybitGatewaySecret1" not in repr(gw)
    assert KEY not in repr(gw)


async def test_a_crossing_order_is_acked_then_filled(gateway, venue):
    """A buy through two levels: ACCEPTED first, then one taker fill per level, exact."""
    gw, listener = gateway
    _, asks, _ = venue.true_book("BTCUSDT")
    lots = asks[0][1] + 7
    gw.submit(limit("x-1", Side.BUY, asks[1][0], lots))
    await until(lambda: sum(f.size for f in listener.fills("x-1")) == lots, "both fills")
    assert listener.kinds("x-1")[:2] == ["accepted", "fill"]
    fills = listener.fills("x-1")
    assert [(f.price, f.size) for f in fills] == [(asks[0][0], asks[0][1]), (asks[1][0], 7)]
    assert all(f.liquidity == "taker" and f.fee > 0 and f.venue == NAME for f in fills)
    ack = listener.last("x-1", K.ACCEPTED)
    assert ack.venue_order_id
    assert ack.venue == NAME
    assert all(f.venue_order_id == ack.venue_order_id for f in fills)
    assert gw.tracker.get("x-1").done


async def test_a_resting_order_fills_as_maker_when_the_market_trades_through(gateway, venue):
    """A resting bid is acked, then filled as maker when a public sweep trades through it."""
    gw, listener = gateway
    bids, _, _ = venue.true_book("BTCUSDT")
    gw.submit(limit("m-1", Side.BUY, bids[1][0], 100))
    await until(lambda: listener.kinds("m-1") == ["accepted"], "the ack")
    venue.market_order("BTCUSDT", Side.SELL, bids[0][1] + bids[1][1] + bids[2][1])
    await until(lambda: listener.fills("m-1"), "the maker fill")
    (fill,) = listener.fills("m-1")
    assert (fill.liquidity, fill.price, fill.size) == ("maker", bids[1][0], 100)


async def test_post_only_that_would_take_expires_with_bybits_reason(gateway, venue):
    """A crossing post-only order is acked and then ended by the venue, never filled."""
    gw, listener = gateway
    _, asks, _ = venue.true_book("BTCUSDT")
    gw.submit(limit("po-1", Side.BUY, asks[0][0], 100, time_in_force=TimeInForce.POST_ONLY))
    await until(lambda: "expired" in listener.kinds("po-1"), "the expiry")
    assert listener.kinds("po-1") == ["accepted", "expired"]
    assert listener.last("po-1", K.EXPIRED).reason == "EC_PostOnlyWillTakeLiquidity"
    assert listener.fills("po-1") == []


async def test_reduce_only_needs_a_position_then_closes_it(gateway, venue):
    """Reduce-only with no position is rejected 110017; after a buy it closes the position."""
    gw, listener = gateway
    gw.submit(market("ro-1", Side.SELL, 200, reduce_only=True))
    await until(lambda: "rejected" in listener.kinds("ro-1"), "the reject")
    rejected = listener.last("ro-1", K.REJECTED)
    assert rejected.code == 110017
    assert "reduce-only" in rejected.reason
    gw.submit(market("ro-2", Side.BUY, 200))
    await until(lambda: sum(f.size for f in listener.fills("ro-2")) == 200, "the buy")
    assert await gw.positions() == [VenuePosition(instrument=0, net_lots=200)]
    gw.submit(market("ro-3", Side.SELL, 500, reduce_only=True))
    await until(lambda: sum(f.size for f in listener.fills("ro-3")) == 200, "the close")
    assert await gw.positions() == [VenuePosition(instrument=0, net_lots=0)]
    await until(lambda: gw.last_positions.get(0) == 0, "the position push")


async def test_amend_changes_price_and_size_keeping_the_order(gateway, venue):
    """A replace is Bybit's amend: REPLACED with the new price and size, the same venue id."""
    gw, listener = gateway
    bids, _, _ = venue.true_book("BTCUSDT")
    gw.submit(limit("am-1", Side.BUY, bids[0][0] - 10, 100))
    await until(lambda: listener.kinds("am-1") == ["accepted"], "the ack")
    venue_id = listener.last("am-1", K.ACCEPTED).venue_order_id
    gw.replace(
        ReplaceOrder(
            client_order_id="am-1", instrument=0, price_ticks=bids[0][0] - 20, size_lots=300
        )
    )
    await until(lambda: "replaced" in listener.kinds("am-1"), "the amend")
    replaced = listener.last("am-1", K.REPLACED)
    assert (replaced.price_ticks, replaced.size_lots) == (bids[0][0] - 20, 300)
    (order,) = await gw.open_orders()
    assert (order.venue_order_id, order.price_ticks, order.size_lots) == (
        venue_id,
        bids[0][0] - 20,
        300,
    )
    gw.replace(
        ReplaceOrder(
            client_order_id="am-1", instrument=0, price_ticks=bids[0][0] - 20, size_lots=300
        )
    )
    await until(lambda: "replace_rejected" in listener.kinds("am-1"), "the local refusal")
    assert "neither price nor size" in listener.last("am-1", K.REPLACE_REJECTED).reason


async def test_cancel_is_reported_by_the_stream(gateway, venue):
    """A cancel ends CANCELED once the private stream says Cancelled."""
    gw, listener = gateway
    bids, _, _ = venue.true_book("BTCUSDT")
    gw.submit(limit("c-1", Side.BUY, bids[0][0] - 10, 100))
    await until(lambda: listener.kinds("c-1") == ["accepted"], "the ack")
    gw.cancel(CancelOrder(client_order_id="c-1", instrument=0))
    await until(lambda: "canceled" in listener.kinds("c-1"), "the cancel")
    assert listener.kinds("c-1") == ["accepted", "canceled"]
    assert await gw.open_orders() == []
    gw.cancel(CancelOrder(client_order_id="c-1", instrument=0))
    await until(lambda: "cancel_rejected" in listener.kinds("c-1"), "the refused cancel")
    refused = listener.last("c-1", K.CANCEL_REJECTED)
    assert (refused.code, refused.reason) == (110001, "order not exists or too late to cancel")


async def test_cancel_all_cancels_everything_and_reports_each(gateway, venue):
    """cancel_all waits for the venue and reports every order it cancelled."""
    gw, listener = gateway
    bids, _, _ = venue.true_book("BTCUSDT")
    for n in range(3):
        gw.submit(limit(f"ca-{n}", Side.BUY, bids[0][0] - 10 - n, 100))
    await until(lambda: all(listener.kinds(f"ca-{n}") for n in range(3)), "the acks")
    await gw.cancel_all()
    for n in range(3):
        assert listener.kinds(f"ca-{n}") == ["accepted", "canceled"]
    assert await gw.open_orders() == []
    await gw.cancel_all(0)  # nothing left: fine


async def test_rejects_carry_the_venues_ret_code_and_ret_msg(gateway, venue):
    """Orders the venue refuses are REJECTED with its retCode and retMsg."""
    gw, listener = gateway
    bids, _, _ = venue.true_book("BTCUSDT")
    gw.submit(limit("r-1", Side.BUY, bids[0][0] - 10, 1))  # 0.00001 BTC: below 5 USDT
    gw.submit(limit("r-2", Side.BUY, bids[0][0] - 10, 100))
    await until(lambda: listener.kinds("r-1") and listener.kinds("r-2"), "both answers")
    gw.submit(limit("r-2", Side.BUY, bids[0][0] - 11, 100))  # the same orderLinkId again
    await until(lambda: "rejected" in listener.kinds("r-2"), "the duplicate's reject")
    small = listener.last("r-1", K.REJECTED)
    assert small.code == 110094
    assert "minimum order value" in small.reason
    duplicate = listener.last("r-2", K.REJECTED)
    assert (duplicate.code, duplicate.reason) == (110072, "OrderLinkedID is duplicate")
    assert gw.stats.rejects >= 2


async def test_local_refusals_never_reach_the_venue(gateway):
    """Orders for unknown instruments or with unusable ids are refused here, code 0."""
    gw, listener = gateway
    before = gw.stats.requests
    gw.submit(limit("bad id", Side.BUY, 100, 100))
    gw.submit(
        SubmitOrder(client_order_id="u-1", instrument=9, side=Side.BUY, size_lots=1, price_ticks=1)
    )
    assert listener.last("bad id", K.REJECTED).code == 0
    assert "not traded" in listener.last("u-1", K.REJECTED).reason
    assert gw.stats.requests == before


async def test_a_rate_limit_answer_rejects_the_order_and_a_cancel_goes_again(gateway, venue):
    """10006 rejects a new order with the venue's words; a rate-limited cancel is sent again."""
    gw, listener = gateway
    bids, _, _ = venue.true_book("BTCUSDT")
    venue.faults.trading.order_rate_limit_next(retry_after_s=1)
    gw.submit(limit("rl-1", Side.BUY, bids[0][0] - 10, 100))
    await until(lambda: listener.kinds("rl-1"), "the answer")
    limited = listener.last("rl-1", K.REJECTED)
    assert (limited.code, limited.reason) == (10006, "Too many visits!")
    gw.submit(limit("rl-2", Side.BUY, bids[0][0] - 10, 100))
    await until(lambda: listener.kinds("rl-2") == ["accepted"], "the next order")
    venue.faults.trading.order_rate_limit_next(retry_after_s=1)
    gw.cancel(CancelOrder(client_order_id="rl-2", instrument=0))
    await until(lambda: "canceled" in listener.kinds("rl-2"), "the cancel sent again")
    assert "cancel_rejected" not in listener.kinds("rl-2")
    names = {r.name for r in gw.stats.rate}
    assert {"IP_5S", "ORDER_CREATE", "ORDER_CANCEL"} <= names


async def test_a_dropped_private_stream_reconnects_and_turns_healthy(gateway, venue):
    """When the stream drops the link goes bad, then healthy again after a new subscription."""
    gw, listener = gateway
    assert venue.bybit.drop_private_streams() == 1
    await until(lambda: len(listener.links) >= 3, "down and up again")
    assert listener.links[1][0] is False
    assert listener.links[2] == (True, "")
    assert gw.stats.healthy
    bids, _, _ = venue.true_book("BTCUSDT")
    gw.submit(limit("rc-1", Side.BUY, bids[0][0] - 10, 100))
    gw.cancel(CancelOrder(client_order_id="rc-1", instrument=0))
    await until(lambda: "canceled" in listener.kinds("rc-1"), "the stream after reconnect")


async def test_orders_are_refused_while_the_link_is_down(gateway, venue):
    """While the stream is down new orders are refused here, saying why."""
    gw, listener = gateway
    gw.set_health(False, "private stream lost: test")
    gw.submit(limit("dn-1", Side.BUY, 100, 100))
    assert "order link down" in listener.last("dn-1", K.REJECTED).reason


async def test_garbage_on_the_stream_marks_the_link_bad_until_it_reconnects(gateway, venue):
    """A malformed push makes the link bad; a new subscription makes it healthy again."""
    gw, listener = gateway
    bids, _, _ = venue.true_book("BTCUSDT")
    venue.faults.trading.malformed_user_stream_next()
    gw.submit(limit("g-1", Side.BUY, bids[0][0] - 10, 100))
    await until(lambda: len(listener.links) >= 3, "bad then healthy")
    assert listener.links[1][0] is False
    assert "garbage" in listener.links[1][1]
    assert listener.links[-1] == (True, "")
    await until(lambda: listener.kinds("g-1"), "the ack")


async def test_an_unknown_create_is_looked_up_not_resent(gateway, venue):
    """A 10016 answer after the order was placed: looked up by orderLinkId, then ACCEPTED."""
    gw, listener = gateway
    bids, _, _ = venue.true_book("BTCUSDT")
    venue.faults.trading.status_unknown_next(placed=True)
    gw.submit(limit("su-1", Side.BUY, bids[0][0] - 10, 100))
    await until(lambda: "accepted" in listener.kinds("su-1"), "the look-up")
    (order,) = await gw.open_orders()
    assert order.client_order_id == "su-1"
    venue.faults.trading.status_unknown_next(placed=False)
    gw.submit(limit("su-2", Side.BUY, bids[0][0] - 10, 100))
    await until(lambda: "rejected" in listener.kinds("su-2"), "the look-up finding nothing")
    assert listener.last("su-2", K.REJECTED).code == 10016


async def test_a_garbage_rest_answer_reconnects_and_looks_the_order_up(gateway, venue):
    """A create answered with garbage is looked up; the link is bad until the stream is back."""
    gw, listener = gateway
    bids, _, _ = venue.true_book("BTCUSDT")
    venue.faults.trading.garbage_rest_next()
    gw.submit(limit("gr-1", Side.BUY, bids[0][0] - 10, 100))
    await until(lambda: "accepted" in listener.kinds("gr-1"), "the look-up")
    await until(lambda: listener.links[-1] == (True, ""), "healthy again")
    assert any(not healthy and "garbage" in why for healthy, why in listener.links)


async def test_a_wrong_secret_fails_start_with_auth_error(venue):
    """A gateway with the wrong secret cannot authenticate the private stream: AuthError."""
    listener = Recorder()
    gw = make_gateway(venue, listener, secret="not-the-secret")
    with pytest.raises(AuthError, match="auth refused"):
        await gw.start()
    assert not gw.stats.healthy


class ShiftedClock(LiveClock):
    """The machine's clock moved by ``shift_ns`` (a host whose clock is off)."""

    def __init__(self, shift_ns: int) -> None:
        self.shift_ns = shift_ns

    def time_ns(self) -> int:
        """Wall time, shifted."""
        return super().time_ns() + self.shift_ns


async def test_a_refused_timestamp_resyncs_the_clock_and_sends_once_more(venue):
    """After the host's clock jumps, 10002 resyncs the offset and the order goes through."""
    clock = ShiftedClock(-30 * 10**9)
    listener = Recorder()
    gw = make_gateway(venue, listener, clock=clock)
    await gw.start()
    try:
        clock.shift_ns = -60 * 10**9  # the clock jumps back after the offset was measured
        bids, _, _ = venue.true_book("BTCUSDT")
        gw.submit(limit("ts-1", Side.BUY, bids[0][0] - 10, 100))
        await until(lambda: listener.kinds("ts-1"), "the answer")
        assert listener.kinds("ts-1") == ["accepted"]
        assert gw.clock_offset.syncs == 2  # start, then one burst for the refusal
    finally:
        await gw.stop()


async def test_wallet_and_positions(gateway, venue):
    """The wallet lists USDT exactly; positions list every instrument traded."""
    gw, _ = gateway
    coins = {c.coin: c for c in await gw.wallet(("USDT",))}
    assert coins["USDT"].wallet_balance == 1_000_000
    assert await gw.positions() == [VenuePosition(instrument=0, net_lots=0)]


def test_credentials_come_from_the_named_variables():
    """Key and secret are read from the variables named; an unset one is named, not shown."""
    env = {"MY_KEY": "k", "MY_SECRET": "s"}
    assert credentials_from_env("MY_KEY", "MY_SECRET", env) == ("k", "s")
    with pytest.raises(AuthError, match="MY_SECRET"):
        credentials_from_env("MY_KEY", "MY_SECRET", {"MY_KEY": "k"})

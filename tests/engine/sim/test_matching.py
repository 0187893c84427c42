import random
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.commands import (
    CancelAll,
    CancelOrder,
    OrderType,
    ReplaceOrder,
    SubmitOrder,
    TimeInForce,
)
from engine.core.events import (
    BookDelta,
    BookSnapshot,
    Fill,
    Int64Array,
    OrderUpdate,
    OrderUpdateKind,
    Side,
)
from engine.core.instruments import Instrument
from engine.oms.order import Order, OrderEventKind, OrderStatus
from engine.sim.fees import FeeSchedule
from engine.sim.matching import (
    DUPLICATE_ORDER,
    POST_ONLY_WOULD_TAKE,
    REDUCE_ONLY_REFUSED,
    SELF_TRADE,
    UNKNOWN_ORDER,
    MarketDataError,
    MatchingCore,
    OrderView,
    Report,
    StpMode,
)
from engine.sim.queue import PowerProbQueue
from tests.strategies import LevelReport, TradePrint, sim_scripts

K = OrderUpdateKind
BUY, SELL = Side.BUY, Side.SELL
INSTRUMENT = Instrument(
    venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001", min_notional="5"
)


def arr(*values: int) -> Int64Array:
    """An int64 array, as the feed hands the core."""
    return np.array(values, dtype=np.int64)


def book(**kwargs: Any) -> MatchingCore:
    """A core over bids 100/99/98 (5 lots each) and asks 101/102/103 (3, 4, 5 lots)."""
    core = MatchingCore(INSTRUMENT, **kwargs)
    core.on_snapshot(arr(100, 99, 98), arr(5, 5, 5), arr(101, 102, 103), arr(3, 4, 5), 1)
    return core


def order(cid: str, side: Side, size: int, price: int = 0, **kwargs: Any) -> SubmitOrder:
    """A limit order, or a market order when no price is given."""
    kind = OrderType.MARKET if price == 0 else OrderType.LIMIT
    return SubmitOrder(
        client_order_id=cid,
        instrument=0,
        side=side,
        size_lots=size,
        price_ticks=price,
        order_type=kind,
        **kwargs,
    )


def kinds(reports: list[Report]) -> list[object]:
    """Reports as update kinds and ``("fill", price, size)`` tuples."""
    return [r.kind if isinstance(r, OrderUpdate) else ("fill", r.price, r.size) for r in reports]


def upd(report: Report) -> OrderUpdate:
    """The report, which must be an order update."""
    assert isinstance(report, OrderUpdate), report
    return report


def view_of(core: MatchingCore, cid: str) -> OrderView:
    """The core's view of an order it must know."""
    seen = core.order(cid)
    assert seen is not None, cid
    return seen


def fills(reports: list[Report]) -> list[Fill]:
    """Only the fills."""
    return [r for r in reports if isinstance(r, Fill)]


# ------------------------------------------------------------------ order types


def test_limit_that_crosses_takes_across_levels_then_rests_the_remainder():
    """A GTC buy through two ask levels fills each at its own price, then rests the rest."""
    core = book()
    out = core.submit(order("a", BUY, 10, 102), 5)
    assert kinds(out) == [K.ACCEPTED, ("fill", 101, 3), ("fill", 102, 4)]
    assert all(f.liquidity == "taker" for f in fills(out))
    view = core.order("a")
    assert view is not None
    assert (view.filled, view.leaves, view.status) == (7, 3, OrderStatus.PARTIALLY_FILLED)
    assert core.position_lots == 7


def test_market_order_sweeps_and_expires_what_the_book_cannot_fill():
    """A market buy larger than the whole ask side fills every level and expires the rest."""
    core = book()
    out = core.submit(order("m", BUY, 20), 5)
    assert kinds(out) == [
        K.ACCEPTED,
        ("fill", 101, 3),
        ("fill", 102, 4),
        ("fill", 103, 5),
        K.EXPIRED,
    ]
    assert upd(out[-1]).filled_lots == 12


def test_ioc_fills_what_it_can_and_expires_the_rest():
    """An IOC limit fills up to its price and expires instead of resting."""
    core = book()
    out = core.submit(order("i", BUY, 5, 101, time_in_force=TimeInForce.IOC), 5)
    assert kinds(out) == [K.ACCEPTED, ("fill", 101, 3), K.EXPIRED]
    assert core.open_orders() == []


def test_fok_fills_everything_at_once():
    """A FOK that the book can fill completely fills across levels."""
    core = book()
    out = core.submit(order("f", BUY, 7, 102, time_in_force=TimeInForce.FOK), 5)
    assert kinds(out) == [K.ACCEPTED, ("fill", 101, 3), ("fill", 102, 4)]
    assert view_of(core, "f").status is OrderStatus.FILLED


def test_fok_that_cannot_fill_completely_expires_with_no_fill():
    """A FOK larger than the liquidity up to its price expires and takes nothing."""
    core = book()
    out = core.submit(order("f", BUY, 8, 102, time_in_force=TimeInForce.FOK), 5)
    assert kinds(out) == [K.ACCEPTED, K.EXPIRED]
    assert core.position_lots == 0
    assert kinds(core.submit(order("g", BUY, 3, 101, time_in_force=TimeInForce.IOC), 6))[1] == (
        "fill",
        101,
        3,
    )


def test_post_only_that_would_take_is_rejected_with_binance_text():
    """A post-only buy at the best ask is refused with Binance's reason."""
    core = book()
    out = core.submit(order("p", BUY, 1, 101, time_in_force=TimeInForce.POST_ONLY), 5)
    assert kinds(out) == [K.REJECTED]
    assert upd(out[0]).reason == POST_ONLY_WOULD_TAKE


def test_post_only_that_would_not_take_rests_behind_the_visible_size():
    """A post-only order that would not take rests behind the size shown at its price."""
    core = book()
    out = core.submit(order("p", BUY, 1, 100, time_in_force=TimeInForce.POST_ONLY), 5)
    assert kinds(out) == [K.ACCEPTED]
    assert view_of(core, "p").ahead == 5
    core.submit(order("q", SELL, 1, 101, time_in_force=TimeInForce.POST_ONLY), 6)
    assert view_of(core, "q").ahead == 3


def test_accepted_comes_before_any_fill_and_ids_count_up():
    """Each accepted order gets the next venue order id and each fill the next trade id."""
    core = book()
    first = core.submit(order("a", BUY, 4, 102), 5)
    second = core.submit(order("b", SELL, 2, 99), 6)
    assert upd(first[0]).kind is K.ACCEPTED
    assert upd(first[0]).venue_order_id == "1"
    assert upd(second[0]).kind is K.ACCEPTED
    assert upd(second[0]).venue_order_id == "2"
    assert [f.trade_id for f in fills(first + second)] == ["1", "2", "3"]


# ------------------------------------------------------------------ refusals


def test_duplicate_client_order_id_of_an_open_order_is_rejected():
    """A second order with the id of an open one is refused with Binance's text."""
    core = book()
    core.submit(order("a", BUY, 1, 90), 5)
    out = core.submit(order("a", BUY, 1, 91), 6)
    assert kinds(out) == [K.REJECTED]
    assert upd(out[0]).reason == DUPLICATE_ORDER
    assert view_of(core, "a").price == 90


def test_unknown_ids_get_binance_text_on_cancel_and_replace():
    """Cancel and replace of an order the core does not hold are refused as unknown."""
    core = book()
    cancel = core.cancel(CancelOrder(client_order_id="nope", instrument=0), 5)
    replace = core.replace(
        ReplaceOrder(client_order_id="nope", instrument=0, price_ticks=90, size_lots=1), 5
    )
    assert kinds(cancel) == [K.CANCEL_REJECTED]
    assert kinds(replace) == [K.REPLACE_REJECTED]
    assert upd(cancel[0]).reason == upd(replace[0]).reason == UNKNOWN_ORDER


def test_impossible_orders_are_rejected_with_a_reason_naming_the_problem():
    """Zero size, a non-positive limit and a foreign instrument are refused, not raised."""
    core = book()
    zero = core.submit(order("a", BUY, 0, 90), 5)
    bad_price = core.submit(order("b", BUY, 1, -3), 5)
    foreign = core.submit(
        SubmitOrder(client_order_id="c", instrument=7, side=BUY, size_lots=1, price_ticks=90), 5
    )
    assert upd(zero[0]).kind is K.REJECTED
    assert "0 lots" in upd(zero[0]).reason
    assert upd(bad_price[0]).kind is K.REJECTED
    assert "-3 ticks" in upd(bad_price[0]).reason
    assert upd(foreign[0]).kind is K.REJECTED
    assert "instrument 7" in upd(foreign[0]).reason
    assert core.open_orders() == []


def test_bad_market_data_raises_a_clear_error():
    """A negative size or mismatched arrays raise MarketDataError naming the instrument."""
    core = book()
    with pytest.raises(MarketDataError, match="sim:BTCUSDT"):
        core.on_level(BUY, 100, -1, 5)
    with pytest.raises(MarketDataError, match="2 prices but 1 sizes"):
        core.on_delta(arr(1, 2), arr(1), arr(), arr(), 5)


# ------------------------------------------------------------------ queue and resting fills


def test_three_partial_fills_then_filled_by_trades_at_our_price():
    """Trades at our bid eat the size ahead, then fill us in three partials and a last fill."""
    core = book()
    core.submit(order("a", BUY, 4, 100), 5)
    assert view_of(core, "a").ahead == 5
    assert fills(core.on_trade(100, 5, SELL, 6)) == []
    steps = [core.on_trade(100, lots, SELL, 7 + n) for n, lots in enumerate((1, 1, 1, 1))]
    assert [kinds(s) for s in steps] == [[("fill", 100, 1)]] * 4
    assert view_of(core, "a").status is OrderStatus.FILLED
    assert all(f.liquidity == "maker" for s in steps for f in fills(s))


def test_trade_excess_beyond_the_queue_fills_us():
    """A trade larger than the size ahead fills the excess, up to our leaves."""
    core = book()
    core.submit(order("a", BUY, 4, 100), 5)
    out = core.on_trade(100, 7, SELL, 6)
    assert kinds(out) == [("fill", 100, 2)]
    assert view_of(core, "a").leaves == 2


def test_trade_through_our_price_fills_all_leaves():
    """A sell trade below our bid fills everything we have there at our price."""
    core = book()
    core.submit(order("a", BUY, 4, 100), 5)
    out = core.on_trade(99, 1, SELL, 6)
    assert kinds(out) == [("fill", 100, 4)]


def test_buy_trade_does_not_touch_our_bids():
    """A trade whose aggressor is on our side cannot fill our resting order."""
    core = book()
    core.submit(order("a", BUY, 4, 100), 5)
    assert core.on_trade(100, 50, BUY, 6) == []


def test_opposite_best_crossing_our_price_fills_all_at_our_price():
    """An ask reported at or below our bid fills us completely at our own price."""
    core = book()
    core.submit(order("a", BUY, 4, 100), 5)
    out = core.on_level(SELL, 100, 2, 6)
    assert kinds(out) == [("fill", 100, 4)]
    assert fills(out)[0].liquidity == "maker"


def test_conservative_queue_ignores_cancels_unless_the_level_gets_shorter_than_ahead():
    """Under the conservative model a size decrease only caps the queue at the new size."""
    core = book()
    core.submit(order("a", BUY, 1, 100), 5)
    core.on_level(BUY, 100, 8, 6)  # joins behind us
    assert view_of(core, "a").ahead == 5
    core.on_level(BUY, 100, 6, 7)  # two lots canceled, behind us
    assert view_of(core, "a").ahead == 5
    core.on_level(BUY, 100, 3, 8)
    assert view_of(core, "a").ahead == 3


def test_power_queue_moves_us_up_on_cancels_in_proportion():
    """Under PowerProbQueue(1) a cancel is split by the lots ahead and behind, rounded down."""
    core = book(queue=PowerProbQueue(1))
    core.submit(order("a", BUY, 1, 100), 5)
    core.on_level(BUY, 100, 10, 6)  # 5 ahead, 5 behind
    core.on_level(BUY, 100, 6, 7)  # 4 canceled: 2 ahead of us
    assert view_of(core, "a").ahead == 3


def test_power_queue_does_not_count_a_trade_twice():
    """A decrease explained by a trade since the last report moves the queue only once."""
    core = book(queue=PowerProbQueue(1))
    core.submit(order("a", BUY, 1, 100), 5)
    core.on_level(BUY, 100, 10, 6)
    core.on_trade(100, 2, SELL, 7)
    assert view_of(core, "a").ahead == 3
    core.on_level(BUY, 100, 8, 8)
    assert view_of(core, "a").ahead == 3


# ------------------------------------------------------------------ no double-dipping


def test_taken_liquidity_is_not_taken_again_until_the_feed_reports_the_level():
    """After we take a level, the same lots are gone until the next report of that level."""
    core = book()
    core.submit(order("a", BUY, 3, 101, time_in_force=TimeInForce.IOC), 5)
    out = core.submit(order("b", BUY, 3, 101, time_in_force=TimeInForce.IOC), 6)
    assert kinds(out) == [K.ACCEPTED, K.EXPIRED]
    core.on_level(SELL, 101, 2, 7)
    out = core.submit(order("c", BUY, 3, 101, time_in_force=TimeInForce.IOC), 8)
    assert kinds(out) == [K.ACCEPTED, ("fill", 101, 2), K.EXPIRED]


def test_resting_remainder_is_not_filled_by_levels_it_already_took():
    """A crossing GTC's remainder does not trade with the taken levels still in the mirror."""
    core = book()
    core.submit(order("a", BUY, 5, 101), 5)
    assert view_of(core, "a").leaves == 2
    assert core.on_level(SELL, 102, 4, 6) == []
    assert kinds(core.on_level(SELL, 101, 1, 7)) == [("fill", 101, 2)]


# ------------------------------------------------------------------ cancel and replace


def test_cancel_reports_filled_lots_and_a_second_cancel_is_unknown():
    """Canceling a part-filled order reports its fills; canceling it again is refused."""
    core = book()
    core.submit(order("a", BUY, 10, 101), 5)
    out = core.cancel(CancelOrder(client_order_id="a", instrument=0), 6)
    assert kinds(out) == [K.CANCELED]
    assert upd(out[0]).filled_lots == 3
    again = core.cancel(CancelOrder(client_order_id="a", instrument=0), 7)
    assert upd(again[0]).kind is K.CANCEL_REJECTED


def test_cancel_all_cancels_every_open_order():
    """Cancel-all ends every open order of the instrument, oldest first."""
    core = book()
    core.submit(order("a", BUY, 1, 90), 5)
    core.submit(order("b", SELL, 1, 110), 5)
    out = core.cancel_all(CancelAll(), 6)
    assert [(r.client_order_id, upd(r).kind) for r in out] == [
        ("a", K.CANCELED),
        ("b", K.CANCELED),
    ]
    assert core.cancel_all(CancelAll(instrument=3), 7) == []


def test_replace_smaller_at_the_same_price_keeps_the_queue_position():
    """Lowering the size at the same price keeps the lots ahead of us."""
    core = book()
    core.submit(order("a", BUY, 4, 100), 5)
    core.on_trade(100, 3, SELL, 6)
    out = core.replace(
        ReplaceOrder(client_order_id="a", instrument=0, price_ticks=100, size_lots=2), 7
    )
    assert kinds(out) == [K.REPLACED]
    assert (upd(out[0]).size_lots, view_of(core, "a").ahead) == (2, 2)


def test_replace_larger_loses_priority():
    """Raising the size re-enters at the back of the level."""
    core = book()
    core.submit(order("a", BUY, 4, 100), 5)
    core.on_trade(100, 3, SELL, 6)
    core.replace(ReplaceOrder(client_order_id="a", instrument=0, price_ticks=100, size_lots=6), 7)
    assert view_of(core, "a").ahead == 5


def test_replace_to_a_crossing_price_takes():
    """A replace that moves the bid through the ask takes liquidity after REPLACED."""
    core = book()
    core.submit(order("a", BUY, 4, 100), 5)
    out = core.replace(
        ReplaceOrder(client_order_id="a", instrument=0, price_ticks=101, size_lots=4), 6
    )
    assert kinds(out) == [K.REPLACED, ("fill", 101, 3)]
    assert view_of(core, "a").leaves == 1


def test_replace_to_no_more_than_filled_is_rejected():
    """A new size at or below the lots already filled is refused and the order works on."""
    core = book()
    core.submit(order("a", BUY, 5, 101), 5)
    out = core.replace(
        ReplaceOrder(client_order_id="a", instrument=0, price_ticks=101, size_lots=3), 6
    )
    assert kinds(out) == [K.REPLACE_REJECTED]
    assert view_of(core, "a").leaves == 2


# ------------------------------------------------------------------ self-trade prevention


def _own_ask(stp: StpMode) -> MatchingCore:
    core = book(stp=stp)
    core.submit(order("ask", SELL, 2, 102), 5)
    return core


def test_stp_expire_taker_expires_the_incoming_order_at_our_price():
    """EXPIRE_TAKER fills better public levels, then expires the taker at our own ask."""
    core = _own_ask(StpMode.EXPIRE_TAKER)
    out = core.submit(order("bid", BUY, 10, 103), 6)
    assert kinds(out) == [K.ACCEPTED, ("fill", 101, 3), K.EXPIRED]
    assert upd(out[-1]).reason == SELF_TRADE
    assert view_of(core, "ask").status is OrderStatus.ACCEPTED


def test_stp_expire_maker_expires_our_resting_order_and_goes_on():
    """EXPIRE_MAKER expires our ask and lets the taker go on through the public book."""
    core = _own_ask(StpMode.EXPIRE_MAKER)
    out = core.submit(order("bid", BUY, 10, 102), 6)
    assert kinds(out) == [
        K.ACCEPTED,
        ("fill", 101, 3),
        K.EXPIRED,
        ("fill", 102, 4),
    ]
    assert upd(out[2]).client_order_id == "ask"
    assert upd(out[2]).reason == SELF_TRADE


def test_stp_expire_both_expires_both_orders():
    """EXPIRE_BOTH expires our resting ask and the incoming bid."""
    core = _own_ask(StpMode.EXPIRE_BOTH)
    out = core.submit(order("bid", BUY, 10, 102), 6)
    assert [(r.client_order_id, r.kind) for r in out if isinstance(r, OrderUpdate)] == [
        ("bid", K.ACCEPTED),
        ("ask", K.EXPIRED),
        ("bid", K.EXPIRED),
    ]


def test_stp_none_trades_with_our_own_order_behind_the_public_size_ahead():
    """With STP off the taker takes the public lots ahead of our ask, then our ask itself."""
    core = _own_ask(StpMode.NONE)
    out = core.submit(order("bid", BUY, 9, 102), 6)
    assert [(f.client_order_id, f.price, f.size, f.liquidity) for f in fills(out)] == [
        ("bid", 101, 3, "taker"),
        ("bid", 102, 4, "taker"),
        ("bid", 102, 2, "taker"),
        ("ask", 102, 2, "maker"),
    ]
    assert core.position_lots == 7


# ------------------------------------------------------------------ reduce-only


def test_reduce_only_that_would_grow_or_flip_is_rejected():
    """Flat, a reduce-only order would open a position; larger than the position it would flip."""
    core = book()
    flat = core.submit(order("a", SELL, 1, 110, reduce_only=True), 5)
    assert upd(flat[0]).reason == REDUCE_ONLY_REFUSED
    core.submit(order("b", BUY, 3, 101), 6)
    assert kinds(core.submit(order("c", SELL, 4, 110, reduce_only=True), 7)) == [K.REJECTED]
    assert kinds(core.submit(order("d", BUY, 1, 90, reduce_only=True), 8)) == [K.REJECTED]
    assert kinds(core.submit(order("e", SELL, 3, 110, reduce_only=True), 9)) == [K.ACCEPTED]


def test_reduce_only_fill_never_exceeds_the_position_and_the_rest_expires():
    """After other fills shrink the position, a reduce-only fill stops at flat; the rest expires."""
    core = book()
    core.submit(order("long", BUY, 3, 101), 5)
    core.submit(order("ro", SELL, 3, 104, reduce_only=True), 6)
    core.submit(order("sell", SELL, 2, 100), 7)  # position 3 -> 1
    out = core.on_trade(105, 1, BUY, 8)
    assert kinds(out) == [("fill", 104, 1), K.EXPIRED]
    assert core.position_lots == 0


# ------------------------------------------------------------------ views, stats, events


def test_stats_count_orders_fills_cancels_and_events():
    """The stats record counts what the core did."""
    core = book()
    core.submit(order("a", BUY, 4, 101), 5)
    core.cancel(CancelOrder(client_order_id="a", instrument=0), 6)
    core.on_trade(100, 1, SELL, 7)
    stats = core.stats
    assert (stats.orders, stats.fills, stats.cancels, stats.events) == (1, 1, 1, 2)


def test_event_helpers_apply_book_events_at_their_exchange_time():
    """BookSnapshot and BookDelta events drive the mirror like the array entry points."""
    core = MatchingCore(INSTRUMENT)
    snap = BookSnapshot(
        instrument=0, update_id=1, bid_px=arr(10), bid_sz=arr(1), ask_px=arr(12), ask_sz=arr(2)
    )
    core.apply_snapshot(snap)
    delta = BookDelta(
        instrument=0,
        first_id=2,
        last_id=2,
        prev_id=-1,
        bid_px=arr(11),
        bid_sz=arr(4),
        ask_px=arr(12),
        ask_sz=arr(0),
        exch_ts=9,
        recv_ts=10,
    )
    core.apply_delta(delta)
    assert (core.best_bid, core.best_ask) == (11, None)


def test_fees_follow_the_schedule_for_maker_and_taker():
    """Taker fills pay the taker rate and maker fills get the maker rebate, in fee units."""
    core = book(fees=FeeSchedule("-0.0001", "0.001"))
    taker = fills(core.submit(order("a", BUY, 3, 101), 5))[0]
    core.submit(order("b", SELL, 20, 110), 6)
    maker = fills(core.on_trade(111, 1, BUY, 7))[0]
    # one tick*lot is 0.01 * 0.00001 = 1e-7 quote = 10 fee units
    assert taker.fee == 4  # 101 * 3 * 10 * 0.001 = 3.03, rounded up
    assert maker.fee == -2  # 110 * 20 * 10 * -0.0001 = -2.2, toward zero


# ------------------------------------------------------------------ the sell side and book events


def test_market_sell_sweeps_bids_best_first():
    """A market sell takes the bids from the highest down, one fill per level."""
    core = book()
    out = core.submit(order("m", SELL, 12), 5)
    assert kinds(out) == [K.ACCEPTED, ("fill", 100, 5), ("fill", 99, 5), ("fill", 98, 2)]
    assert core.position_lots == -12


def test_ask_fills_on_trades_through_and_on_a_crossing_bid():
    """A buy trade above our ask fills it all; a bid reported at our ask fills another."""
    core = book()
    core.submit(order("a", SELL, 2, 104), 5)
    core.submit(order("b", SELL, 3, 106), 5)
    assert kinds(core.on_trade(105, 1, BUY, 6)) == [("fill", 104, 2)]
    assert kinds(core.on_level(BUY, 107, 1, 7)) == [("fill", 106, 3)]


def test_snapshot_caps_queue_positions_and_fills_crossed_orders():
    """A new snapshot shortens our queue to the new level size and fills orders it crosses."""
    core = book()
    core.submit(order("a", BUY, 1, 99), 5)
    core.submit(order("b", SELL, 1, 104), 5)
    out = core.on_snapshot(arr(99, 98), arr(2, 7), arr(103, 104), arr(1, 1), 6)
    assert kinds(out) == []
    assert view_of(core, "a").ahead == 2
    out = core.on_snapshot(arr(105), arr(1), arr(106), arr(1), 7)
    assert [(f.client_order_id, f.price) for f in fills(out)] == [("b", 104)]


def test_delta_applies_bids_then_asks_and_fills_crossed_orders():
    """A delta moving the asks down to our bid fills it at our price."""
    core = book()
    core.submit(order("a", BUY, 2, 100), 5)
    out = core.on_delta(arr(100), arr(9), arr(101, 100), arr(0, 4), 6)
    assert kinds(out) == [("fill", 100, 2)]
    assert (core.best_bid, core.best_ask) == (100, 100)


def test_several_of_our_orders_at_one_price_fill_in_arrival_order():
    """Two of our bids at one price share a trade's excess, the earlier one first."""
    core = book()
    core.submit(order("a", BUY, 2, 100), 5)
    core.on_level(BUY, 100, 8, 6)
    core.submit(order("b", BUY, 2, 100), 7)
    assert (view_of(core, "a").ahead, view_of(core, "b").ahead) == (5, 8)
    out = core.on_trade(100, 9, SELL, 8)
    assert [(f.client_order_id, f.size) for f in fills(out)] == [("a", 2)]
    assert view_of(core, "b").ahead == 1


def test_market_post_only_is_rejected():
    """A post-only order needs a limit price."""
    core = book()
    out = core.submit(order("m", BUY, 1, time_in_force=TimeInForce.POST_ONLY), 5)
    assert kinds(out) == [K.REJECTED]


def test_rejects_carry_the_order_price_and_size():
    """A refused order's update still names the price and size asked for."""
    core = book()
    out = core.submit(order("p", BUY, 3, 101, time_in_force=TimeInForce.POST_ONLY), 5)
    assert (upd(out[0]).price_ticks, upd(out[0]).size_lots, upd(out[0]).venue_order_id) == (
        101,
        3,
        "",
    )


def test_fok_stops_at_our_own_resting_order_under_expire_taker():
    """A FOK that could only fill by trading with our own ask expires without a fill."""
    core = book()
    core.submit(order("ask", SELL, 1, 102), 5)
    out = core.submit(order("f", BUY, 5, 103, time_in_force=TimeInForce.FOK), 6)
    assert kinds(out) == [K.ACCEPTED, K.EXPIRED]
    assert view_of(core, "ask").status is OrderStatus.ACCEPTED


def test_post_only_would_meet_our_own_order_is_rejected():
    """A post-only bid at our own resting ask would take, so it is refused."""
    core = book()
    core.submit(order("ask", SELL, 1, 100 + 2), 5)
    core.on_level(SELL, 101, 0, 6)
    out = core.submit(order("p", BUY, 1, 102, time_in_force=TimeInForce.POST_ONLY), 7)
    assert upd(out[0]).reason == POST_ONLY_WOULD_TAKE


def test_post_only_replace_that_would_take_is_rejected():
    """Re-pricing a post-only order through the ask is refused; it works on unchanged."""
    core = book()
    core.submit(order("p", BUY, 1, 100, time_in_force=TimeInForce.POST_ONLY), 5)
    out = core.replace(
        ReplaceOrder(client_order_id="p", instrument=0, price_ticks=101, size_lots=1), 6
    )
    assert upd(out[0]).kind is K.REPLACE_REJECTED
    assert upd(out[0]).reason == POST_ONLY_WOULD_TAKE
    assert view_of(core, "p").price == 100


def test_reduce_only_replace_beyond_the_position_is_rejected():
    """A reduce-only order cannot be enlarged past the position it reduces."""
    core = book()
    core.submit(order("long", BUY, 3, 101), 5)
    core.submit(order("ro", SELL, 2, 110, reduce_only=True), 6)
    out = core.replace(
        ReplaceOrder(client_order_id="ro", instrument=0, price_ticks=110, size_lots=4), 7
    )
    assert upd(out[0]).reason == REDUCE_ONLY_REFUSED


def test_reduce_only_orders_expire_when_the_position_closes():
    """Once the position is flat, resting reduce-only orders expire."""
    core = book()
    core.submit(order("long", BUY, 3, 101), 5)
    core.submit(order("ro", SELL, 3, 110, reduce_only=True), 6)
    out = core.submit(order("flat", SELL, 3, 100), 7)
    assert kinds(out) == [K.ACCEPTED, ("fill", 100, 3), K.EXPIRED]
    assert upd(out[-1]).client_order_id == "ro"


def test_finished_orders_stay_visible_up_to_the_limit():
    """The core answers for the last ``keep_closed`` finished orders and forgets older ones."""
    core = book(keep_closed=2)
    for n in range(3):
        core.submit(order(f"o{n}", BUY, 1, 90), 5)
        core.cancel(CancelOrder(client_order_id=f"o{n}", instrument=0), 6)
    assert core.order("o0") is None
    assert view_of(core, "o2").status is OrderStatus.CANCELED
    assert view_of(core, "o2").leaves == 0


def test_cancel_for_another_instrument_is_unknown():
    """A cancel naming another instrument does not touch this core's order."""
    core = book()
    core.submit(order("a", BUY, 1, 90), 5)
    out = core.cancel(CancelOrder(client_order_id="a", instrument=5), 6)
    assert upd(out[0]).kind is K.CANCEL_REJECTED
    assert view_of(core, "a").status is OrderStatus.ACCEPTED


def test_handle_dispatches_every_command():
    """``handle`` routes submits, replaces, cancels and cancel-all to their entry points."""
    core = book()
    out = core.handle(order("a", BUY, 2, 90), 5)
    out += core.handle(
        ReplaceOrder(client_order_id="a", instrument=0, price_ticks=90, size_lots=1), 6
    )
    out += core.handle(order("b", BUY, 1, 89), 6)
    out += core.handle(CancelOrder(client_order_id="a", instrument=0), 7)
    out += core.handle(CancelAll(), 8)
    assert kinds(out) == [K.ACCEPTED, K.REPLACED, K.ACCEPTED, K.CANCELED, K.CANCELED]
    assert [upd(r).client_order_id for r in out[-2:]] == ["a", "b"]
    assert core.open_orders() == []


# ------------------------------------------------------------------ properties

E = OrderEventKind
TO_EVENT = {
    K.ACCEPTED: E.ACCEPTED,
    K.REJECTED: E.REJECTED,
    K.CANCELED: E.CANCELED,
    K.CANCEL_REJECTED: E.CANCEL_REJECTED,
    K.REPLACED: E.REPLACED,
    K.REPLACE_REJECTED: E.REPLACE_REJECTED,
    K.EXPIRED: E.EXPIRED,
}
CENTRE = 1_000


def start(stp: StpMode, power: int | None) -> MatchingCore:
    """A core over 4 lots on each of three levels a side around CENTRE."""
    queue = None if power is None else PowerProbQueue(power)
    core = MatchingCore(INSTRUMENT, stp=stp, queue=queue, fees=FeeSchedule("-0.0001", "0.0005"))
    c = CENTRE
    core.on_snapshot(
        arr(c - 1, c - 2, c - 3), arr(4, 4, 4), arr(c + 1, c + 2, c + 3), arr(4, 4, 4), 0
    )
    return core


def step(core: MatchingCore, item: object, ts: int) -> list[Report]:
    """Apply one script item to the core and return its reports."""
    if isinstance(item, SubmitOrder):
        return core.submit(item, ts)
    if isinstance(item, CancelOrder):
        return core.cancel(item, ts)
    if isinstance(item, ReplaceOrder):
        return core.replace(item, ts)
    if isinstance(item, LevelReport):
        return core.on_level(item.side, item.price, item.size, ts)
    assert isinstance(item, TradePrint)
    return core.on_trade(item.price, item.size, item.aggressor, ts)


class Ledger:
    """Our side of the wire: the OMS order state machine fed with every report the core sends."""

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.reduce_only: set[str] = set()
        self.position = 0

    def is_open(self, cid: str) -> bool:
        """Whether the OMS sees ``cid`` as a working order."""
        return cid in self.orders and self.orders[cid].is_open

    def send(self, item: object, ts: int) -> str | None:
        """Record our request before the core answers; returns what the answer may ignore."""
        if isinstance(item, SubmitOrder):
            cid = item.client_order_id
            if self.is_open(cid):
                return "duplicate"
            self.orders[cid] = Order(
                cid,
                "sim",
                0,
                item.side,
                item.size_lots,
                item.price_ticks,
                item.order_type,
                item.time_in_force,
            )
            self.orders[cid].apply(E.SUBMIT, ts)
            if item.reduce_only:
                self.reduce_only.add(cid)
            else:
                self.reduce_only.discard(cid)
        elif isinstance(item, CancelOrder | ReplaceOrder):
            cid = item.client_order_id
            if not self.is_open(cid):
                return "unknown"
            request = E.CANCEL_REQUEST if isinstance(item, CancelOrder) else E.REPLACE_REQUEST
            self.orders[cid].apply(request, ts)
        return None

    def receive(self, report: Report, ts: int, ignorable: str | None) -> None:
        """Apply one report; fills also move our position."""
        if isinstance(report, Fill):
            before = self.position
            self.position += report.size if report.side is BUY else -report.size
            if report.client_order_id in self.reduce_only:
                assert abs(self.position) < abs(before), "a reduce-only fill grew the position"
                assert before * self.position >= 0, "a reduce-only fill flipped the position"
            self.orders[report.client_order_id].apply_fill(report)
            return
        if ignorable == "duplicate" and report.reason == DUPLICATE_ORDER:
            return
        if ignorable == "unknown" and report.reason == UNKNOWN_ORDER:
            return
        self.orders[report.client_order_id].apply(
            TO_EVENT[report.kind],
            ts,
            venue_order_id=report.venue_order_id,
            reason=report.reason,
            price_ticks=report.price_ticks,
            size_lots=report.size_lots,
        )


def check(core: MatchingCore, ledger: Ledger) -> None:
    """Every invariant the core must keep between entry points."""
    views = {v.client_order_id: v for v in core.open_orders()}
    assert set(views) == {cid for cid in ledger.orders if ledger.is_open(cid)}
    for tracked in ledger.orders.values():
        assert tracked.anomalies == [], tracked.anomalies
        assert tracked.filled_lots <= tracked.size_lots
    for cid, view in views.items():
        assert view.leaves + view.filled == view.size
        assert view.leaves > 0
        assert view.filled == ledger.orders[cid].filled_lots
        assert view.size == ledger.orders[cid].size_lots
        assert view.ahead >= 0
    assert core.position_lots == ledger.position
    bids = [v.price for v in views.values() if v.side is BUY]
    asks = [v.price for v in views.values() if v.side is SELL]
    best_ask, best_bid = core.mirror.asks.best_available(), core.mirror.bids.best_available()
    if bids and best_ask is not None:
        assert max(bids) < best_ask, "a resting bid crosses available asks"
    if asks and best_bid is not None:
        assert min(asks) > best_bid, "a resting ask crosses available bids"


@settings(max_examples=150, deadline=None)
@given(
    script=sim_scripts(centre=CENTRE),
    stp=st.sampled_from(list(StpMode)),
    power=st.sampled_from([None, 1, 3]),
)
def test_any_run_keeps_fills_positions_and_order_states_consistent(script, stp, power):
    """No overfill, leaves + filled = size, position = signed fills, reports valid for the OMS."""
    core = start(stp, power)
    ledger = Ledger()
    for ts, item in enumerate(script, start=1):
        ignorable = ledger.send(item, ts)
        reports = step(core, item, ts)
        for report in reports:
            ledger.receive(report, ts, ignorable)
        check(core, ledger)


def random_script(seed: int, steps: int = 400) -> list[object]:
    """A long seeded script of orders and market events, for the determinism check."""
    rng = random.Random(seed)
    script: list[object] = []
    for n in range(steps):
        roll = rng.random()
        price = CENTRE + rng.randint(-5, 5)
        side = rng.choice([BUY, SELL])
        if roll < 0.35:
            tif = rng.choice(list(TimeInForce))
            script.append(order(f"o{n % 9}", side, rng.randint(1, 6), price, time_in_force=tif))
        elif roll < 0.45:
            script.append(CancelOrder(client_order_id=f"o{rng.randint(0, 8)}", instrument=0))
        elif roll < 0.75:
            script.append(LevelReport(side, price, rng.randint(0, 9)))
        else:
            script.append(TradePrint(price, rng.randint(1, 9), side))
    return script


@pytest.mark.parametrize("power", [None, 2])
def test_same_inputs_give_the_same_reports(power):
    """Two cores fed the same script report exactly the same, fill for fill."""
    script = random_script(seed=42)
    runs = []
    for _ in range(2):
        core = start(StpMode.EXPIRE_TAKER, power)
        runs.append([r for ts, item in enumerate(script, 1) for r in step(core, item, ts)])
    assert runs[0] == runs[1]
    assert any(isinstance(r, Fill) for r in runs[0])

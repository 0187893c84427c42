"""The pre-trade checks: one small pure function each, integers only, None when it passes.

Every check takes ``(order, state, limits)`` and returns a :class:`Rejection` naming the check, the
numbers that caused it, the limit and the offending value, or ``None``. Nothing here allocates,
converts text or touches a Decimal unless it rejects: the message is built only then. The
boundaries (at the limit passes, except daily loss) are stated in :mod:`engine.risk.limits`.
:data:`CHECKS` is the order the pipeline runs them in; the first rejection wins.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import msgspec

from engine.core.commands import OrderType, SubmitOrder, TimeInForce
from engine.core.events import Side
from engine.risk.limits import PNL_UNIT, InstrumentLimits


class RejectReason(enum.StrEnum):
    """Which check refused an order."""

    HALTED = "halted"
    UNKNOWN_INSTRUMENT = "unknown_instrument"
    INVALID_ORDER = "invalid_order"
    DAILY_LOSS = "daily_loss"
    DRAWDOWN = "drawdown"
    MARKET_DATA_DOWN = "market_data_down"
    MARKET_DATA_STALE = "market_data_stale"
    ORDER_SIZE = "order_size"
    MIN_NOTIONAL = "min_notional"
    ORDER_NOTIONAL = "order_notional"
    PRICE_BAND = "price_band"
    POSITION = "position"
    OPEN_ORDERS = "open_orders"
    RATE_PER_SECOND = "rate_per_second"
    RATE_PER_MINUTE = "rate_per_minute"


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    """Why an order was refused, with the numbers that decided it."""

    reason: RejectReason
    """The check that refused it."""
    message: str
    """What was wrong, with the value and the limit in trader units."""
    limit: int
    """The limit in the check's integer units (lots, half tick*lots, counts, bps, ns, PnL units)."""
    value: int
    """The order's value in the same units."""


class MarketState(msgspec.Struct, frozen=True, kw_only=True):
    """The market an order is checked against: the top of book and how fresh it is."""

    best_bid: int
    """Best bid in ticks, 0 when the bid side is empty."""
    best_ask: int
    """Best ask in ticks, 0 when the ask side is empty."""
    live: bool
    """True while the book is in sync with the venue; False while resyncing or disconnected."""
    recv_ts: int
    """Wall-clock ns the last book update reached us."""

    @property
    def mid_x2(self) -> int:
        """Best bid + best ask in ticks (twice the mid)."""
        return self.best_bid + self.best_ask


class CheckState:
    """The figures one instrument's checks read: set by the pipeline before each order."""

    __slots__ = (
        "daily_pnl",
        "drawdown",
        "market",
        "now_ns",
        "open_orders",
        "pending_buy_lots",
        "pending_sell_lots",
        "position_lots",
        "sent_last_minute",
        "sent_last_second",
    )

    def __init__(self, market: MarketState) -> None:
        self.market = market
        self.now_ns = 0
        """Wall-clock time of the check, for data age."""
        self.position_lots = 0
        """Net position in lots (positive long)."""
        self.pending_buy_lots = 0
        """Unfilled lots of our working buy orders."""
        self.pending_sell_lots = 0
        """Unfilled lots of our working sell orders."""
        self.open_orders = 0
        """Orders working now, not counting the one checked."""
        self.sent_last_second = 0
        """Orders sent in the sliding second before now, not counting the one checked."""
        self.sent_last_minute = 0
        """Orders sent in the sliding minute before now, not counting the one checked."""
        self.drawdown = 0
        """Drop of net PnL from its peak within the window, in PNL units (>= 0)."""
        self.daily_pnl = 0
        """Net PnL since 00:00 UTC in PNL units, rounded down."""


Check = Callable[[SubmitOrder, CheckState, InstrumentLimits], "Rejection | None"]
"""The shape of every check."""


def _lots(lots: int, limits: InstrumentLimits) -> str:
    return f"{lots * limits.lot_size} ({lots} lots)"


def _notional(x2: int, limits: InstrumentLimits) -> str:
    return f"{x2 * limits.notional_unit}"


def _pnl(units: int) -> str:
    return f"{units * PNL_UNIT}"


def _order_value_x2(order: SubmitOrder, market: MarketState) -> int:
    """Twice the order's value in tick*lots: at its limit price, or at the touch if market."""
    if order.order_type is OrderType.MARKET:
        touch = market.best_ask if order.side is Side.BUY else market.best_bid
        return 2 * touch * order.size_lots
    return 2 * order.price_ticks * order.size_lots


def check_order_valid(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse a size that is not positive, or a limit order without a positive price."""
    if order.size_lots <= 0:
        return Rejection(
            reason=RejectReason.INVALID_ORDER,
            message=f"{limits.key}: size {order.size_lots} lots must be positive",
            limit=1,
            value=order.size_lots,
        )
    if order.order_type is OrderType.LIMIT and order.price_ticks <= 0:
        return Rejection(
            reason=RejectReason.INVALID_ORDER,
            message=f"{limits.key}: limit price {order.price_ticks} ticks must be positive",
            limit=1,
            value=order.price_ticks,
        )
    return None


def check_daily_loss(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse every order once today's PnL is at or below minus the daily loss limit."""
    if state.daily_pnl <= -limits.daily_loss_limit:
        return Rejection(
            reason=RejectReason.DAILY_LOSS,
            message=(
                f"daily PnL {_pnl(state.daily_pnl)} is at or below the loss limit "
                f"-{_pnl(limits.daily_loss_limit)}"
            ),
            limit=-limits.daily_loss_limit,
            value=state.daily_pnl,
        )
    return None


def check_drawdown(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse every order while net PnL is more than the limit below its peak in the window."""
    if state.drawdown > limits.max_drawdown:
        return Rejection(
            reason=RejectReason.DRAWDOWN,
            message=(
                f"drawdown {_pnl(state.drawdown)} from the window's peak exceeds "
                f"{_pnl(limits.max_drawdown)}"
            ),
            limit=limits.max_drawdown,
            value=state.drawdown,
        )
    return None


def check_market_data(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse when the book is not live, one-sided or crossed, or older than the data age limit."""
    market = state.market
    if not market.live or market.best_bid <= 0 or market.best_bid >= market.best_ask:
        return Rejection(
            reason=RejectReason.MARKET_DATA_DOWN,
            message=(
                f"{limits.key}: no live two-sided book (live={market.live}, "
                f"bid {market.best_bid}, ask {market.best_ask} ticks)"
            ),
            limit=1,
            value=int(market.live),
        )
    age = state.now_ns - market.recv_ts
    if age > limits.max_data_age_ns:
        return Rejection(
            reason=RejectReason.MARKET_DATA_STALE,
            message=(
                f"{limits.key}: market data is {age / 1e6:.3f} ms old, "
                f"limit {limits.max_data_age_ns // 1_000_000} ms"
            ),
            limit=limits.max_data_age_ns,
            value=age,
        )
    return None


def check_order_size(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse an order larger than the maximum size (the market-order one for market orders)."""
    market = order.order_type is OrderType.MARKET
    limit = limits.max_market_lots if market else limits.max_lots
    if order.size_lots > limit:
        kind = "market order" if market else "order"
        return Rejection(
            reason=RejectReason.ORDER_SIZE,
            message=(
                f"{limits.key}: {kind} size {_lots(order.size_lots, limits)} exceeds "
                f"{_lots(limit, limits)}"
            ),
            limit=limit,
            value=order.size_lots,
        )
    return None


def check_min_notional(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse an order worth less than the instrument's minimum (market orders at the touch)."""
    value = _order_value_x2(order, state.market)
    if value < limits.min_notional_x2:
        return Rejection(
            reason=RejectReason.MIN_NOTIONAL,
            message=(
                f"{limits.key}: notional {_notional(value, limits)} is below the minimum "
                f"{_notional(limits.min_notional_x2, limits)}"
            ),
            limit=limits.min_notional_x2,
            value=value,
        )
    return None


def check_order_notional(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse an order worth more than the maximum (market orders at the touch, tighter limit)."""
    market = order.order_type is OrderType.MARKET
    limit = limits.max_market_notional_x2 if market else limits.max_notional_x2
    value = _order_value_x2(order, state.market)
    if value > limit:
        kind = "market order" if market else "order"
        return Rejection(
            reason=RejectReason.ORDER_NOTIONAL,
            message=(
                f"{limits.key}: {kind} notional {_notional(value, limits)} exceeds "
                f"{_notional(limit, limits)}"
            ),
            limit=limit,
            value=value,
        )
    return None


def check_price_band(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse a limit price further from mid than the band (the tighter one for post-only)."""
    if order.order_type is OrderType.MARKET:
        return None
    post_only = order.time_in_force is TimeInForce.POST_ONLY
    band = limits.post_only_band_bps if post_only else limits.price_band_bps
    mid_x2 = state.market.mid_x2
    distance_x2 = abs(2 * order.price_ticks - mid_x2)
    if distance_x2 * 10_000 > band * mid_x2:
        bps = -(-distance_x2 * 10_000 // mid_x2)  # rounded up, so it never reads as the limit
        kind = "post-only price" if post_only else "price"
        return Rejection(
            reason=RejectReason.PRICE_BAND,
            message=(
                f"{limits.key}: {kind} {order.price_ticks} ticks is {bps} bps from mid "
                f"{mid_x2 / 2} ticks, band {band} bps"
            ),
            limit=band,
            value=bps,
        )
    return None


def check_position(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse when the position, if this and every pending order on its side filled, is too big."""
    if order.side is Side.BUY:
        worst = state.position_lots + state.pending_buy_lots + order.size_lots
    else:
        worst = state.position_lots - state.pending_sell_lots - order.size_lots
    if abs(worst) > limits.max_position_lots:
        return Rejection(
            reason=RejectReason.POSITION,
            message=(
                f"{limits.key}: worst-case position {worst * limits.lot_size} ({worst} lots: "
                f"net {state.position_lots}, pending buys {state.pending_buy_lots}, "
                f"pending sells {state.pending_sell_lots}, this {order.side.name} "
                f"{order.size_lots}) exceeds {_lots(limits.max_position_lots, limits)}"
            ),
            limit=limits.max_position_lots,
            value=abs(worst),
        )
    return None


def _count_over(
    reason: RejectReason, count: int, limit: int, what: str, limits: InstrumentLimits
) -> Rejection | None:
    """A rejection when ``count`` (this order included) is above ``limit``; at the limit passes."""
    if count <= limit:
        return None
    return Rejection(
        reason=reason,
        message=f"{limits.key}: {count} {what} with this one exceeds {limit}",
        limit=limit,
        value=count,
    )


def check_open_orders(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse when this order would make more open orders than the limit."""
    if state.open_orders < limits.max_open_orders:
        return None  # the usual case, without the call that builds a refusal
    return _count_over(
        RejectReason.OPEN_ORDERS,
        state.open_orders + 1,
        limits.max_open_orders,
        "open orders",
        limits,
    )


def check_rate_per_second(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse when this order would make more orders in the sliding second than the limit."""
    if state.sent_last_second < limits.max_orders_per_second:
        return None
    return _count_over(
        RejectReason.RATE_PER_SECOND,
        state.sent_last_second + 1,
        limits.max_orders_per_second,
        "orders in the last second",
        limits,
    )


def check_rate_per_minute(
    order: SubmitOrder, state: CheckState, limits: InstrumentLimits
) -> Rejection | None:
    """Refuse when this order would make more orders in the sliding minute than the limit."""
    if state.sent_last_minute < limits.max_orders_per_minute:
        return None
    return _count_over(
        RejectReason.RATE_PER_MINUTE,
        state.sent_last_minute + 1,
        limits.max_orders_per_minute,
        "orders in the last minute",
        limits,
    )


CHECKS: tuple[Check, ...] = (
    check_order_valid,
    check_daily_loss,
    check_drawdown,
    check_market_data,
    check_order_size,
    check_min_notional,
    check_order_notional,
    check_price_band,
    check_position,
    check_open_orders,
    check_rate_per_second,
    check_rate_per_minute,
)
"""Every check, in the order the pipeline runs them: the account, the data, then the order."""

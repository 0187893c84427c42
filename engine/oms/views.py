"""Orders, positions and PnL as JSON-ready documents with exact decimal text (control plane, CLI).

Integers leave the engine here as the venue would write them: prices on the tick grid, sizes on
the lot grid, money as exact decimals; no float is ever produced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from engine.core.commands import OrderType, SubmitOrder, TimeInForce
from engine.core.events import Alert, Side
from engine.core.instruments import Instrument
from engine.errors import InstrumentError
from engine.ipc.protocol import AlertRow, OrderRow, PositionRow, RateRow, TradingView
from engine.oms.order import Order, validate_order
from engine.oms.positions import PortfolioView
from engine.venues.base import GatewayStats


def _money(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def order_doc(order: Order, instrument: Instrument) -> dict[str, Any]:
    """One order with exact price and size text."""
    prices, sizes = instrument.price_grid(), instrument.size_grid()
    avg = order.avg_price
    return {
        "client_order_id": order.client_order_id,
        "venue_order_id": order.venue_order_id,
        "symbol": instrument.symbol,
        "venue": order.venue,
        "side": order.side.name.lower(),
        "type": str(order.order_type),
        "time_in_force": str(order.time_in_force),
        "price": prices.to_text(order.price_ticks) if order.price_ticks else None,
        "size": sizes.to_text(order.size_lots),
        "filled": sizes.to_text(order.filled_lots),
        "avg_price": (
            _money(Decimal(avg.numerator) / Decimal(avg.denominator) * prices.step)
            if avg is not None
            else None
        ),
        "status": str(order.status),
        "reason": order.reason,
        "needs_reconcile": order.needs_reconcile,
    }


def orders_doc(orders: Iterable[Order], instruments: Mapping[int, Instrument]) -> list[Any]:
    """Many orders, oldest first."""
    return [order_doc(o, instruments[o.instrument]) for o in orders]


def portfolio_doc(view: PortfolioView, instruments: Mapping[int, Instrument]) -> dict[str, Any]:
    """Positions and totals with exact text."""
    positions = []
    for pos in view.positions:
        inst = instruments[pos.instrument]
        positions.append(
            {
                "symbol": inst.symbol,
                "venue": inst.venue,
                "net": inst.size_grid().to_text(pos.net_lots),
                "avg_entry": _money(pos.avg_entry) if pos.avg_entry is not None else None,
                "realised": _money(pos.realised),
                "unrealised": _money(pos.unrealised),
                "fees": _money(pos.fees),
            }
        )
    return {
        "positions": positions,
        "realised": _money(view.realised),
        "unrealised": _money(view.unrealised),
        "fees": _money(view.fees),
        "net": _money(view.net),
        "daily": _money(view.daily),
    }


def alert_doc(alert: Alert) -> dict[str, Any]:
    """One alert."""
    return {
        "ts_ns": alert.ts_ns,
        "level": str(alert.level),
        "source": alert.source,
        "message": alert.message,
        "client_order_id": alert.client_order_id,
    }


class OrderRequestError(InstrumentError):
    """An order request document is missing a field, names an unknown symbol or is off-grid."""


_SIDES = {"buy": Side.BUY, "sell": Side.SELL}


def parse_order_request(
    doc: Mapping[str, Any], instruments: Iterable[Instrument], client_order_id: str
) -> SubmitOrder:
    """An operator's order document (exact decimal text) as a command, refused when off-grid.

    Fields: ``symbol``, ``side`` (buy/sell), ``size``, ``price`` (omit for market), ``type``
    (limit/market), ``time_in_force`` (gtc/ioc/fok/post_only), ``reduce_only``.

    Raises:
        OrderRequestError: naming the field that is missing or wrong.
    """
    symbol = doc.get("symbol")
    inst = next((i for i in instruments if i.symbol == symbol), None)
    if inst is None:
        raise OrderRequestError(f"order request: unknown symbol {symbol!r}")
    side = _SIDES.get(str(doc.get("side", "")).lower())
    if side is None:
        raise OrderRequestError(f"order request: side must be buy or sell, not {doc.get('side')!r}")
    try:
        order_type = OrderType(str(doc.get("type", "limit")).lower())
        tif = TimeInForce(str(doc.get("time_in_force", "gtc")).lower())
    except ValueError as exc:
        raise OrderRequestError(f"order request: {exc}") from None
    size = doc.get("size")
    price = doc.get("price")
    if not isinstance(size, str) or (price is not None and not isinstance(price, str)):
        raise OrderRequestError("order request: size and price must be decimal text strings")
    if order_type is OrderType.LIMIT and price is None:
        raise OrderRequestError("order request: a limit order needs a price")
    try:
        lots, ticks = validate_order(inst, size, price if order_type is OrderType.LIMIT else None)
    except InstrumentError as exc:
        raise OrderRequestError(str(exc)) from None
    return SubmitOrder(
        client_order_id=client_order_id,
        instrument=inst.instrument_id,
        side=side,
        size_lots=lots,
        price_ticks=ticks,
        order_type=order_type,
        time_in_force=tif,
        reduce_only=bool(doc.get("reduce_only", False)),
    )


MAX_ORDER_ROWS = 60
"""Orders on the trading page: every open one first (up to this many), then the latest closed."""
MAX_ALERT_ROWS = 20
"""Alerts on the trading page, newest last."""
_MAX_TEXT = 200


def trading_view(
    open_orders: Sequence[Order],
    recent_closed: Iterable[Order],
    portfolio: PortfolioView,
    alerts: Iterable[Alert],
    *,
    daily_loss_limit: str,
    gateway: str,
    stats: GatewayStats | None,
    link_healthy: bool,
    requests: Mapping[str, int] | None = None,
    owners: Callable[[str], str] | None = None,
    queue: Mapping[str, int] | None = None,
) -> TradingView:
    """The trading page: orders, positions, PnL, alerts and the order link, bounded in size.

    Every open order comes first (up to :data:`MAX_ORDER_ROWS`), then the most recently closed
    ones fill the rest. ``requests`` maps client order ids to the UI request numbers that placed
    them; ``owners`` names the strategy that sent an order (empty for none); ``queue`` holds the
    public lots ahead of each resting order, when the gateway estimates them.
    """
    rows = list(open_orders[:MAX_ORDER_ROWS])
    room = MAX_ORDER_ROWS - len(rows)
    if room:
        rows += list(recent_closed)[-room:]
    return TradingView(
        orders=[_order_row(o, requests or {}, owners, queue or {}) for o in rows],
        open_orders=len(open_orders),
        positions=[
            PositionRow(
                instrument=p.instrument,
                net_lots=p.net_lots,
                avg_entry=_money(p.avg_entry) if p.avg_entry is not None else "",
                realised=_money(p.realised),
                unrealised=_money(p.unrealised),
                fees=_money(p.fees),
            )
            for p in portfolio.positions
        ],
        realised=_money(portfolio.realised),
        unrealised=_money(portfolio.unrealised),
        fees=_money(portfolio.fees),
        net=_money(portfolio.net),
        daily=_money(portfolio.daily),
        daily_loss_limit=daily_loss_limit,
        alerts=[
            AlertRow(
                ts_ns=a.ts_ns, level=str(a.level), source=a.source, message=a.message[:_MAX_TEXT]
            )
            for a in list(alerts)[-MAX_ALERT_ROWS:]
        ],
        gateway=gateway,
        gateway_healthy=link_healthy,
        gateway_reason=(stats.reason if stats else "")[:_MAX_TEXT],
        rejects=stats.rejects if stats else 0,
        rate=[
            RateRow(name=r.name, used=r.used, limit=r.limit) for r in (stats.rate if stats else [])
        ],
    )


def _order_row(
    order: Order,
    requests: Mapping[str, int],
    owners: Callable[[str], str] | None,
    queue: Mapping[str, int],
) -> OrderRow:
    last = order.history[-1].ts_ns if order.history else 0
    return OrderRow(
        venue_order_id=order.venue_order_id,
        created_ns=order.history[0].ts_ns if order.history else 0,
        request=requests.get(order.client_order_id, 0),
        client_order_id=order.client_order_id,
        instrument=order.instrument,
        side=int(order.side),
        order_type=str(order.order_type),
        time_in_force=str(order.time_in_force),
        price_ticks=order.price_ticks,
        size_lots=order.size_lots,
        filled_lots=order.filled_lots,
        status=str(order.status),
        reason=order.reason[:_MAX_TEXT],
        ts_ns=last,
        venue=order.venue,
        strategy=owners(order.client_order_id) if owners is not None else "",
        queue_ahead=queue.get(order.client_order_id, -1),
    )

"""Money for orders: what a new order locks, and what each fill pays, credits and charges.

A limit buy locks its quote at the limit price, a sell its base; a market buy locks the quote it
would cost to walk the book for its size as it stands (level by level, each rounded up), and a
market order sized in quote (``quoteOrderQty``) is turned into whole lots by walking the book the
same way. A fill then pays out of the order's lock (any excess, from rounding, from free) and
credits the asset received less the commission (:func:`engine.sim.accounts.commission_units`).
"""

from __future__ import annotations

from engine.core.events import Fill, Side
from engine.sim.accounts import commission_units
from engine.sim.ledger import FILLED, PARTIALLY_FILLED, AssetGrid, OrderRecord
from engine.sim.market import Level
from engine.sim.order_params import NewOrder
from engine.sim.wire import RestError

NO_LIQUIDITY = "Order book liquidity is less than `LOT_SIZE` filter minimum quantity."
"""Binance's answer to a quote-sized market order that cannot buy or sell one lot."""


def order_lock(
    assets: AssetGrid, order: NewOrder, asks: list[Level], bids: list[Level]
) -> tuple[int, str, int]:
    """What a new order needs: ``(lots, asset to lock, units to lock)``.

    Args:
        assets: the symbol's assets.
        order: the checked order.
        asks: the book's asks, best first (for market buys).
        bids: the book's bids, best first (for quote-sized market sells).

    Raises:
        RestError: -2010 when a quote-sized market order cannot take a single lot.
    """
    buy = order.side is Side.BUY
    if order.order_type != "MARKET":
        if buy:
            cost = assets.quote_units(order.price * order.quantity, up=True)
            return order.quantity, assets.quote, cost
        return order.quantity, assets.base, assets.base_units(order.quantity, up=True)
    levels = asks if buy else bids
    if order.quote_quantity:
        lots = lots_for_quote(assets, levels, order.quote_quantity, buy=buy)
        if not lots:
            raise RestError(400, -2010, NO_LIQUIDITY)
        if buy:
            return lots, assets.quote, order.quote_quantity
        return lots, assets.base, assets.base_units(lots, up=True)
    if not buy:
        return order.quantity, assets.base, assets.base_units(order.quantity, up=True)
    return order.quantity, assets.quote, walk_cost(assets, levels, order.quantity)


def walk_cost(assets: AssetGrid, levels: list[Level], lots: int) -> int:
    """Quote units a buy of ``lots`` pays walking ``levels`` best first (each level rounded up)."""
    cost, left = 0, lots
    for price, size in levels:
        take = size if size < left else left
        cost += assets.quote_units(price * take, up=True)
        left -= take
        if not left:
            break
    return cost


def lots_for_quote(assets: AssetGrid, levels: list[Level], quote: int, *, buy: bool) -> int:
    """Whole lots a quote-sized market order takes: spending (buy) or raising (sell) ``quote``."""
    lots = 0
    for price, size in levels:
        level_quote = assets.quote_units(price * size, up=buy)
        if level_quote <= quote:
            lots += size
            quote -= level_quote
            continue
        lots += assets.lots_for_quote(price, quote)
        break
    return lots


def settle_fill(record: OrderRecord, assets: AssetGrid, fill: Fill) -> tuple[int, str]:
    """Move the account's balances for one fill and update the order's executed amounts.

    Returns:
        ``(commission units, commission asset)``: charged in the asset received.
    """
    account = record.account
    maker = fill.liquidity == "maker"
    tick_lots = fill.price * fill.size
    if record.side is Side.BUY:
        cost = assets.quote_units(tick_lots, up=True)
        record.lock_left = account.spend_locked(assets.quote, cost, record.lock_left)
        received, asset = assets.base_units(fill.size), assets.base
    else:
        sold = assets.base_units(fill.size, up=True)
        record.lock_left = account.spend_locked(assets.base, sold, record.lock_left)
        received, asset = assets.quote_units(tick_lots, up=False), assets.quote
    commission = commission_units(received, account.rates.rate(maker))
    account.credit(asset, received - commission)
    record.executed += fill.size
    record.cum_quote += tick_lots
    record.status = FILLED if record.executed >= record.quantity else PARTIALLY_FILLED
    return commission, asset


def release(record: OrderRecord) -> None:
    """An order ended: give back whatever it still had locked."""
    record.account.unlock(record.lock_asset, record.lock_left)
    record.lock_left = 0

"""Binance spot's order-entry bodies as the local venue writes them: exact text, Binance's fields.

Pure functions from the venue's records (:mod:`engine.sim.ledger`) to JSON-ready dicts: order
answers (``ACK``, ``RESULT``, ``FULL`` with ``fills[]``), cancel answers, order queries, the
account, ``myTrades``, and the user stream's ``executionReport`` and ``outboundAccountPosition``.
Field names and order follow Binance's own examples; prices and quantities are decimal text padded
to eight decimals, cumulative quote quantities exact (ticks times lots times tick times lot).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim import wire
from engine.sim.accounts import Account, amount_text
from engine.sim.ledger import AssetGrid, Execution, OrderRecord, TradeRecord


class OrderText:
    """Exact text for one instrument's orders: prices, quantities and quote amounts.

    Args:
        instrument: the instrument.
    """

    __slots__ = ("assets", "symbol", "text", "unit")

    def __init__(self, instrument: Instrument) -> None:
        self.symbol = instrument.symbol
        self.text = wire.WireText(instrument)
        self.assets = AssetGrid(instrument)
        self.unit = Decimal(instrument.tick_size) * Decimal(instrument.lot_size)

    def price(self, ticks: int) -> str:
        """Ticks as padded decimal text."""
        return self.text.price(ticks)

    def size(self, lots: int) -> str:
        """Lots as padded decimal text."""
        return self.text.size(lots)

    def quote(self, tick_lots: int) -> str:
        """``price_ticks * size_lots`` as exact quote-currency text, at least eight decimals."""
        return wire.padded(Decimal(tick_lots) * self.unit)


def _side(side: Side) -> str:
    return "BUY" if side is Side.BUY else "SELL"


def ack(record: OrderRecord, transact_ms: int) -> dict[str, Any]:
    """The ``ACK`` answer to a new order."""
    return {
        "symbol": record.symbol,
        "orderId": record.order_id,
        "orderListId": -1,
        "clientOrderId": record.client_order_id,
        "transactTime": transact_ms,
    }


def result(text: OrderText, record: OrderRecord, transact_ms: int) -> dict[str, Any]:
    """The ``RESULT`` answer to a new order: the ACK plus the order's state after matching."""
    body = ack(record, transact_ms)
    body.update(_state(text, record))
    body["workingTime"] = record.created_ms if record.is_working or record.executed else -1
    body["selfTradePreventionMode"] = record.stp_mode
    return body


def full(
    text: OrderText, record: OrderRecord, transact_ms: int, fills: list[TradeRecord]
) -> dict[str, Any]:
    """The ``FULL`` answer: RESULT plus one entry per fill that happened while it was placed."""
    body = result(text, record, transact_ms)
    body["fills"] = [
        {
            "price": text.price(t.price),
            "qty": text.size(t.quantity),
            "commission": amount_text(t.commission),
            "commissionAsset": t.commission_asset,
            "tradeId": t.trade_id,
        }
        for t in fills
    ]
    return body


def new_order_answer(
    response_type: str,
    text: OrderText,
    record: OrderRecord,
    transact_ms: int,
    fills: list[TradeRecord],
) -> dict[str, Any]:
    """The answer to a new order in the asked ``newOrderRespType``."""
    if response_type == "ACK":
        return ack(record, transact_ms)
    if response_type == "RESULT":
        return result(text, record, transact_ms)
    return full(text, record, transact_ms, fills)


def _state(text: OrderText, record: OrderRecord) -> dict[str, Any]:
    return {
        "price": text.price(record.price),
        "origQty": text.size(record.quantity),
        "executedQty": text.size(record.executed),
        "origQuoteOrderQty": amount_text(record.quote_quantity),
        "cummulativeQuoteQty": text.quote(record.cum_quote),
        "status": record.status,
        "timeInForce": record.time_in_force,
        "type": record.order_type,
        "side": _side(record.side),
    }


def canceled(
    text: OrderText, record: OrderRecord, cancel_client_id: str, transact_ms: int
) -> dict[str, Any]:
    """The answer to a cancel (one entry of a cancel-all)."""
    body: dict[str, Any] = {
        "symbol": record.symbol,
        "origClientOrderId": record.client_order_id,
        "orderId": record.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_client_id,
        "transactTime": transact_ms,
    }
    body.update(_state(text, record))
    body["selfTradePreventionMode"] = record.stp_mode
    return body


def query(text: OrderText, record: OrderRecord) -> dict[str, Any]:
    """One order as ``GET /api/v3/order`` and ``GET /api/v3/openOrders`` report it."""
    body: dict[str, Any] = {
        "symbol": record.symbol,
        "orderId": record.order_id,
        "orderListId": -1,
        "clientOrderId": record.client_order_id,
    }
    state = _state(text, record)
    quote = state.pop("origQuoteOrderQty")
    body.update(state)
    body.update(
        {
            "stopPrice": text.price(0),
            "icebergQty": text.size(0),
            "time": record.created_ms,
            "updateTime": record.update_ms,
            "isWorking": record.is_working,
            "workingTime": record.created_ms,
            "origQuoteOrderQty": quote,
            "selfTradePreventionMode": record.stp_mode,
        }
    )
    return body


def account(account: Account, now_ms: int, *, omit_zero: bool = False) -> dict[str, Any]:
    """``GET /api/v3/account``: permissions, commission rates and balances."""
    rates = account.rates
    balances = [
        {"asset": asset, "free": amount_text(b.free), "locked": amount_text(b.locked)}
        for asset, b in account.balances.items()
        if not (omit_zero and b.free == 0 and b.locked == 0)
    ]
    return {
        "makerCommission": int(rates.maker * 10_000),
        "takerCommission": int(rates.taker * 10_000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": wire.padded(Decimal(rates.maker_text)),
            "taker": wire.padded(Decimal(rates.taker_text)),
            "buyer": wire.padded(Decimal(0)),
            "seller": wire.padded(Decimal(0)),
        },
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": account.update_ms or now_ms,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": account.uid,
    }


def my_trade(text: OrderText, trade: TradeRecord) -> dict[str, Any]:
    """One entry of ``GET /api/v3/myTrades``."""
    return {
        "symbol": trade.symbol,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "orderListId": -1,
        "price": text.price(trade.price),
        "qty": text.size(trade.quantity),
        "quoteQty": text.quote(trade.price * trade.quantity),
        "commission": amount_text(trade.commission),
        "commissionAsset": trade.commission_asset,
        "time": trade.time_ms,
        "isBuyer": trade.side is Side.BUY,
        "isMaker": trade.maker,
        "isBestMatch": True,
    }


def execution_report(
    text: OrderText, record: OrderRecord, execution: Execution, event_ms: int
) -> dict[str, Any]:
    """The ``executionReport`` event for one execution of ``record`` (read as it is now)."""
    ex = execution
    trade = ex.exec_type == "TRADE"
    event: dict[str, Any] = {
        "e": "executionReport",
        "E": event_ms,
        "s": record.symbol,
        "c": ex.client_order_id or record.client_order_id,
        "S": _side(record.side),
        "o": record.order_type,
        "f": record.time_in_force,
        "q": text.size(record.quantity),
        "p": text.price(record.price),
        "P": text.price(0),
        "F": text.size(0),
        "g": -1,
        "C": ex.orig_client_order_id,
        "x": ex.exec_type,
        "X": record.status,
        "r": ex.reject_reason,
        "i": record.order_id,
        "l": text.size(ex.last_quantity),
        "z": text.size(record.executed),
        "L": text.price(ex.last_price),
        "n": amount_text(ex.commission) if trade else "0",
        "N": ex.commission_asset if trade else None,
        "T": ex.time_ms,
        "t": ex.trade_id,
    }
    if ex.exec_type == "TRADE_PREVENTION":
        event.update(
            {
                "v": ex.prevented_match_id,
                "A": text.size(ex.prevented_quantity),
                "B": text.size(ex.prevented_quantity),
                "u": -1,
                "U": -1,
                "Cs": record.symbol,
            }
        )
    event.update(
        {
            "I": ex.execution_id,
            "w": record.is_working,
            "m": ex.maker,
            "M": False,
            "O": record.created_ms,
            "Z": text.quote(record.cum_quote),
            "Y": text.quote(ex.last_price * ex.last_quantity),
            "Q": amount_text(record.quote_quantity),
            "W": record.created_ms,
            "V": record.stp_mode,
        }
    )
    return event


def account_position(account: Account, assets: list[str], event_ms: int) -> dict[str, Any]:
    """The ``outboundAccountPosition`` event for the assets whose balance changed."""
    return {
        "e": "outboundAccountPosition",
        "E": event_ms,
        "u": event_ms,
        "B": [
            {
                "a": asset,
                "f": amount_text(account.balance(asset).free),
                "l": amount_text(account.balance(asset).locked),
            }
            for asset in assets
        ],
    }


def error(exc: wire.RestError) -> dict[str, Any]:
    """``{"code": ..., "msg": ...}`` of an error, as it appears inside cancel-replace answers."""
    return {"code": exc.code, "msg": exc.msg}

"""Binance USD-M's wire format as the local venue writes it: order bodies, positions, events.

Pure functions from the venue's futures records (:mod:`engine.sim.usdm_ledger`) to JSON-ready
dicts, with USD-M's field names (venues.md §2.6, §2.9): the order object every order endpoint
answers with, ``userTrades`` entries, ``positionRisk``, ``account`` and ``balance`` (v3), and the
user stream's ``ORDER_TRADE_UPDATE``, ``ACCOUNT_UPDATE`` and ``listenKeyExpired``. Prices and
quantities are exact text on the instrument's grids (USD-M does not pad them the way spot does);
money is exact text of 10**-8 units of the margin asset.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any

from engine.core.events import Side
from engine.core.instruments import Instrument
from engine.sim.accounts import amount_text
from engine.sim.bybit_ledger import LinearPosition
from engine.sim.usdm_ledger import (
    LEVERAGE,
    FuturesExecution,
    FuturesOrder,
    FuturesTrade,
    MarginState,
)
from engine.sim.wire import split_symbol

_AVG_PLACES = Decimal("0.00000001")


class FuturesText:
    """Exact text for one instrument's futures orders: prices, sizes, quote and money.

    Args:
        instrument: the instrument; its quote asset is the margin asset.
    """

    __slots__ = ("_price", "_size", "margin_asset", "symbol", "tick", "tick_lot", "unit")

    def __init__(self, instrument: Instrument) -> None:
        self.symbol = instrument.symbol
        self.margin_asset = split_symbol(instrument.symbol)[1]
        self._price = instrument.price_grid()
        self._size = instrument.size_grid()
        self.tick = Decimal(instrument.tick_size)
        self.tick_lot = self.tick * Decimal(instrument.lot_size)
        self.unit = Fraction(instrument.tick_size) * Fraction(instrument.lot_size) * 10**8
        """Units of 10**-8 of the margin asset in one tick times one lot."""

    def price(self, ticks: int) -> str:
        """Ticks as exact price text (``6500001`` -> ``"65000.01"``)."""
        return self._price.to_text(ticks)

    def size(self, lots: int) -> str:
        """Lots as exact quantity text."""
        return self._size.to_text(lots)

    def quote(self, tick_lots: int) -> str:
        """``price_ticks * size_lots`` as exact quote-asset text."""
        return format(Decimal(tick_lots) * self.tick_lot, "f")

    def average(self, tick_lots: int, lots: int) -> str:
        """Average fill price of ``tick_lots`` over ``lots`` (8 decimals, cut), "0" when none."""
        if not lots:
            return "0"
        return _plain(Decimal(tick_lots) * self.tick / Decimal(lots))

    def money(self, units: int) -> str:
        """Units of 10**-8 of the margin asset as text."""
        return amount_text(units)


def _plain(value: Decimal) -> str:
    """``value`` cut to eight decimals, without trailing zeros or an exponent."""
    cut = value.quantize(_AVG_PLACES, rounding=ROUND_DOWN).normalize()
    return format(cut, "f")


def _side(side: Side) -> str:
    return "BUY" if side is Side.BUY else "SELL"


def order_body(text: FuturesText, order: FuturesOrder) -> dict[str, Any]:
    """The order object ``POST``/``PUT``/``DELETE``/``GET /fapi/v1/order`` answer with."""
    return {
        "orderId": order.order_id,
        "symbol": order.symbol,
        "status": order.status,
        "clientOrderId": order.client_order_id,
        "price": text.price(order.price),
        "avgPrice": text.average(order.cum_quote, order.executed),
        "origQty": text.size(order.quantity),
        "executedQty": text.size(order.executed),
        "cumQty": text.size(order.executed),
        "cumQuote": text.quote(order.cum_quote),
        "timeInForce": order.time_in_force,
        "type": order.order_type,
        "reduceOnly": order.reduce_only,
        "closePosition": False,
        "side": _side(order.side),
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": order.order_type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": order.stp_mode,
        "goodTillDate": 0,
        "time": order.created_ms,
        "updateTime": order.update_ms,
    }


def user_trade(text: FuturesText, trade: FuturesTrade) -> dict[str, Any]:
    """One entry of ``GET /fapi/v1/userTrades`` (commission positive when paid)."""
    return {
        "buyer": trade.side is Side.BUY,
        "commission": text.money(trade.commission),
        "commissionAsset": trade.commission_asset,
        "id": trade.trade_id,
        "maker": trade.maker,
        "orderId": trade.order_id,
        "price": text.price(trade.price),
        "qty": text.size(trade.quantity),
        "quoteQty": text.quote(trade.price * trade.quantity),
        "realizedPnl": text.money(trade.realized_pnl),
        "side": _side(trade.side),
        "positionSide": "BOTH",
        "symbol": trade.symbol,
        "time": trade.time_ms,
    }


def _entry(text: FuturesText, position: LinearPosition) -> str:
    avg = position.avg_ticks
    if not avg:
        return "0"
    return _plain(Decimal(avg.numerator) * text.tick / Decimal(avg.denominator))


def position_risk(
    text: FuturesText, position: LinearPosition, mark: int, update_ms: int
) -> dict[str, Any]:
    """One entry of ``GET /fapi/v3/positionRisk`` (one-way mode: ``positionSide`` BOTH)."""
    size = position.size
    notional_units = int(text.unit * mark * size)
    margin = -(-abs(notional_units) // LEVERAGE)
    signed = size if size else 0
    return {
        "symbol": position.symbol,
        "positionSide": "BOTH",
        "positionAmt": ("-" if signed < 0 else "") + text.size(abs(signed)),
        "entryPrice": _entry(text, position),
        "breakEvenPrice": _entry(text, position),
        "markPrice": text.price(mark),
        "unRealizedProfit": text.money(position.unrealised(mark)),
        "liquidationPrice": "0",
        "isolatedMargin": "0",
        "notional": text.money(notional_units),
        "marginAsset": text.margin_asset,
        "isolatedWallet": "0",
        "initialMargin": text.money(margin),
        "maintMargin": text.money(margin // 2),
        "positionInitialMargin": text.money(margin),
        "openOrderInitialMargin": "0",
        "adl": 0,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": update_ms,
    }


def _asset(state: MarginState) -> dict[str, Any]:
    money = amount_text
    return {
        "asset": state.asset,
        "walletBalance": money(state.wallet),
        "unrealizedProfit": money(state.unrealized),
        "marginBalance": money(state.margin_balance),
        "maintMargin": money(state.position_margin // 2),
        "initialMargin": money(state.position_margin + state.order_margin),
        "positionInitialMargin": money(state.position_margin),
        "openOrderInitialMargin": money(state.order_margin),
        "crossWalletBalance": money(state.wallet),
        "crossUnPnl": money(state.unrealized),
        "availableBalance": money(state.available),
        "maxWithdrawAmount": money(max(0, min(state.wallet, state.available))),
        "updateTime": state.update_ms,
    }


def account(
    states: list[MarginState], positions: list[tuple[FuturesText, LinearPosition, int]]
) -> dict[str, Any]:
    """``GET /fapi/v3/account``: totals, one entry per margin asset, open positions."""
    money = amount_text
    total = {
        "wallet": sum(s.wallet for s in states),
        "unrealized": sum(s.unrealized for s in states),
        "position": sum(s.position_margin for s in states),
        "orders": sum(s.order_margin for s in states),
        "available": sum(s.available for s in states),
    }
    entries = []
    for text, position, mark in positions:
        risk = position_risk(text, position, mark, 0)
        entries.append(
            {
                "symbol": position.symbol,
                "positionSide": "BOTH",
                "positionAmt": risk["positionAmt"],
                "unrealizedProfit": risk["unRealizedProfit"],
                "isolatedMargin": "0",
                "notional": risk["notional"],
                "isolatedWallet": "0",
                "initialMargin": risk["initialMargin"],
                "maintMargin": risk["maintMargin"],
                "updateTime": 0,
            }
        )
    return {
        "totalInitialMargin": money(total["position"] + total["orders"]),
        "totalMaintMargin": money(total["position"] // 2),
        "totalWalletBalance": money(total["wallet"]),
        "totalUnrealizedProfit": money(total["unrealized"]),
        "totalMarginBalance": money(total["wallet"] + total["unrealized"]),
        "totalPositionInitialMargin": money(total["position"]),
        "totalOpenOrderInitialMargin": money(total["orders"]),
        "totalCrossWalletBalance": money(total["wallet"]),
        "totalCrossUnPnl": money(total["unrealized"]),
        "availableBalance": money(total["available"]),
        "maxWithdrawAmount": money(max(0, min(total["wallet"], total["available"]))),
        "assets": [_asset(s) for s in states],
        "positions": entries,
    }


def balances(states: list[MarginState], alias: str) -> list[dict[str, Any]]:
    """``GET /fapi/v3/balance``: one entry per margin asset."""
    return [
        {
            "accountAlias": alias,
            "asset": s.asset,
            "balance": amount_text(s.wallet),
            "crossWalletBalance": amount_text(s.wallet),
            "crossUnPnl": amount_text(s.unrealized),
            "availableBalance": amount_text(s.available),
            "maxWithdrawAmount": amount_text(max(0, min(s.wallet, s.available))),
            "marginAvailable": True,
            "updateTime": s.update_ms,
        }
        for s in states
    ]


# ---- user stream ---------------------------------------------------------------------------------


def order_trade_update(
    text: FuturesText, order: FuturesOrder, execution: FuturesExecution, event_ms: int
) -> dict[str, Any]:
    """The ``ORDER_TRADE_UPDATE`` for one execution of ``order`` (read as it is now)."""
    ex = execution
    trade = ex.exec_type == "TRADE"
    body: dict[str, Any] = {
        "s": order.symbol,
        "c": order.client_order_id,
        "S": _side(order.side),
        "o": order.order_type,
        "f": order.time_in_force,
        "q": text.size(order.quantity),
        "p": text.price(order.price),
        "ap": text.average(order.cum_quote, order.executed),
        "sp": "0",
        "x": ex.exec_type,
        "X": order.status,
        "i": order.order_id,
        "l": text.size(ex.last_quantity),
        "z": text.size(order.executed),
        "L": text.price(ex.last_price),
    }
    if trade:
        body["N"] = text.margin_asset
        body["n"] = text.money(ex.commission)
    body.update(
        {
            "T": ex.time_ms,
            "t": ex.trade_id,
            "b": "0",
            "a": "0",
            "m": ex.maker,
            "R": order.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": order.order_type,
            "ps": "BOTH",
            "cp": False,
            "rp": text.money(ex.realized_pnl),
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": order.stp_mode,
            "pm": "NONE",
            "gtd": 0,
        }
    )
    return {"e": "ORDER_TRADE_UPDATE", "E": event_ms, "T": ex.time_ms, "o": body}


def account_update(
    state: MarginState,
    text: FuturesText,
    position: LinearPosition,
    mark: int,
    event_ms: int,
    reason: str = "ORDER",
) -> dict[str, Any]:
    """The ``ACCOUNT_UPDATE`` after fills: the margin asset's balance and the position."""
    risk = position_risk(text, position, mark, event_ms)
    return {
        "e": "ACCOUNT_UPDATE",
        "E": event_ms,
        "T": event_ms,
        "a": {
            "m": reason,
            "B": [
                {
                    "a": state.asset,
                    "wb": amount_text(state.wallet),
                    "cw": amount_text(state.wallet),
                    "bc": "0",
                }
            ],
            "P": [
                {
                    "s": position.symbol,
                    "pa": risk["positionAmt"],
                    "ep": risk["entryPrice"],
                    "bep": risk["breakEvenPrice"],
                    "cr": amount_text(position.realised),
                    "up": risk["unRealizedProfit"],
                    "mt": "cross",
                    "iw": "0",
                    "ps": "BOTH",
                }
            ],
        },
    }


def listen_key_expired(listen_key: str, event_ms: int) -> dict[str, Any]:
    """The ``listenKeyExpired`` event (``E`` as text, as the venue sends it)."""
    return {"e": "listenKeyExpired", "E": str(event_ms), "listenKey": listen_key}

"""Bybit v5's wire format as the local venue writes it: answers, order, execution, position, wallet.

Pure functions from the venue's records (:mod:`engine.sim.bybit_ledger`) to JSON-ready dicts with
Bybit's field names (venues.md §3.5, §3.9). Every answer is
``{"retCode", "retMsg", "result", "retExtInfo", "time"}``; a refusal is a :class:`BybitError`
carrying Bybit's ``retCode`` and ``retMsg``. Prices and quantities are exact decimal text on the
instrument's grids, money exact text of the 10**-8 units it is kept in; times are ms, as text
where Bybit sends text.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import msgspec

from engine.core.events import Side
from engine.core.instruments import DecimalGrid, Instrument
from engine.sim import SimError
from engine.sim.accounts import Account, amount_text
from engine.sim.bybit_ledger import LinearExecution, LinearOrder, LinearPosition

_encode = msgspec.json.Encoder().encode
CATEGORY = "linear"
LEVERAGE = 10
"""Every position's leverage on this venue (orders are checked against it; see the desk)."""
_AVG_DECIMALS = 8


class BybitError(SimError):
    """A request the venue refuses, answered ``{"retCode": ret_code, "retMsg": ret_msg}``.

    Args:
        ret_code: Bybit's code.
        ret_msg: Bybit's text.
        status: the HTTP status (200 for nearly everything, as Bybit answers).
    """

    def __init__(self, ret_code: int, ret_msg: str, status: int = 200) -> None:
        super().__init__(f"{ret_code}: {ret_msg}")
        self.ret_code = ret_code
        self.ret_msg = ret_msg
        self.status = status


def answer(result: object, now_ms: int, ret_code: int = 0, ret_msg: str = "OK") -> bytes:
    """A whole answer body."""
    body = {
        "retCode": ret_code,
        "retMsg": ret_msg,
        "result": result,
        "retExtInfo": {},
        "time": now_ms,
    }
    return _encode(body)


def side_text(side: Side) -> str:
    """``Buy`` or ``Sell``."""
    return "Buy" if side is Side.BUY else "Sell"


class LinearText:
    """Exact text for one instrument: prices, quantities, values and money.

    Args:
        instrument: the instrument.
    """

    __slots__ = ("price_grid", "size_grid", "symbol", "value_step")

    def __init__(self, instrument: Instrument) -> None:
        self.symbol = instrument.symbol
        self.price_grid: DecimalGrid = instrument.price_grid()
        self.size_grid: DecimalGrid = instrument.size_grid()
        self.value_step = Decimal(instrument.tick_size) * Decimal(instrument.lot_size)

    def price(self, ticks: int) -> str:
        """Ticks as decimal text."""
        return self.price_grid.to_text(ticks)

    def qty(self, lots: int) -> str:
        """Lots as decimal text."""
        return self.size_grid.to_text(lots)

    def value(self, tick_lots: int | Fraction) -> str:
        """Price times quantity in the settle coin (``tick_lots`` of tick times lot), exact."""
        if isinstance(tick_lots, Fraction):
            exact = Decimal(tick_lots.numerator) / Decimal(tick_lots.denominator)
        else:
            exact = Decimal(tick_lots)
        return _plain(exact * self.value_step)

    def avg_price(self, tick_lots: int | Fraction, lots: int) -> str:
        """The average price of ``lots`` that cost ``tick_lots``, to eight decimals at most."""
        if not lots:
            return "0"
        avg = Fraction(tick_lots) / lots * Fraction(self.price_grid.step)
        exact = Decimal(avg.numerator) / Decimal(avg.denominator)
        return _plain(round(exact, _AVG_DECIMALS))


def _plain(value: Decimal) -> str:
    """Decimal text without exponent or trailing zeros (``"520"``, ``"0.0357"``)."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


def money(units: int) -> str:
    """Units of 10**-8 as Bybit-style text (``"0.312"``, ``"1000000"``)."""
    return _plain(Decimal(amount_text(units)))


def order_item(text: LinearText, order: LinearOrder, *, push: bool = False) -> dict[str, Any]:
    """One order as ``/v5/order/realtime`` lists it (``push``: as the ``order`` topic sends it)."""
    item: dict[str, Any] = {"category": CATEGORY} if push else {}
    item.update(
        {
            "orderId": order.order_id,
            "orderLinkId": order.order_link_id,
            "blockTradeId": "",
            "symbol": order.symbol,
            "price": text.price(order.price),
            "qty": text.qty(order.qty),
            "side": side_text(order.side),
            "isLeverage": "",
            "positionIdx": 0,
            "orderStatus": order.status,
            "cancelType": order.cancel_type,
            "rejectReason": order.reject_reason,
            "avgPrice": text.avg_price(order.cum_value, order.filled),
            "leavesQty": text.qty(order.leaves),
            "leavesValue": text.value(order.leaves * order.price),
            "cumExecQty": text.qty(order.filled),
            "cumExecValue": text.value(order.cum_value),
            "cumExecFee": money(order.cum_fee),
            "timeInForce": order.time_in_force,
            "orderType": order.order_type,
            "stopOrderType": "",
            "orderIv": "",
            "triggerPrice": "0",
            "takeProfit": "0",
            "stopLoss": "0",
            "triggerBy": "",
            "triggerDirection": 0,
            "reduceOnly": order.reduce_only,
            "closeOnTrigger": False,
            "smpType": order.smp_type,
            "smpGroup": 0,
            "smpOrderId": "",
            "placeType": "",
            "createdTime": str(order.created_ms),
            "updatedTime": str(order.updated_ms),
        }
    )
    return item


def execution_item(
    text: LinearText, order: LinearOrder, execution: LinearExecution, mark_ticks: int
) -> dict[str, Any]:
    """One fill as the ``execution`` topic sends it."""
    ex = execution
    return {
        "category": CATEGORY,
        "symbol": order.symbol,
        "isLeverage": "",
        "orderId": order.order_id,
        "orderLinkId": order.order_link_id,
        "side": side_text(order.side),
        "orderPrice": text.price(order.price),
        "orderQty": text.qty(order.qty),
        "leavesQty": text.qty(ex.leaves),
        "createType": "CreateByUser",
        "orderType": order.order_type,
        "stopOrderType": "",
        "execFee": money(ex.fee),
        "execId": ex.exec_id,
        "execPrice": text.price(ex.price),
        "execQty": text.qty(ex.qty),
        "execPnl": money(ex.pnl),
        "execType": "Trade",
        "execValue": text.value(ex.price * ex.qty),
        "execTime": str(ex.time_ms),
        "isMaker": ex.maker,
        "feeRate": ex.fee_rate,
        "tradeIv": "",
        "markIv": "",
        "markPrice": text.price(mark_ticks),
        "indexPrice": text.price(mark_ticks),
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": text.qty(ex.closed_lots),
        "seq": ex.seq,
    }


def position_item(
    text: LinearText, position: LinearPosition, mark_ticks: int, updated_ms: int, *, push: bool
) -> dict[str, Any]:
    """One position as ``/v5/position/list`` lists it (``push``: as the ``position`` topic)."""
    size = abs(position.size)
    value = text.value(position.cost)
    margin = money(_margin_units(position))
    entry = text.avg_price(position.cost, size) if size else "0"
    item: dict[str, Any] = {"category": CATEGORY} if push else {}
    item.update(
        {
            "positionIdx": 0,
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": position.symbol,
            "side": position.side,
            "size": text.qty(size),
            ("entryPrice" if push else "avgPrice"): entry,
            "positionValue": value,
            "tradeMode": 0,
            "positionStatus": "Normal",
            "autoAddMargin": 0,
            "leverage": str(LEVERAGE),
            "positionBalance": margin,
            "markPrice": text.price(mark_ticks),
            "liqPrice": "",
            "bustPrice": "",
            "positionIM": margin,
            "positionMM": "0",
            "tpslMode": "Full",
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "unrealisedPnl": money(position.unrealised(mark_ticks)),
            "curRealisedPnl": money(position.realised),
            "cumRealisedPnl": money(position.realised),
            "adlRankIndicator": 0,
            "isReduceOnly": False,
            "seq": position.seq,
            "createdTime": str(position.created_ms),
            "updatedTime": str(updated_ms),
        }
    )
    return item


def _margin_units(position: LinearPosition) -> int:
    return int(position.cost * position.unit / LEVERAGE)


def wallet_item(
    account: Account, positions: list[tuple[LinearPosition, int]], coins: list[str]
) -> dict[str, Any]:
    """The unified account as ``/v5/account/wallet-balance`` and the ``wallet`` topic show it.

    Args:
        account: the account; its balances are the wallet.
        positions: every open position with its mark price (ticks), for margins and PnL.
        coins: the coins to list (all the account holds when empty).
    """
    upl = sum(p.unrealised(mark) for p, mark in positions)
    initial = sum(_margin_units(p) for p, _ in positions)
    rows = []
    total_wallet = 0
    for coin in coins or list(account.balances):
        balance = account.balance(coin)
        held = balance.free + balance.locked
        coin_upl = upl if coin == "USDT" else 0
        if coin in ("USDT", "USDC"):
            total_wallet += held
        rows.append(
            {
                "coin": coin,
                "equity": money(held + coin_upl),
                "usdValue": money(held + coin_upl) if coin in ("USDT", "USDC") else "0",
                "walletBalance": money(held),
                "free": money(balance.free),
                "locked": money(balance.locked),
                "borrowAmount": "0",
                "availableToWithdraw": money(max(0, balance.free - initial)),
                "accruedInterest": "0",
                "totalOrderIM": "0",
                "totalPositionIM": money(initial) if coin == "USDT" else "0",
                "totalPositionMM": "0",
                "unrealisedPnl": money(coin_upl),
                "cumRealisedPnl": money(sum(p.realised for p, _ in positions)),
                "bonus": "0",
                "collateralSwitch": True,
                "marginCollateral": True,
            }
        )
    return {
        "accountType": "UNIFIED",
        "accountIMRate": "0",
        "accountMMRate": "0",
        "accountLTV": "0",
        "totalEquity": money(total_wallet + upl),
        "totalWalletBalance": money(total_wallet),
        "totalMarginBalance": money(total_wallet + upl),
        "totalAvailableBalance": money(max(0, total_wallet - initial)),
        "totalPerpUPL": money(upl),
        "totalInitialMargin": money(initial),
        "totalMaintenanceMargin": "0",
        "coin": rows,
    }

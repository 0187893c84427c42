"""Performance figures of a finished backtest, from its fills, orders and equity samples.

Money is quote currency. Figures that are sums of fills (PnL, fees, turnover, spread capture)
are computed exactly (Decimal) and reported as floats rounded to 10 significant digits; ratios
are floats. Conventions, stated in the output too:

* **Sharpe / Sortino**: from the change of net PnL per equity sample (``sample_ms`` apart, in
  quote currency: a market maker has no capital base to divide by), mean over standard
  deviation (Sortino: over the downside deviation, the root mean square of the negative changes),
  annualised by ``sqrt(365 * 86400 / interval_s)``. The per-interval values are given as well.
* **Drawdown**: of net PnL from its running peak over the samples; the duration is the longest
  stretch from a peak to the sample that first regained it (or to the end).
* **Round trips** (profit factor, win rate, holding time): fills matched first in, first out per
  instrument; each matched chunk is one closed trade with its PnL before fees and its holding
  time. Profit factor is the gross profit over the gross loss of closed trades.
* **Fill and cancel ratios**: over orders that reached the venue (risk refusals excluded):
  orders with at least one fill, and orders that ended canceled.
* **Market-making decomposition**: spread capture is each fill's edge against the engine's mid
  when it was booked (``(mid - price) * size`` for a buy, ``(price - mid) * size`` for a sell);
  inventory PnL is the rest of the gross PnL (the mark-to-market of what was held); net =
  spread capture + inventory - fees.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from decimal import Decimal
from typing import Any

from backtest.runner import BacktestResult
from engine.core.events import Side
from engine.oms.order import OrderEventKind, OrderStatus

_YEAR_S = 365 * 86_400


def _num(value: Decimal | float) -> float:
    """A figure as a float with 10 significant digits (stable text in JSON)."""
    f = float(value)
    if f == 0 or not math.isfinite(f):
        return 0.0 if f == 0 else f
    return float(f"{f:.10g}")


def _unit(result: BacktestResult, instrument: int) -> Decimal:
    inst = result.instruments[instrument]
    return Decimal(inst.tick_size) * Decimal(inst.lot_size)


def equity_series(result: BacktestResult) -> tuple[list[int], list[float], list[float]]:
    """(ts ns, net PnL, drawdown) per sample; drawdown is net minus its running peak (<= 0)."""
    ts = [s.ts_ns for s in result.equity]
    net = [float(s.net) for s in result.equity]
    peak = -math.inf
    dd: list[float] = []
    for value in net:
        peak = max(peak, value)
        dd.append(value - peak)
    return ts, net, dd


def _ratios(changes: list[float], interval_s: float) -> dict[str, float]:
    n = len(changes)
    if n < 2:
        return {"sharpe": 0.0, "sortino": 0.0, "sharpe_per_interval": 0.0}
    mean = sum(changes) / n
    var = sum((c - mean) ** 2 for c in changes) / (n - 1)
    std = math.sqrt(var)
    down = math.sqrt(sum(min(c, 0.0) ** 2 for c in changes) / n)
    scale = math.sqrt(_YEAR_S / interval_s)
    per = mean / std if std > 0 else 0.0
    return {
        "sharpe": _num(per * scale),
        "sortino": _num(mean / down * scale if down > 0 else 0.0),
        "sharpe_per_interval": _num(per),
        "sortino_per_interval": _num(mean / down if down > 0 else 0.0),
    }


def _drawdown(ts: list[int], net: list[float]) -> dict[str, float]:
    if not net:
        return {"max_drawdown": 0.0, "max_drawdown_duration_s": 0.0}
    peak, peak_ts = net[0], ts[0]
    worst = 0.0
    longest = 0
    for t, value in zip(ts, net, strict=True):
        if value >= peak:
            longest = max(longest, t - peak_ts)
            peak, peak_ts = value, t
        else:
            worst = min(worst, value - peak)
    longest = max(longest, ts[-1] - peak_ts) if net[-1] < peak else longest
    return {"max_drawdown": _num(-worst), "max_drawdown_duration_s": _num(longest / 1e9)}


def round_trips(result: BacktestResult) -> list[tuple[Decimal, int, int]]:
    """Closed trades (PnL before fees in quote currency, lots, holding ns), FIFO per instrument."""
    open_lots: dict[int, deque[list[int]]] = {}  # instrument -> [signed lots, price, booked ns]
    out: list[tuple[Decimal, int, int]] = []
    for booked in result.fills:
        fill = booked.fill
        sign = 1 if fill.side is Side.BUY else -1
        queue = open_lots.setdefault(fill.instrument, deque())
        left = fill.size
        unit = _unit(result, fill.instrument)
        while left and queue and (queue[0][0] > 0) != (sign > 0):
            lot = queue[0]
            take = min(left, abs(lot[0]))
            pnl_ticks = (fill.price - lot[1]) * take * (1 if lot[0] > 0 else -1)
            out.append((pnl_ticks * unit, take, booked.booked_ns - lot[2]))
            lot[0] -= take if lot[0] > 0 else -take
            left -= take
            if lot[0] == 0:
                queue.popleft()
        if left:
            queue.append([sign * left, fill.price, booked.booked_ns])
    return out


def _fills_figures(result: BacktestResult) -> dict[str, Any]:
    maker = taker = maker_vol = taker_vol = 0
    turnover = Decimal(0)
    spread = Decimal(0)
    fees_units = 0
    for booked in result.fills:
        fill = booked.fill
        unit = _unit(result, fill.instrument)
        turnover += fill.price * fill.size * unit
        fees_units += fill.fee
        if fill.liquidity == "maker":
            maker += 1
            maker_vol += fill.size
        else:
            taker += 1
            taker_vol += fill.size
        if booked.mid_x2:
            edge_x2 = booked.mid_x2 - 2 * fill.price
            if fill.side is Side.SELL:
                edge_x2 = -edge_x2
            spread += Decimal(edge_x2 * fill.size) * unit / 2
    n = maker + taker
    vol = maker_vol + taker_vol
    return {
        "fills": n,
        "maker_fills": maker,
        "taker_fills": taker,
        "maker_share": _num(maker / n) if n else 0.0,
        "maker_volume_share": _num(maker_vol / vol) if vol else 0.0,
        "volume_lots": vol,
        "turnover": _num(turnover),
        "spread_capture": spread,
        "fees_from_fills": Decimal(fees_units) * Decimal("1E-8"),
    }


def _orders_figures(result: BacktestResult) -> dict[str, Any]:
    sent = filled = canceled = replaces = refused = 0
    for order in result.orders:
        kinds = [t.kind for t in order.history]
        if OrderEventKind.SUBMIT not in kinds:
            refused += 1
            continue
        sent += 1
        filled += order.filled_lots > 0
        canceled += order.status is OrderStatus.CANCELED
        replaces += kinds.count(OrderEventKind.REPLACED)
    return {
        "orders_sent": sent,
        "orders_refused": refused,
        "replaces": replaces,
        "fill_ratio": _num(filled / sent) if sent else 0.0,
        "cancel_ratio": _num(canceled / sent) if sent else 0.0,
    }


def _inventory(result: BacktestResult) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for inst in result.instruments:
        iid = inst.instrument_id
        lots = [s.inventory_lots[iid] for s in result.equity]
        if not lots:
            continue
        n = len(lots)
        mean = sum(lots) / n
        out[inst.symbol] = {
            "mean_lots": _num(mean),
            "mean_abs_lots": _num(sum(abs(v) for v in lots) / n),
            "max_abs_lots": max(abs(v) for v in lots),
            "std_lots": _num(math.sqrt(sum((v - mean) ** 2 for v in lots) / n)),
            "final_lots": lots[-1],
            "lot_size": inst.lot_size,
        }
    return out


def compute(result: BacktestResult) -> dict[str, Any]:
    """Every figure of the run, as a JSON-ready dict (see the module docstring)."""
    interval_s = result.config.sample_ms / 1000
    ts, net, _ = equity_series(result)
    last = result.equity[-1] if result.equity else None
    realised = last.realised if last else Decimal(0)
    unrealised = last.unrealised if last else Decimal(0)
    fees = last.fees if last else Decimal(0)
    gross = realised + unrealised
    fills = _fills_figures(result)
    spread = fills.pop("spread_capture")
    fills.pop("fees_from_fills")
    trips = round_trips(result)
    wins = [p for p, _, _ in trips if p > 0]
    losses = [p for p, _, _ in trips if p < 0]
    held_lots = sum(q for _, q, _ in trips)
    hold_ns = sum(q * h for _, q, h in trips) / held_lots if held_lots else 0.0
    changes = [b - a for a, b in itertools.pairwise(net)]
    metrics: dict[str, Any] = {
        "pnl": {
            "gross": _num(gross),
            "realised": _num(realised),
            "unrealised": _num(unrealised),
            "fees": _num(fees),
            "net": _num(gross - fees),
        },
        "risk_adjusted": {
            **_ratios(changes, interval_s),
            "sampling_interval_s": interval_s,
            "annualisation": "sqrt(365 * 86400 / sampling_interval_s)",
            "returns": "change of net PnL per interval, quote currency",
        },
        **_drawdown(ts, net),
        "round_trips": len(trips),
        "profit_factor": _num(sum(wins) / -sum(losses)) if losses else (0.0 if not wins else -1.0),
        "win_rate": _num(len(wins) / len(trips)) if trips else 0.0,
        "avg_holding_time_s": _num(hold_ns / 1e9),
        **fills,
        **_orders_figures(result),
        "inventory": _inventory(result),
        "mm_decomposition": {
            "spread_capture": _num(spread),
            "inventory": _num(gross - spread),
            "fees": _num(fees),
            "net": _num(gross - fees),
        },
        "events": {"book": result.book_events, "trade": result.trade_events},
        "halted": result.halted,
    }
    return metrics

"""The figures on hand-made results, checked against arithmetic done here."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from backtest.config import BacktestConfig
from backtest.metrics import compute, round_trips
from backtest.runner import BacktestResult, BookedFill, EquitySample
from engine.core.events import Fill, Side
from engine.core.instruments import Instrument

INST = Instrument(venue="sim", symbol="BTCUSDT", tick_size="0.01", lot_size="0.001")
S = 1_000_000_000


def _fill(n: int, side: Side, price: int, size: int, ts: int, mid_x2: int) -> BookedFill:
    fill = Fill(
        venue="sim", instrument=0, client_order_id=f"bt-{n}", venue_order_id=str(n),
        trade_id=str(n), side=side, price=price, size=size, fee=10, liquidity="maker",
        exch_ts=ts,
    )  # fmt: skip
    return BookedFill(fill, ts, mid_x2)


def _sample(ts: int, net: str, lots: int = 0) -> EquitySample:
    value = Decimal(net)
    return EquitySample(ts, value, Decimal(0), Decimal(0), value, (lots,), (2000,))


def _result(fills: list[BookedFill], equity: list[EquitySample]) -> BacktestResult:
    return BacktestResult(
        config=BacktestConfig(sample_ms=1000),
        instruments=[INST],
        source="test",
        start_ns=0,
        end_ns=10 * S,
        fills=fills,
        orders=[],
        equity=equity,
        book_events=0,
        trade_events=0,
        refused=0,
        halted="",
    )


def test_drawdown_its_duration_and_the_ratios():
    """Net 0, 2, 1, -1, 3: the drop from 2 to -1 is 3, from t=1 s until t=4 s regained."""
    nets = ["0", "2", "1", "-1", "3"]
    result = _result([], [_sample(t * S, v) for t, v in enumerate(nets)])
    m = compute(result)
    assert m["max_drawdown"] == 3.0
    assert m["max_drawdown_duration_s"] == 3.0
    changes = [2.0, -1.0, -2.0, 4.0]
    mean = sum(changes) / 4
    std = math.sqrt(sum((c - mean) ** 2 for c in changes) / 3)
    assert m["risk_adjusted"]["sharpe_per_interval"] == pytest.approx(mean / std)
    assert m["risk_adjusted"]["sharpe"] == pytest.approx(mean / std * math.sqrt(365 * 86400))
    down = math.sqrt((1.0 + 4.0) / 4)
    assert m["risk_adjusted"]["sortino_per_interval"] == pytest.approx(mean / down)
    assert m["risk_adjusted"]["sampling_interval_s"] == 1.0


def test_round_trips_profit_factor_win_rate_holding_and_spread_capture():
    """Buy 2 @1000, sell 1 @1003 (+3 ticks), sell 1 @998 (-2 ticks): FIFO trades."""
    fills = [
        _fill(1, Side.BUY, 1000, 2, 0, 2002),  # mid 1001: edge 1 tick x 2
        _fill(2, Side.SELL, 1003, 1, 2 * S, 2004),  # mid 1002: edge 1 tick
        _fill(3, Side.SELL, 998, 1, 4 * S, 1998),  # mid 999: edge -1 tick
    ]
    result = _result(fills, [_sample(0, "0"), _sample(4 * S, "0.00001")])
    trips = round_trips(result)
    unit = Decimal("0.00001")
    assert trips == [(3 * unit, 1, 2 * S), (-2 * unit, 1, 4 * S)]
    m = compute(result)
    assert m["round_trips"] == 2
    assert m["win_rate"] == 0.5
    assert m["profit_factor"] == 1.5
    assert m["avg_holding_time_s"] == 3.0
    assert m["mm_decomposition"]["spread_capture"] == float(2 * unit)
    assert m["maker_share"] == 1.0
    assert m["volume_lots"] == 4
    assert m["turnover"] == float((2000 + 1003 + 998) * unit)

"""A backtest's results folder, and its self-contained HTML report.

```
<folder>/fills.parquet    every fill booked: times, ids, side, ticks/lots and exact text, fee, mid
<folder>/orders.parquet   every order: ids, side, type, price, size, filled, final state, times
<folder>/equity.parquet   the equity samples: realised, unrealised, fees, net, drawdown, inventory
<folder>/metrics.json     the figures (backtest.metrics), the exact config and the data range
<folder>/timing.json      wall time and events per second (the only file that varies run to run)
<folder>/report.html      with ``html=True``: figures and inline SVG charts, no external asset
```

Every file but ``timing.json`` is a function of the inputs, the parameters and the seed: the same
run writes the same bytes.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from backtest.capture import iso
from backtest.metrics import compute, equity_series
from backtest.runner import BacktestResult
from engine.core.events import Side
from engine.oms.order import TERMINAL

_FEE_UNIT_DECIMALS = 8


def _fee_text(units: int) -> str:
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**_FEE_UNIT_DECIMALS)
    return f"{sign}{whole}.{frac:0{_FEE_UNIT_DECIMALS}d}"


def fills_table(result: BacktestResult) -> pa.Table:
    """One row per booked fill."""
    grids = [(i.price_grid(), i.size_grid()) for i in result.instruments]
    rows = [b.fill for b in result.fills]
    return pa.table(
        {
            "booked_ns": pa.array([b.booked_ns for b in result.fills], pa.int64()),
            "exch_ts": pa.array([f.exch_ts for f in rows], pa.int64()),
            "instrument": pa.array([f.instrument for f in rows], pa.int32()),
            "symbol": pa.array([result.instruments[f.instrument].symbol for f in rows]),
            "client_order_id": pa.array([f.client_order_id for f in rows]),
            "trade_id": pa.array([f.trade_id for f in rows]),
            "side": pa.array(["buy" if f.side is Side.BUY else "sell" for f in rows]),
            "price_ticks": pa.array([f.price for f in rows], pa.int64()),
            "size_lots": pa.array([f.size for f in rows], pa.int64()),
            "price": pa.array([grids[f.instrument][0].to_text(f.price) for f in rows]),
            "size": pa.array([grids[f.instrument][1].to_text(f.size) for f in rows]),
            "fee_units": pa.array([f.fee for f in rows], pa.int64()),
            "fee": pa.array([_fee_text(f.fee) for f in rows]),
            "liquidity": pa.array([f.liquidity for f in rows]),
            "mid_x2": pa.array([b.mid_x2 for b in result.fills], pa.int64()),
        }
    )


def orders_table(result: BacktestResult) -> pa.Table:
    """One row per order the strategy sent or had refused."""
    orders = result.orders
    return pa.table(
        {
            "client_order_id": pa.array([o.client_order_id for o in orders]),
            "instrument": pa.array([o.instrument for o in orders], pa.int32()),
            "side": pa.array(["buy" if o.side is Side.BUY else "sell" for o in orders]),
            "order_type": pa.array([str(o.order_type) for o in orders]),
            "time_in_force": pa.array([str(o.time_in_force) for o in orders]),
            "price_ticks": pa.array([o.price_ticks for o in orders], pa.int64()),
            "size_lots": pa.array([o.size_lots for o in orders], pa.int64()),
            "filled_lots": pa.array([o.filled_lots for o in orders], pa.int64()),
            "status": pa.array([str(o.status) for o in orders]),
            "final": pa.array([o.status in TERMINAL for o in orders]),
            "reason": pa.array([o.reason or "" for o in orders]),
            "created_ns": pa.array(
                [o.history[0].ts_ns if o.history else 0 for o in orders], pa.int64()
            ),
            "last_ns": pa.array(
                [o.history[-1].ts_ns if o.history else 0 for o in orders], pa.int64()
            ),
            "events": pa.array([len(o.history) for o in orders], pa.int32()),
        }
    )


def equity_table(result: BacktestResult) -> pa.Table:
    """One row per equity sample."""
    ts, net, dd = equity_series(result)
    cols: dict[str, pa.Array] = {
        "ts_ns": pa.array(ts, pa.int64()),
        "realised": pa.array([float(s.realised) for s in result.equity], pa.float64()),
        "unrealised": pa.array([float(s.unrealised) for s in result.equity], pa.float64()),
        "fees": pa.array([float(s.fees) for s in result.equity], pa.float64()),
        "net": pa.array(net, pa.float64()),
        "drawdown": pa.array(dd, pa.float64()),
    }
    for inst in result.instruments:
        iid = inst.instrument_id
        cols[f"inventory_lots_{inst.symbol}"] = pa.array(
            [s.inventory_lots[iid] for s in result.equity], pa.int64()
        )
        cols[f"mid_x2_{inst.symbol}"] = pa.array([s.mid_x2[iid] for s in result.equity], pa.int64())
    return pa.table(cols)


def metrics_document(result: BacktestResult) -> dict[str, Any]:
    """The metrics with the exact config and data range."""
    return {
        "metrics": compute(result),
        "config": msgspec.to_builtins(result.config),
        "data": {
            "source": result.source,
            "instruments": [msgspec.to_builtins(i) for i in result.instruments],
            "start_ns": result.start_ns,
            "end_ns": result.end_ns,
            "start": iso(result.start_ns),
            "end": iso(result.end_ns),
        },
    }


def to_json(doc: object) -> str:
    """Stable JSON text (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def write_results(result: BacktestResult, folder: Path, *, html_report: bool = False) -> Path:
    """Write the results folder (see the module docstring); returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(fills_table(result), folder / "fills.parquet")
    pq.write_table(orders_table(result), folder / "orders.parquet")
    pq.write_table(equity_table(result), folder / "equity.parquet")
    doc = metrics_document(result)
    (folder / "metrics.json").write_text(to_json(doc))
    events = result.book_events + result.trade_events
    timing = {
        "wall_s": round(result.wall_s, 6),
        "events_per_s": round(events / result.wall_s, 1) if result.wall_s else 0.0,
        "book_events_per_s": round(result.book_events / result.wall_s, 1) if result.wall_s else 0.0,
    }
    (folder / "timing.json").write_text(to_json(timing))
    if html_report:
        (folder / "report.html").write_text(render_html(result, doc))
    return folder


# ---- HTML ---------------------------------------------------------------------------------------


def svg_line(
    xs: list[float], series: list[tuple[str, list[float], str]], *, title: str, w: int = 760
) -> str:
    """A line chart as inline SVG: one polyline per (name, values, colour), shared x axis."""
    h, pad = 220, 40
    values = [v for _, ys, _ in series for v in ys]
    if not xs or not values:
        return f"<p>{html.escape(title)}: no samples</p>"
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(values), max(values)
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    sx = (w - 2 * pad) / ((x1 - x0) or 1)
    sy = (h - 2 * pad) / (y1 - y0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">',
        f"<title>{html.escape(title)}</title>",
        f'<text x="{pad}" y="16" font-size="13">{html.escape(title)}</text>',
        f'<rect x="{pad}" y="{pad}" width="{w - 2 * pad}" height="{h - 2 * pad}" '
        'fill="none" stroke="#999"/>',
        f'<text x="2" y="{pad + 4}" font-size="10">{y1:.4g}</text>',
        f'<text x="2" y="{h - pad}" font-size="10">{y0:.4g}</text>',
    ]
    if y0 < 0 < y1:
        zy = h - pad - (0 - y0) * sy
        parts.append(f'<line x1="{pad}" x2="{w - pad}" y1="{zy:.1f}" y2="{zy:.1f}" stroke="#ccc"/>')
    for n, (name, ys, colour) in enumerate(series):
        points = " ".join(
            f"{pad + (x - x0) * sx:.1f},{h - pad - (y - y0) * sy:.1f}"
            for x, y in zip(xs, ys, strict=True)
        )
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'
        )
        parts.append(
            f'<text x="{w - pad - 160}" y="{16 + 12 * n}" font-size="11" fill="{colour}">'
            f"{html.escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _table(doc: dict[str, Any], prefix: str = "") -> list[str]:
    rows: list[str] = []
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += _table(value, f"{name}.")
        else:
            rows.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(str(value))}</td></tr>")
    return rows


def render_html(result: BacktestResult, doc: dict[str, Any]) -> str:
    """The report: figures, equity, drawdown and inventory charts, the config; no external asset."""
    ts, net, dd = equity_series(result)
    t0 = ts[0] if ts else 0
    xs = [(t - t0) / 1e9 for t in ts]
    charts = [
        svg_line(
            xs,
            [
                ("net", net, "#1f77b4"),
                ("realised", [float(s.realised) for s in result.equity], "#2ca02c"),
                ("fees", [-float(s.fees) for s in result.equity], "#d62728"),
            ],
            title="Equity (quote currency) over seconds from start",
        ),
        svg_line(xs, [("drawdown", dd, "#d62728")], title="Drawdown (quote currency)"),
    ]
    for inst in result.instruments:
        lots = [float(s.inventory_lots[inst.instrument_id]) for s in result.equity]
        charts.append(
            svg_line(xs, [(inst.symbol, lots, "#9467bd")], title=f"Inventory {inst.symbol} (lots)")
        )
    data = doc["data"]
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Backtest report</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:2px 8px;"
        "border-bottom:1px solid #eee}</style></head><body>"
        f"<h1>Backtest: {html.escape(result.config.strategy)}</h1>"
        f"<p>{html.escape(data['start'])} to {html.escape(data['end'])}, "
        f"{html.escape(result.source)}</p>"
        + "".join(f"<div>{c}</div>" for c in charts)
        + "<h2>Metrics</h2><table>"
        + "".join(_table(doc["metrics"]))
        + "</table><h2>Config</h2><pre>"
        + html.escape(to_json(doc["config"]))
        + "</pre></body></html>\n"
    )

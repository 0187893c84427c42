"""Walk-forward analysis: optimise in-sample, test out-of-sample, window after window.

The data's span is cut into rolling windows: ``in_sample_s`` of optimisation followed by
``out_of_sample_s`` of test, stepping by ``step_s`` (the out-of-sample length by default, so the
tests tile the span). In each window every point of the parameter space is run on the
in-sample part (a :func:`~backtest.sweep.sweep`), the best by ``objective`` is run on the
out-of-sample part, and both figures are kept. Earlier data always builds the books first (a
run's start only says when the strategy starts).

The summary sets in-sample against out-of-sample: the mean objective of each, and their ratio
(the walk-forward efficiency; well below 1 means the in-sample optimum was fitted to noise).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from backtest.catalog_source import SourceSpec, open_source
from backtest.config import BacktestConfig, ParamValue
from backtest.errors import BacktestSetupError
from backtest.sweep import SweepJob, run_point, sweep

S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Window:
    """One in-sample / out-of-sample pair of ranges, ns."""

    index: int
    is_start: int
    is_end: int
    oos_start: int
    oos_end: int


def windows(
    start_ns: int, end_ns: int, in_sample_s: float, out_of_sample_s: float, step_s: float = 0
) -> list[Window]:
    """Rolling windows over ``[start_ns, end_ns)``; the last test may not run past the end.

    Raises:
        BacktestSetupError: a length is not positive or not even one window fits.
    """
    if in_sample_s <= 0 or out_of_sample_s <= 0 or step_s < 0:
        raise BacktestSetupError(
            f"walk-forward lengths must be positive: in-sample {in_sample_s} s, "
            f"out-of-sample {out_of_sample_s} s, step {step_s} s"
        )
    ins, oos = int(in_sample_s * S), int(out_of_sample_s * S)
    step = int(step_s * S) or oos
    out: list[Window] = []
    at = start_ns
    while at + ins + oos <= end_ns:
        out.append(Window(len(out), at, at + ins, at + ins, at + ins + oos))
        at += step
    if not out:
        raise BacktestSetupError(
            f"no walk-forward window fits: {in_sample_s} s + {out_of_sample_s} s is longer than "
            f"the {(end_ns - start_ns) / S:.1f} s of data"
        )
    return out


def objective_of(metrics: Mapping[str, Any], objective: str) -> float:
    """A row's or metrics document's objective: a dotted path (``pnl.net``) or a sweep column."""
    value: Any = metrics
    for key in objective.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return float(value) if isinstance(value, int | float) else float("-inf")


def walk_forward(
    base: BacktestConfig,
    points: Sequence[Mapping[str, ParamValue]],
    source: SourceSpec,
    *,
    in_sample_s: float,
    out_of_sample_s: float,
    step_s: float = 0,
    objective: str = "net",
    executor: object = "local",
    workers: int = 2,
    on_window: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Every window's best in-sample parameters and their out-of-sample result, and a summary.

    ``objective`` names a sweep column (``net``, ``sharpe``, ...), higher is better.
    """
    first, last = open_source(source).span()
    start = base.start_ns or first
    end = base.end_ns or last + 1
    rows: list[dict[str, Any]] = []
    for w in windows(start, end, in_sample_s, out_of_sample_s, step_s):
        inside = msgspec.structs.replace(base, start_ns=w.is_start, end_ns=w.is_end)
        tried = sweep(inside, points, source, executor=executor, workers=workers)
        ok = [r for r in tried if r["status"] != "failed"]
        if not ok:
            rows.append({"window": w.index, "error": "every in-sample point failed"})
            continue
        best = max(ok, key=lambda r: (objective_of(r, objective), -int(r["point"])))
        params = dict(points[int(best["point"])])
        outside = msgspec.structs.replace(
            base, params={**base.params, **params}, start_ns=w.oos_start, end_ns=w.oos_end
        )
        oos = run_point(SweepJob(0, outside, source))
        row = {
            "window": w.index,
            "is_start_ns": w.is_start,
            "is_end_ns": w.is_end,
            "oos_start_ns": w.oos_start,
            "oos_end_ns": w.oos_end,
            "best_params": params,
            "in_sample": objective_of(best, objective),
            "out_of_sample": objective_of(_flat(oos), objective),
        }
        rows.append(row)
        if on_window is not None:
            on_window(row)
    done = [r for r in rows if "error" not in r]
    mean_is = sum(r["in_sample"] for r in done) / len(done) if done else 0.0
    mean_oos = sum(r["out_of_sample"] for r in done) / len(done) if done else 0.0
    return {
        "objective": objective,
        "in_sample_s": in_sample_s,
        "out_of_sample_s": out_of_sample_s,
        "windows": rows,
        "summary": {
            "mean_in_sample": mean_is,
            "mean_out_of_sample": mean_oos,
            "efficiency": mean_oos / mean_is if mean_is else 0.0,
            "windows": len(done),
        },
    }


def _flat(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """A metrics document with the sweep's headline columns added at the top."""
    from backtest.sweep import headline

    return {**metrics, **headline(metrics)}

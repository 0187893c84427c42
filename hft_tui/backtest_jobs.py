"""Backtests the workstation starts: the form read into a job, and the job run in a worker process.

:func:`build_job` reads the backtest screen's form (data, strategy parameters, start and end) into
a :class:`BacktestJob`: a capture stem or day file, or ``catalog:<folder>``; parameters as
``key=value`` pairs; start and end as ISO-8601, integer nanoseconds, or ``+90s`` / ``+5m`` /
``+1h`` from the data's first event (resolved in the worker, which opens the data). Everything
wrong with the form is a :class:`BacktestFormError` naming the field.

:func:`run_job` is what a worker process runs (:mod:`backtest.runner` over the data, then
:func:`backtest.metrics.compute`); it returns the headline figures, the equity curve thinned to
at most :data:`CURVE_POINTS` points, and the range actually replayed, all plain values so they
cross the process boundary. :func:`worker_pool` is the pool the screen submits to (through
:func:`submit`): ``spawn``ed processes, so nothing of the UI's threads is forked.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import resource_tracker
from pathlib import Path
from typing import Any

import msgspec

from engine.errors import EngineError

#: most equity points a finished run hands back (the chart is at most a screen wide)
CURVE_POINTS = 400
_OFFSET = re.compile(r"^\+(\d+(?:\.\d+)?)([smh])$")
_UNIT_NS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}


class BacktestFormError(EngineError, ValueError):
    """The backtest form cannot make a run; the message names the field and the problem."""


@dataclass(frozen=True, slots=True)
class BacktestForm:
    """What the operator typed."""

    data: str
    """A capture stem or day file (several separated by commas), or ``catalog:<folder>``."""
    params: str = ""
    """``key=value`` pairs separated by spaces."""
    start: str = ""
    """ISO-8601, integer ns, ``+<n>s|m|h`` from the data's start; empty: the data's start."""
    end: str = ""
    """The same forms; empty: the data's end."""
    strategy: str = "market_maker"


class BacktestJob(msgspec.Struct, frozen=True, kw_only=True):
    """One run to do in a worker (picklable)."""

    number: int
    """The screen's run number."""
    config: Any
    """The :class:`~backtest.config.BacktestConfig` (typed Any to keep the UI import light)."""
    spec: Any
    """The :class:`~backtest.catalog_source.SourceSpec` the worker opens."""
    start_offset_ns: int = -1
    """When >= 0: start this long after the data's first event (overrides the config's)."""
    end_offset_ns: int = -1
    """When >= 0: end this long after the data's first event."""


def _when(text: str, what: str) -> tuple[int, int]:
    """(absolute ns, offset ns): one of them is the answer, the other 0 / -1."""
    text = text.strip()
    match = _OFFSET.match(text)
    if match:
        return 0, int(float(match.group(1)) * _UNIT_NS[match.group(2)])
    from hft_tui.cli_backtest import parse_time

    try:
        return parse_time(text, what), -1
    except ValueError as exc:
        raise BacktestFormError(f"{exc}; or write +90s, +5m, +1h from the data's start") from None


def _spec(data: str) -> Any:  # noqa: ANN401 - a SourceSpec, imported on demand
    from backtest.catalog_source import SourceSpec

    text = data.strip()
    if not text:
        raise BacktestFormError("data: give a capture (e.g. .../spot/btcusdt) or catalog:<folder>")
    if text.startswith("catalog:"):
        root = text.removeprefix("catalog:").strip()
        if not Path(root).is_dir():
            raise BacktestFormError(f"data: catalog folder {root!r} does not exist")
        return SourceSpec(kind="catalog", root=root)
    from backtest.capture import capture_files
    from backtest.errors import DataRangeError

    paths = [p.strip() for p in text.split(",") if p.strip()]
    for path in paths:
        try:
            capture_files(Path(path))
        except DataRangeError as exc:
            raise BacktestFormError(f"data: {exc}") from None
    return SourceSpec(kind="capture", paths=paths)


def build_job(form: BacktestForm, number: int) -> BacktestJob:
    """The run the form describes.

    Raises:
        BacktestFormError: a field is empty where it must not be, or does not parse; the
            parameters are checked against the strategy's ranges here too.
    """
    from backtest.config import BacktestConfig, parse_params
    from engine.strategy.base import ParamsError, decode_params
    from engine.strategy.registry import REFERENCE

    spec = _spec(form.data)
    try:
        params = parse_params(form.params.split())
    except ValueError as exc:
        raise BacktestFormError(f"params: {exc}") from None
    kind = form.strategy.strip()
    if kind not in REFERENCE:
        raise BacktestFormError(f"strategy: {kind!r} is not one of {', '.join(REFERENCE)}")
    try:
        decode_params(REFERENCE[kind].params_type, params, kind)
    except ParamsError as exc:
        raise BacktestFormError(f"params: {exc}") from None
    start, start_offset = _when(form.start, "start") if form.start.strip() else (0, -1)
    end, end_offset = _when(form.end, "end") if form.end.strip() else (0, -1)
    if end and start and end <= start:
        raise BacktestFormError("end: it must be after the start")
    if end_offset >= 0 and start_offset >= 0 and end_offset <= start_offset:
        raise BacktestFormError("end: it must be after the start")
    try:
        config = msgspec.convert(
            {"strategy": kind, "params": params, "start_ns": start, "end_ns": end},
            BacktestConfig,
        )
    except msgspec.ValidationError as exc:
        raise BacktestFormError(f"backtest settings: {exc}") from None
    return BacktestJob(
        number=number,
        config=config,
        spec=spec,
        start_offset_ns=start_offset,
        end_offset_ns=end_offset,
    )


def _thin(points: list[tuple[int, str]], most: int) -> list[tuple[int, str]]:
    if len(points) <= most:
        return points
    step = len(points) / most
    picked = [points[int(n * step)] for n in range(most - 1)]
    return [*picked, points[-1]]


def run_job(job: BacktestJob) -> dict[str, Any]:
    """Run one backtest (in a worker process); plain values only.

    A run that fails answers ``{"error": "<kind>: <why>"}`` instead of raising: an exception of
    the backtest package need not survive the trip back between processes.
    """
    logging.disable(logging.WARNING)  # per-order warnings would flood the worker's stderr
    try:
        return _run(job)
    except Exception as exc:  # every failure goes back to the screen as text
        return {"error": f"{type(exc).__name__}: {exc}"}


def resolved_config(job: BacktestJob, source: Any) -> Any:  # noqa: ANN401 - backtest types
    """The job's :class:`~backtest.config.BacktestConfig` with its offsets made absolute.

    ``source`` is the opened :class:`~backtest.source.Source` the offsets count from.
    """
    config = job.config
    if job.start_offset_ns >= 0 or job.end_offset_ns >= 0:
        first, _ = source.span()
        changes: dict[str, int] = {}
        if job.start_offset_ns >= 0:
            changes["start_ns"] = first + job.start_offset_ns
        if job.end_offset_ns >= 0:
            changes["end_ns"] = first + job.end_offset_ns
        config = msgspec.structs.replace(config, **changes)
    return config


def _run(job: BacktestJob) -> dict[str, Any]:
    from backtest.catalog_source import open_source
    from backtest.metrics import compute
    from backtest.runner import run_backtest
    from backtest.sweep import headline

    source = open_source(job.spec)
    result = run_backtest(resolved_config(job, source), source)
    metrics = compute(result)
    curve = [(s.ts_ns, f"{s.net:f}") for s in result.equity]
    return {
        "headline": headline(metrics),
        "equity": _thin(curve, CURVE_POINTS),
        "start_ns": result.start_ns,
        "end_ns": result.end_ns,
        "source": result.source,
        "halted": result.halted,
        "wall_s": result.wall_s,
    }


@contextmanager
def _real_stderr() -> Iterator[None]:
    """The process's own stderr in ``sys.stderr`` for a moment.

    Textual replaces ``sys.stderr`` with a capture that has no file descriptor, and starting a
    process (a worker, or multiprocessing's resource tracker) hands stderr's descriptor on.
    """
    held, sys.stderr = sys.stderr, sys.__stderr__ or sys.stderr
    try:
        yield
    finally:
        sys.stderr = held


def worker_pool(workers: int = 2) -> ProcessPoolExecutor:
    """Worker processes for backtests, started with ``spawn`` (the UI runs threads)."""
    with _real_stderr():
        resource_tracker.ensure_running()
        return ProcessPoolExecutor(
            max_workers=max(1, workers), mp_context=multiprocessing.get_context("spawn")
        )


def submit(pool: ProcessPoolExecutor, job: BacktestJob) -> Future[dict[str, Any]]:
    """Hand ``job`` to ``pool``; the pool starts its worker processes here."""
    with _real_stderr():
        return pool.submit(run_job, job)

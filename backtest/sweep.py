"""Parameter sweeps: grid or random search, on a local process pool or a Dask cluster.

Each point is one backtest (:func:`run_point`, which opens the data itself from a picklable
:class:`~backtest.catalog_source.SourceSpec`), so workers need only the same data at the same
paths. Results are one table, a row per point: the parameters (``p_<name>``), the headline
figures, ``status`` (``ok``, ``retried`` or ``failed``), ``attempts`` and ``error``.

A point whose worker crashed (an exception, or the worker process dying) is retried once; if it
fails again its row says why and the sweep goes on. A process that dies breaks a local pool, so
the pool is rebuilt and every point in flight then is charged one attempt.

``executor`` is ``local`` (:class:`concurrent.futures.ProcessPoolExecutor`, ``workers``
processes) or a Dask scheduler address (``tcp://host:8786``); a ``distributed.Client`` may be
passed as well.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, cast

import msgspec
import pyarrow as pa

from backtest.catalog_source import SourceSpec, open_source
from backtest.config import BacktestConfig, ParamValue, parse_value
from backtest.metrics import compute
from backtest.runner import run_backtest

log = logging.getLogger("backtest.sweep")

HEADLINE = (
    ("net", ("pnl", "net")),
    ("gross", ("pnl", "gross")),
    ("fees", ("pnl", "fees")),
    ("sharpe", ("risk_adjusted", "sharpe")),
    ("sortino", ("risk_adjusted", "sortino")),
    ("max_drawdown", ("max_drawdown",)),
    ("fills", ("fills",)),
    ("orders_sent", ("orders_sent",)),
    ("fill_ratio", ("fill_ratio",)),
    ("maker_share", ("maker_share",)),
    ("turnover", ("turnover",)),
    ("spread_capture", ("mm_decomposition", "spread_capture")),
)
"""Row column -> path in the metrics document."""


class SweepSpecError(ValueError):
    """A sweep's parameter space is written wrong; the message names the entry."""


def parse_space(entries: Sequence[str]) -> dict[str, list[ParamValue]]:
    """``name=v1,v2,...`` (a list) or ``name=lo:hi`` / ``lo:hi:step`` (an integer range).

    Raises:
        SweepSpecError: an entry has no ``=``, no values, or a bad range.
    """
    space: dict[str, list[ParamValue]] = {}
    for entry in entries:
        name, sep, text = entry.partition("=")
        if not sep or not name.strip() or not text.strip():
            raise SweepSpecError(f"sweep entry {entry!r} is not name=v1,v2 or name=lo:hi[:step]")
        if ":" in text:
            parts = text.split(":")
            try:
                lo, hi, *rest = (int(p) for p in parts)
            except ValueError:
                raise SweepSpecError(f"sweep range {entry!r}: bounds must be integers") from None
            step = rest[0] if rest else 1
            if len(parts) > 3 or step <= 0 or hi < lo:
                raise SweepSpecError(
                    f"sweep range {entry!r}: want lo:hi[:step], lo <= hi, step > 0"
                )
            space[name.strip()] = list(range(lo, hi + 1, step))
        else:
            space[name.strip()] = [parse_value(v.strip()) for v in text.split(",") if v.strip()]
    return space


def grid(space: Mapping[str, Sequence[ParamValue]]) -> list[dict[str, ParamValue]]:
    """Every combination, in the order the names and values were given."""
    names = list(space)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*space.values())]


def random_points(
    space: Mapping[str, Sequence[ParamValue]], samples: int, seed: int
) -> list[dict[str, ParamValue]]:
    """``samples`` distinct combinations drawn with a seeded generator (all when fewer exist)."""
    everything = grid(space)
    if samples >= len(everything):
        return everything
    draw = random.Random(seed)  # noqa: S311 - a seeded draw, not a secret
    picks = draw.sample(range(len(everything)), samples)
    return [everything[i] for i in sorted(picks)]


@dataclass(frozen=True, slots=True)
class SweepJob:
    """One point of a sweep."""

    index: int
    config: BacktestConfig
    source: SourceSpec


class _QuietLogging:
    """Warnings off while any point runs in this process; the caller's level back after the last.

    Thread workers share the process's logging: each point saving and restoring the level on its
    own would let a point that started second restore the first one's "off" after both ended.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._previous = 0

    def __enter__(self) -> None:
        with self._lock:
            if not self._running:
                self._previous = logging.root.manager.disable
                logging.disable(logging.WARNING)  # per-order OMS warnings would flood stderr
            self._running += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._running -= 1
            if not self._running:
                logging.disable(self._previous)


_QUIET = _QuietLogging()


def run_point(job: SweepJob) -> dict[str, Any]:
    """Run one point (in a worker): its metrics document."""
    with _QUIET:
        result = run_backtest(job.config, open_source(job.source))
    return compute(result)


@dataclass(slots=True)
class _Track:
    job: SweepJob
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


def headline(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The figures a sweep row keeps."""
    row: dict[str, Any] = {}
    for column, path in HEADLINE:
        value: Any = metrics
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        row[column] = float(value) if isinstance(value, int | float) else None
    return row


def _row(track: _Track, metrics: Mapping[str, Any] | None) -> dict[str, Any]:
    params = track.job.config.params
    row: dict[str, Any] = {"point": track.job.index}
    row.update({f"p_{k}": v for k, v in params.items()})
    if metrics is not None:
        row.update(headline(metrics))
        row["status"] = "ok" if track.attempts == 1 else "retried"
    else:
        row.update({column: None for column, _ in HEADLINE})
        row["status"] = "failed"
    row["attempts"] = track.attempts
    row["error"] = " | ".join(track.errors)
    return row


def sweep(
    base: BacktestConfig,
    points: Sequence[Mapping[str, ParamValue]],
    source: SourceSpec,
    *,
    executor: object = "local",
    workers: int = 2,
    run: Callable[[SweepJob], dict[str, Any]] = run_point,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every point (``base`` with the point's parameters laid over), rows in point order.

    Args:
        base: the config every point starts from.
        points: parameter overrides, one mapping per point.
        source: the data, opened by each worker.
        executor: ``local`` or a Dask scheduler address or client.
        workers: local pool size.
        run: the per-point function (module level, picklable).
        on_done: called with each row as it finishes (progress bars).
    """
    configs = [msgspec.structs.replace(base, params={**base.params, **p}) for p in points]
    return run_configs(
        configs, source, executor=executor, workers=workers, run=run, on_done=on_done
    )


def run_configs(
    configs: Sequence[BacktestConfig],
    source: SourceSpec,
    *,
    executor: object = "local",
    workers: int = 2,
    run: Callable[[SweepJob], dict[str, Any]] = run_point,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run each config as one point (see :func:`sweep`), rows in config order."""
    tracks = [_Track(SweepJob(i, cfg, source)) for i, cfg in enumerate(configs)]
    if executor == "local":
        rows = _local(tracks, workers, run, on_done)
    else:
        rows = _dask(tracks, executor, run, on_done)
    return sorted(rows, key=lambda r: int(r["point"]))


def _settle(
    track: _Track, future: Future[dict[str, Any]], retry: Callable[[_Track], None]
) -> dict[str, Any] | None:
    """A finished attempt: its row, or None when it is being retried."""
    track.attempts += 1
    try:
        return _row(track, future.result())
    except Exception as exc:  # a crashed point is reported, not raised: the sweep goes on
        track.errors.append(f"attempt {track.attempts}: {type(exc).__name__}: {exc}")
        log.warning("sweep point failed", extra={"point": track.job.index, "error": repr(exc)})
        if track.attempts < 2:
            retry(track)
            return None
        return _row(track, None)


def _local(
    tracks: list[_Track],
    workers: int,
    run: Callable[[SweepJob], dict[str, Any]],
    on_done: Callable[[dict[str, Any]], None] | None,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    todo: deque[_Track] = deque(tracks)
    while todo:  # one pass per pool: a worker that dies breaks the pool, the next pass rebuilds it
        with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
            inflight: dict[Future[dict[str, Any]], _Track] = {}
            while todo or inflight:
                try:
                    while todo:
                        track = todo.popleft()
                        inflight[pool.submit(run, track.job)] = track
                except BrokenProcessPool:
                    todo.appendleft(track)
                    if not inflight:
                        break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for future in done:
                    row = _settle(inflight.pop(future), future, todo.append)
                    if row is not None:
                        rows.append(row)
                        if on_done is not None:
                            on_done(row)
    return rows


def _dask(
    tracks: list[_Track],
    executor: object,
    run: Callable[[SweepJob], dict[str, Any]],
    on_done: Callable[[dict[str, Any]], None] | None,
) -> list[dict[str, Any]]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    client: Client = (
        Client(executor)  # type: ignore[no-untyped-call]
        if isinstance(executor, str)
        else cast(Client, executor)
    )
    rows: list[dict[str, Any]] = []
    try:
        by_key: dict[object, _Track] = {}
        futures = []
        for t in tracks:
            future = client.submit(run, t.job, pure=False)
            by_key[future.key] = t
            futures.append(future)
        queue = dask_completed(futures)  # type: ignore[no-untyped-call]

        def retry(track: _Track) -> None:
            future = client.submit(run, track.job, pure=False)
            by_key[future.key] = track
            queue.add(future)  # type: ignore[no-untyped-call]

        for future in queue:
            row = _settle(by_key[future.key], future, retry)
            if row is not None:
                rows.append(row)
                if on_done is not None:
                    on_done(row)
    finally:
        if isinstance(executor, str):
            client.close()  # type: ignore[no-untyped-call]
    return rows


def table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """The rows as one Arrow table (columns in first-seen order)."""
    rows = list(rows)
    columns: dict[str, list[Any]] = {}
    for row in rows:
        for key in row:
            columns.setdefault(key, [])
    for row in rows:
        for key, values in columns.items():
            values.append(row.get(key))
    return pa.table({k: pa.array(v) for k, v in columns.items()})

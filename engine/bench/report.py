"""Benchmark results: rows, ratios against peers, the JSON report and its readable table.

A subject's run returns a :class:`SubjectRun`: its result rows (one per contestant and metric,
summarised over repetitions) and the name of our own contestant. :func:`build_report` adds the
machine and library versions and the ratio of our median to each peer's, metric by metric.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import msgspec

#: distributions whose versions every report records, when installed
_DISTRIBUTIONS = (
    "hft-tui",
    "msgspec",
    "numpy",
    "numba",
    "orjson",
    "order-book",
    "sortedcontainers",
    "faster-fifo",
)


class Result(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One contestant's figure for one metric, summarised over repetitions.

    ``missing`` appears in the JSON only on rows of contestants that could not be measured.
    """

    subject: str
    """What is benchmarked, e.g. ``ipc``."""
    contestant: str
    """Who is measured: ours (e.g. ``ring``) or a peer (e.g. ``mp.Queue``)."""
    metric: str
    """What is measured, e.g. ``throughput`` or ``latency_p99``."""
    unit: str
    """Unit of the figures, e.g. ``records/s`` or ``us``."""
    median: float
    """Median over repetitions."""
    min: float
    """Smallest repetition."""
    max: float
    """Largest repetition."""
    reps: int
    """Repetitions measured (warm-up excluded)."""
    missing: str | None = None
    """Why this contestant was not measured (a peer not installed, say); the figures are 0."""


class Ratio(msgspec.Struct, frozen=True, kw_only=True):
    """Our median over a peer's for one metric: above 1 is better for rates, worse for times."""

    subject: str
    metric: str
    ours_over: str
    """The peer contestant in the denominator."""
    value: float


class SubjectRun(msgspec.Struct, frozen=True, kw_only=True):
    """What one subject's ``run`` returns."""

    subject: str
    ours: str
    """Our contestant's name; every other contestant is a peer."""
    input: str
    """What was fed in: sizes, counts, rates, repetitions."""
    results: list[Result]


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """The whole JSON document ``python -m engine.bench --json`` prints."""

    machine: dict[str, str | int | float]
    versions: dict[str, str]
    input: str
    results: list[Result]
    ratios: list[Ratio]


def summarize(
    subject: str, contestant: str, metric: str, unit: str, samples: Sequence[float]
) -> Result:
    """Median, min and max of one metric's repetitions.

    Raises:
        ValueError: there are no samples.
    """
    if not samples:
        raise ValueError(f"{subject}/{contestant}/{metric}: no samples")
    return Result(
        subject=subject,
        contestant=contestant,
        metric=metric,
        unit=unit,
        median=float(statistics.median(samples)),
        min=float(min(samples)),
        max=float(max(samples)),
        reps=len(samples),
    )


def missing(subject: str, contestant: str, metric: str, unit: str, reason: str) -> Result:
    """A row for a contestant that could not be measured, saying why."""
    return Result(
        subject=subject,
        contestant=contestant,
        metric=metric,
        unit=unit,
        median=0.0,
        min=0.0,
        max=0.0,
        reps=0,
        missing=reason,
    )


def ratios(run: SubjectRun) -> list[Ratio]:
    """Our median over each peer's, for every metric both measured (peers with a zero skipped)."""
    ours = {r.metric: r for r in run.results if r.contestant == run.ours}
    out = []
    for peer in run.results:
        mine = ours.get(peer.metric)
        if (
            peer.contestant == run.ours
            or mine is None
            or peer.median == 0
            or peer.missing
            or mine.missing
        ):
            continue
        out.append(
            Ratio(
                subject=run.subject,
                metric=peer.metric,
                ours_over=peer.contestant,
                value=mine.median / peer.median,
            )
        )
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, str | int | float]:
    """The machine the figures came from, including how busy it was when the run started."""
    info: dict[str, str | int | float] = {
        "system": platform.system(),
        "release": platform.release(),
        "arch": platform.machine(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count() or 0,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    if hasattr(os, "getloadavg"):
        info["loadavg_1m"] = round(os.getloadavg()[0], 2)
    return info


def versions() -> dict[str, str]:
    """Python and the versions of the libraries that shape the figures."""
    out = {"python": f"{platform.python_implementation()} {sys.version.split()[0]}"}
    for dist in _DISTRIBUTIONS:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def build_report(
    runs: Sequence[SubjectRun], machine: dict[str, str | int | float] | None = None
) -> Report:
    """One report over every subject run, with ratios of ours to each peer.

    Args:
        runs: what each subject returned.
        machine: :func:`machine_info` taken before the runs (so the load average is not ours);
            taken now when omitted.
    """
    return Report(
        machine=machine if machine is not None else machine_info(),
        versions=versions(),
        input="; ".join(f"{run.subject}: {run.input}" for run in runs),
        results=[row for run in runs for row in run.results],
        ratios=[ratio for run in runs for ratio in ratios(run)],
    )


def to_json(report: Report) -> bytes:
    """The report as indented JSON."""
    return msgspec.json.format(msgspec.json.encode(report), indent=2)


def _figure(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def render_table(report: Report) -> str:
    """The report as aligned text for a terminal."""
    header = ("subject", "contestant", "metric", "unit", "median", "min", "max", "reps")
    rows = [header] + [
        (
            r.subject,
            r.contestant,
            r.metric,
            r.unit,
            _figure(r.median),
            _figure(r.min),
            _figure(r.max),
            str(r.reps),
        )
        for r in report.results
        if not r.missing
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = {4, 5, 6, 7}
    lines = [
        "  ".join(
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    absent = [r for r in report.results if r.missing]
    if absent:
        lines.append("")
        lines.extend(
            f"{r.subject} {r.contestant} {r.metric}: missing ({r.missing})" for r in absent
        )
    if report.ratios:
        lines.append("")
        lines.extend(
            f"{q.subject} {q.metric}: ours / {q.ours_over} = {q.value:.3g}" for q in report.ratios
        )
    machine = ", ".join(f"{k}={v}" for k, v in report.machine.items())
    libs = ", ".join(f"{k} {v}" for k, v in report.versions.items())
    lines += ["", f"machine: {machine}", f"versions: {libs}", f"input: {report.input}"]
    return "\n".join(lines) + "\n"

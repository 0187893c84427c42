"""The reliability table: one row per fault the suite injected, and the command that prints it.

``tests/reliability`` records a :class:`FaultRow` for every fault test (what was injected, which
part of the engine noticed and how fast, how long until the state was right again, and what was
lost, which must be nothing). ``hft-tui reliability-report`` runs that suite with pytest and
prints the rows as a table; the suite's own terminal summary prints the same table.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import msgspec

REPORT_ENV = "HFT_RELIABILITY_JSON"
"""When set, the suite writes its rows as JSON to this path."""


class FaultRow(msgspec.Struct, frozen=True, kw_only=True):
    """One injected fault and what the engine made of it."""

    fault: str
    detected_by: str
    """The part of the engine that noticed (counter, alert, state), or "-" when nothing had to."""
    detected_s: float | None
    """Seconds from injecting the fault to noticing it."""
    recovered_s: float | None
    """Seconds from injecting the fault to the state being right again."""
    orders_lost: int | None
    """Orders or fills the engine got wrong or lost (None: the test did not get that far)."""
    data_lost: int | None
    """Book updates, journal records or other data lost for good (None: not reached)."""
    outcome: str
    """The test's outcome: passed, failed or skipped (with its reason)."""


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)


def render_table(rows: Sequence[FaultRow]) -> str:
    """The rows as a plain-text table, one line per fault."""
    head = ("fault", "detected in", "after", "recovered in", "orders lost", "data lost", "test")
    lines = [
        (
            r.fault,
            r.detected_by,
            _seconds(r.detected_s),
            _seconds(r.recovered_s),
            _count(r.orders_lost),
            _count(r.data_lost),
            r.outcome,
        )
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(head, *lines, strict=True)]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (head, tuple("-" * w for w in widths), *lines)
    ]
    return "\n".join(out)


def load_rows(path: Path) -> list[FaultRow]:
    """Rows written by the suite (an empty list when it wrote none)."""
    if not path.exists() or not path.stat().st_size:
        return []
    return msgspec.json.decode(path.read_bytes(), type=list[FaultRow])


def write_rows(path: Path, rows: Sequence[FaultRow]) -> None:
    """Write rows for :func:`load_rows`."""
    path.write_bytes(msgspec.json.encode(list(rows)))


def run_report(root: Path, extra: Sequence[str] = ()) -> int:
    """Run ``pytest tests/reliability`` under ``root``, print the table; pytest's exit code."""
    with tempfile.TemporaryDirectory(prefix="hft-reliability-") as tmp:
        out = Path(tmp) / "rows.json"
        env = {**os.environ, REPORT_ENV: str(out)}
        cmd = [sys.executable, "-m", "pytest", "tests/reliability", "-q", "-p", "no:cacheprovider"]
        code = subprocess.call([*cmd, *extra], cwd=root, env=env)  # noqa: S603 (our own suite)
        rows = load_rows(out)
    if rows:
        print(render_table(rows))  # noqa: T201 (the command's output)
    else:
        print("no fault rows were recorded", file=sys.stderr)  # noqa: T201
    return code

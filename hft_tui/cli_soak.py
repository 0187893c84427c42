"""``hft-tui soak`` and ``hft-tui reliability-report``: the long run and the fault table.

``soak`` runs :func:`engine.soak.run_soak` and prints its JSON lines (one per sample, then the
summary); it exits 1 when the summary names a problem. ``reliability-report`` runs the fault
suite (``pytest tests/reliability``) and prints its table (:mod:`hft_tui.reliability`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

REPO = Path(__file__).resolve().parents[1]


def soak(
    minutes: Annotated[float, typer.Option("--minutes", help="How long to trade.")] = 30.0,
    seconds: Annotated[
        float | None, typer.Option("--seconds", help="Run time in seconds instead (tests).")
    ] = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between samples.")] = 60.0,
    warmup: Annotated[
        float | None,
        typer.Option("--warmup", help="Seconds not judged (default: a fifth, at most 300)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also append the JSON lines to this file.")
    ] = None,
) -> None:
    """Run the engine on the local venue with the market maker; sample RSS, fds, segments, drops."""
    from engine.soak import SoakError, run_soak

    duration = seconds if seconds is not None else minutes * 60
    sink = out.open("a") if out is not None else None

    def emit(line: str) -> None:
        typer.echo(line)
        if sink is not None:
            sink.write(line + "\n")
            sink.flush()

    try:
        summary = run_soak(duration, interval_s=interval, warmup_s=warmup, emit=emit)
    except SoakError as exc:
        typer.echo(f"soak failed: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        if sink is not None:
            sink.close()
    for problem in summary.problems:
        typer.echo(f"soak: {problem}", err=True)
    raise typer.Exit(0 if summary.passed else 1)


def reliability_report(
    pytest_args: Annotated[
        list[str] | None, typer.Argument(help="Extra pytest arguments, e.g. -k redis.")
    ] = None,
) -> None:
    """Run the fault-injection suite (tests/reliability) and print its table."""
    from hft_tui.reliability import run_report

    if not (REPO / "tests" / "reliability").is_dir():
        typer.echo(f"the reliability suite is not at {REPO / 'tests' / 'reliability'}", err=True)
        raise typer.Exit(2)
    raise typer.Exit(run_report(REPO, pytest_args or ()))

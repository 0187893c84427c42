"""``python -m engine.bench [SUBJECT...] [--quick] [--json]``: run benchmarks, print one report.

``hft-tui bench`` calls :func:`main`. Progress goes to stderr; the report (a table, or with
``--json`` one JSON document) goes to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time

from engine.bench import SUBJECTS, runner
from engine.bench.report import build_report, machine_info, render_table, to_json


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hft-tui bench",
        description="Race our IPC, books and parsers against their peers on this machine.",
    )
    parser.add_argument(
        "subjects",
        nargs="*",
        metavar="SUBJECT",
        help=f"what to benchmark: {', '.join(SUBJECTS)} (default: all)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer and smaller repetitions (well under a minute)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the chosen subjects and print the report.

    Returns:
        0 on success, 2 on a usage error (unknown subject or option).
    """
    parser = _parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else 2
    subjects: list[str] = args.subjects or list(SUBJECTS)
    unknown = [s for s in subjects if s not in SUBJECTS]
    if unknown:
        sys.stderr.write(
            f"unknown benchmark subject(s): {', '.join(unknown)}; "
            f"choose from {', '.join(SUBJECTS)}\n"
        )
        return 2
    machine = machine_info()  # before the runs, so the load average is everyone else's
    runs = []
    for subject in subjects:
        started = time.monotonic()
        runs.append(runner(subject)(quick=args.quick))
        sys.stderr.write(f"[bench] {subject} took {time.monotonic() - started:.1f} s\n")
    report = build_report(runs, machine)
    if args.json:
        sys.stdout.write(to_json(report).decode() + "\n")
    else:
        sys.stdout.write(render_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmarks kept apart from the tests: each subject races our code against its peers.

A subject is a module ``engine.bench.<subject>`` with ``run(quick: bool) -> SubjectRun``; add it to
:data:`SUBJECTS` and ``python -m engine.bench <subject>`` (and ``hft-tui bench``) runs it.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from engine.bench.report import SubjectRun


class SubjectRunner(Protocol):
    """A subject's entry point."""

    def __call__(self, quick: bool) -> SubjectRun:
        """Measure every contestant; ``quick`` trades repetitions and sizes for a short run."""
        ...


SUBJECTS: dict[str, str] = {
    "ipc": "engine.bench.ipc",
    "parse": "engine.bench.parse",
    "book": "engine.bench.book",
    "risk": "engine.bench.risk",
    "kill": "engine.bench.kill",
    "matching": "engine.bench.matching",
    "gateway": "engine.bench.gateway",
    "strategy": "engine.bench.strategy",
    "ui": "hft_tui.bench.ui",  # the UI measures itself; the engine never imports it
    "tick-to-order": "engine.bench.tick_to_order",
    "scale": "engine.bench.scale",
    "memory": "engine.bench.memory",
    "backtest": "engine.bench.backtest",
    "feeds": "engine.bench.feeds",
    "burst": "hft_tui.bench.burst",  # drives the engine through the UI bridge, as a UI would
}
"""Subject name -> module exposing ``run``; the order here is the order they run in."""


def runner(subject: str) -> SubjectRunner:
    """The ``run`` function of a registered subject, imported on demand.

    Raises:
        KeyError: the subject is not registered.
    """
    module = importlib.import_module(SUBJECTS[subject])
    run: SubjectRunner = module.run
    return run

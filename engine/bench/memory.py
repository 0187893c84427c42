"""The ``memory`` benchmark: resident memory of an engine core carrying 50 instruments over time.

A fresh child process (``python -m engine.bench.memory SECONDS``, so nothing the harness loaded
counts) builds 50 instruments' parsers, syncs and books from the captured Binance spot session
and replays their depth diffs and trades in real time (:mod:`engine.bench.realtime`), sampling
its own RSS every second. Metrics, in MB: ``rss_start`` (books built, before the first frame),
``rss_end``, ``rss_max``, and ``growth`` in MB per minute (a least-squares slope over the second
half of the run, so start-up allocation does not count). ``harness`` is the RSS before the 50
instruments exist: the interpreter with numpy, numba and the compiled kernels, plus the replay's
input (the captured frames and the run's schedule, held in memory here where the engine would
read them off a socket); ``engine_end`` is ``rss_end`` less ``harness``, what the instruments
themselves came to. The goal is under 300 MB and flat; ``--quick`` runs 10 s instead of the
full 10 minutes.

This is the engine's market-data core on its compiled ladder and frame readers (no sockets, no
UI publisher, no strategies).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import psutil  # type: ignore[import-untyped]  # psutil ships no type information

from engine import jit
from engine.bench.captures import spot_session
from engine.bench.realtime import Feeds, Schedule, replay, schedule
from engine.bench.report import SubjectRun, summarize
from engine.errors import EngineError

SUBJECT = "memory"
OURS = "engine"
INSTRUMENTS = 50
MB = 1024 * 1024


class BenchFailed(EngineError):
    """The child process failed or answered nothing readable."""


def _slice(plan: Schedule, low: int, high: int) -> Schedule:
    """The frames due in ``[low, high)`` ns, due times re-based to ``low``."""
    a, b = np.searchsorted(plan.due_ns, [low, high])
    return Schedule(
        due_ns=plan.due_ns[a:b] - low,
        instrument=plan.instrument[a:b],
        kind=plan.kind[a:b],
        frame=plan.frame[a:b],
    )


def child(seconds: int) -> dict[str, list[float]]:
    """Replay ``seconds`` of 50 instruments, sampling RSS (MB) once a second."""
    jit.activate()  # the compiled ladder and readers, as the engine runs once they are ready
    me = psutil.Process()
    session = spot_session()
    plan = schedule(session, INSTRUMENTS, seconds)
    replay(Feeds(session, 1), _slice(plan, 0, 0))  # nothing due: the replay's own code loaded
    harness = me.memory_info().rss / MB
    feeds = Feeds(session, INSTRUMENTS)
    samples = [me.memory_info().rss / MB]
    times = [0.0]
    for second in range(seconds):
        replay(feeds, _slice(plan, second * 1_000_000_000, (second + 1) * 1_000_000_000))
        samples.append(me.memory_info().rss / MB)
        times.append(float(second + 1))
    return {"rss": samples, "t": times, "harness": [harness]}


def _growth_per_min(t: list[float], rss: list[float]) -> float:
    half = len(t) // 2
    x, y = np.asarray(t[half:]), np.asarray(rss[half:])
    if len(x) < 2:
        return 0.0
    slope = float(np.polyfit(x, y, 1)[0])
    return slope * 60.0


def run(quick: bool) -> SubjectRun:
    """The ``memory`` subject for ``python -m engine.bench``.

    Raises:
        BenchFailed: the child failed.
    """
    seconds = 10 if quick else 600
    sys.stderr.write(f"[bench memory] {INSTRUMENTS} instruments for {seconds} s\n")
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "engine.bench.memory", str(seconds)],
        capture_output=True,
        timeout=seconds * 3 + 120,
        check=False,
    )
    if done.returncode != 0:
        raise BenchFailed(f"memory child exited {done.returncode}: {done.stderr[-500:]!r}")
    try:
        got = json.loads(done.stdout)
    except ValueError:
        raise BenchFailed(f"memory child answered {done.stdout[:200]!r}") from None
    rss, t = got["rss"], got["t"]
    source = spot_session(limit=1).source.split(" (")[0]
    return SubjectRun(
        subject=SUBJECT,
        ours=OURS,
        input=(
            f"{source}: {INSTRUMENTS} instruments replayed in real time for {seconds} s in a "
            f"fresh process, RSS sampled every second ({len(rss)} samples)"
        ),
        results=[
            summarize(SUBJECT, OURS, "rss_start", "MB", [rss[0]]),
            summarize(SUBJECT, OURS, "rss_end", "MB", [rss[-1]]),
            summarize(SUBJECT, OURS, "rss_max", "MB", [max(rss)]),
            summarize(SUBJECT, OURS, "growth", "MB/min", [_growth_per_min(t, rss)]),
            summarize(SUBJECT, OURS, "harness", "MB", got["harness"]),
            summarize(SUBJECT, OURS, "engine_end", "MB", [rss[-1] - got["harness"][0]]),
        ],
    )


if __name__ == "__main__":
    sys.stdout.write(json.dumps(child(int(sys.argv[1]))) + "\n")

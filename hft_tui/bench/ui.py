"""The ``ui`` benchmark: how fast the workstation starts, how long its frames take, what it costs.

* ``start_to_first_book``: seconds from starting a fresh interpreter (as ``hft-tui`` does) to the
  first frame drawn with a live book: the child (:mod:`hft_tui.bench.ui_start`) spawns an engine on
  the built-in local venue, loads the UI meanwhile, attaches, and reports once the trade screen
  has drawn the book (headless, 80x24). The issue's goal is under 3 s.
* ``frame_p99``: milliseconds from handing a frame to the trade screen until Textual has drawn
  it, p99 over every frame of the UI runs below, while the engine side publishes the book as fast
  as it processes the replay (the input line gives the rate reached; the goal is 50k/s).
* ``throughput_no_ui`` / ``throughput_ui_20hz``: book updates per second of the engine side on
  the same replay with no UI, and with the UI attached and reading at 20 Hz; ``ui_cost`` is the
  difference in percent of the no-UI rate (the goal: under 5%). Runs alternate, no-UI first.
  ``ui_cpu`` is the CPU the UI process used meanwhile, in percent of one core: on a machine with
  a core to spare for the UI it is what the UI costs; where the cores are all busy the engine
  side loses about that share, and ``ui_cost`` shows it.

The engine side is a child process doing what the engine does per depth frame: parse it
(:class:`~engine.venues.binance.protocol.BinanceSpotParser`), apply it through
:class:`~engine.venues.binance.sync.SpotBookSync`, and publish the top 20 levels a side to the
book's state page (:class:`~engine.ipc.publisher.EnginePublisher`) at the engine's cadence (at
most every 10 ms, as its housekeeping does; the UI reads at 20 Hz), with the engine page and
heartbeat every 100 ms; the replay is :func:`~engine.bench.captures.spot_session`, looped until
the run's time is up. The UI is the real :class:`~hft_tui.app.TradingApp`, headless, in this
process, attached to the child's segments as ``hft-tui attach`` would be.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import numpy as np

from engine import jit
from engine.bench.captures import BTCUSDT, Session, spot_session
from engine.bench.report import Result, SubjectRun, summarize
from engine.book.order_book import OrderBook
from engine.core.clock import LiveClock
from engine.core.events import BookDelta
from engine.engine import PUBLISH_INTERVAL_S
from engine.ipc.protocol import BookView, EngineView, RingView
from engine.ipc.publisher import EnginePublisher
from engine.venues.binance.protocol import BinanceSpotParser
from engine.venues.binance.sync import SpotBookSync

SUBJECT = "ui"
OURS = "hft-tui"
DEPTH = 20
"""Levels a side on the book page, as the engine's default ``ipc.book_depth``."""
HEARTBEAT_NS = 100_000_000
PAGE_INTERVAL_NS = int(PUBLISH_INTERVAL_S * 1e9)
"""How often the book page is published: the engine housekeeping's cadence."""
REFRESH_HZ = 20.0
_START_TIMEOUT_S = 60.0
WARM_UP_S = 0.5


class UiBenchError(RuntimeError):
    """A run of the benchmark did not reach the state it measures."""


# ---- the engine side (a child process) ---------------------------------------------------------


def _engine_view(instance: str, now: int, started: int, updates: int, rate: float) -> EngineView:
    idle = RingView(depth=0, capacity=0, peak=0, dropped=0)
    return EngineView(
        instance=instance,
        pid=os.getpid(),
        mode="live",
        trading="running",
        halt_reason="",
        halted_at_ns=0,
        started_ns=started,
        heartbeat_ns=now,
        venue="replay",
        link="live",
        updates_per_s=rate,
        book_updates=updates,
        gaps=0,
        resyncs=0,
        malformed=0,
        events_ring=idle,
        commands_ring=idle,
        control_url="",
    )


class _Replay:
    """The engine's per-frame book work on one session, looped."""

    def __init__(self, session: Session, publisher: EnginePublisher) -> None:
        self.session = session
        self.publisher = publisher
        self.parser = BinanceSpotParser([BTCUSDT])
        self.top = np.zeros((4, DEPTH), dtype=np.int64)
        self.updates = 0
        self._restart()

    def _restart(self) -> None:
        self.book = OrderBook(BTCUSDT.symbol)
        self.sync = SpotBookSync(BTCUSDT, self.book)
        self.sync.on_snapshot(self.parser.parse_snapshot(self.session.snapshot, BTCUSDT, 0))

    def _publish(self, update_id: int) -> None:
        bids, asks = self.book.top_arrays(DEPTH, self.top)
        top = self.top
        self.publisher.publish_book(
            BookView(
                instrument=0,
                symbol=BTCUSDT.symbol,
                tick_size=BTCUSDT.tick_size,
                lot_size=BTCUSDT.lot_size,
                state="live",
                bids=list(zip(top[0, :bids].tolist(), top[1, :bids].tolist(), strict=True)),
                asks=list(zip(top[2, :asks].tolist(), top[3, :asks].tolist(), strict=True)),
                update_id=update_id,
                update_count=self.updates,
                exch_ts=0,
                recv_ts=0,
            )
        )

    def run(self, seconds: float, instance: str) -> tuple[int, float]:
        """Book updates processed and published, and the seconds they took."""
        clock = LiveClock()
        parse, frames = self.parser.parse_frame, self.session.depth
        started = time.perf_counter_ns()
        end = started + int(seconds * 1e9)
        beat = next_page = 0
        done = 0
        first_ns = clock.time_ns()
        while True:
            for raw in frames:
                delta = parse(raw, 0)
                if not isinstance(delta, BookDelta):
                    continue
                self.sync.on_delta(delta)
                self.updates += 1
                done += 1
                if done & 63 == 0:
                    now = time.perf_counter_ns()
                    if now >= next_page:
                        self._publish(delta.last_id)
                        next_page = now + PAGE_INTERVAL_NS
                    if now >= beat:
                        wall = clock.time_ns()
                        rate = done * 1e9 / max(now - started, 1)
                        self.publisher.heartbeat(wall)
                        view = _engine_view(instance, wall, first_ns, self.updates, rate)
                        self.publisher.publish_engine(view)
                        beat = now + HEARTBEAT_NS
                    if now >= end:
                        self._publish(delta.last_id)  # the page ends on the last update
                        return done, (now - started) / 1e9
            self._restart()


def engine_side(instance: str, seconds: float, frames: int | None) -> None:
    """The child: publish segments, say ``ready``, wait for ``go``, run, print the result."""
    session = spot_session(frames)
    jit.activate()  # the compiled book ladder and frame readers, as the engine switches to them
    publisher = EnginePublisher.create(instance, [BTCUSDT.symbol])
    try:
        replay = _Replay(session, publisher)
        now = time.time_ns()
        publisher.heartbeat(now)
        publisher.publish_engine(_engine_view(instance, now, now, 0, 0.0))
        replay._publish(session.snapshot_id)
        replay.run(WARM_UP_S, instance)  # compiles the book kernels before anything is timed
        replay.updates = 0
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.readline()
        updates, took = replay.run(seconds, instance)
        sys.stdout.write(json.dumps({"updates": updates, "seconds": took}) + "\n")
        sys.stdout.flush()
        sys.stdin.readline()  # stay attached until the UI has let go
    finally:
        publisher.close()


# ---- the UI side ------------------------------------------------------------------------------


def _css_path() -> str:
    """The app's stylesheet (a subclass defined here would look for it next to this file)."""
    import hft_tui.app

    return str(Path(hft_tui.app.__file__).parent / "styles" / "app.tcss")


def _timed_app(instance: str) -> Any:  # noqa: ANN401 - a TradingApp subclass built on demand
    """A headless-ready TradingApp on ``instance`` that records each frame's draw time."""
    from hft_tui.app import TradingApp, UiSettings
    from hft_tui.launcher import AttachedSession

    class TimedApp(TradingApp):
        CSS_PATH = _css_path()

        def __init__(self) -> None:
            super().__init__(
                AttachedSession(instance), UiSettings(refresh_hz=REFRESH_HZ), LiveClock()
            )
            self.frame_ns: list[int] = []

        def _show_frame(self) -> None:
            start = time.perf_counter_ns()
            super()._show_frame()
            self.call_after_refresh(lambda: self.frame_ns.append(time.perf_counter_ns() - start))

    return TimedApp()


class EngineRep(NamedTuple):
    """One run of the engine side."""

    rate: float
    """Book updates per second."""
    frame_ns: list[int]
    """The UI's frame times (empty without a UI)."""
    ui_cpu: float
    """CPU seconds this process (the UI) used per second of the run."""


async def _engine_rep(seconds: float, frames: int | None, with_ui: bool) -> EngineRep:
    """One run of the engine side; its update rate, and the UI's frame times when attached."""
    instance = f"benchui{uuid.uuid4().hex[:8]}"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hft_tui.bench.ui", instance, str(seconds), str(frames or 0),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        line = await asyncio.wait_for(child.stdout.readline(), _START_TIMEOUT_S)
        if line.strip() != b"ready":
            raise UiBenchError(f"the engine side did not start: {line!r}")
        app = _timed_app(instance) if with_ui else None
        task = None
        if app is not None:
            task = asyncio.create_task(app.run_async(headless=True, size=(80, 24)))
            deadline = time.monotonic() + _START_TIMEOUT_S
            while not app.frame_ns:
                if task.done() or time.monotonic() > deadline:
                    raise UiBenchError("the UI never drew a frame of the engine side")
                await asyncio.sleep(0.01)
            app.frame_ns.clear()
        child.stdin.write(b"go\n")
        await child.stdin.drain()
        cpu_start, wall_start = time.process_time(), time.monotonic()
        result = json.loads(await asyncio.wait_for(child.stdout.readline(), seconds + 60))
        ui_cpu = (time.process_time() - cpu_start) / (time.monotonic() - wall_start)
        frame_ns: list[int] = []
        if app is not None and task is not None:
            frame_ns = list(app.frame_ns)
            app.exit()
            await task
        child.stdin.write(b"done\n")
        await child.stdin.drain()
        await asyncio.wait_for(child.wait(), 30)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    return EngineRep(result["updates"] / result["seconds"], frame_ns, ui_cpu)


def _start_rep() -> float:
    instance = f"benchstart{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HFT__")}
    env["HFT__ENGINE__INSTANCE"] = instance
    env["HFT__CONTROL__PORT"] = "0"
    started = time.time_ns()
    code = f"from hft_tui.bench.ui_start import main; main({started}, {instance!r})"
    with tempfile.TemporaryDirectory(prefix="hft-bench-ui-") as state:
        env["HFT__ENGINE__STATE_DIR"] = state  # a fresh engine: no journal, breaker or ids
        out = subprocess.run(  # noqa: S603 - this interpreter, our own code
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip
    if out.returncode != 0:
        raise UiBenchError(f"start_to_first_book run failed: {out.stderr.strip()[-400:]}")
    seconds: float = msgspec.json.decode(out.stdout.strip().splitlines()[-1])["seconds"]
    return seconds


def _p99_ms(samples: list[int]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)] / 1e6


def run(quick: bool) -> SubjectRun:
    """Start-up, frame times under load, and the engine's rate with and without the UI."""
    starts, pairs, seconds, frames = (1, 1, 2.0, 5_000) if quick else (3, 5, 10.0, None)
    start_s = [_start_rep() for _ in range(starts)]
    no_ui: list[float] = []
    ui: list[float] = []
    frame_ns: list[int] = []
    frame_p99: list[float] = []
    ui_cpu: list[float] = []
    for _ in range(pairs):
        no_ui.append(asyncio.run(_engine_rep(seconds, frames, with_ui=False)).rate)
        rep = asyncio.run(_engine_rep(seconds, frames, with_ui=True))
        ui.append(rep.rate)
        if not rep.frame_ns:
            raise UiBenchError("the UI drew no frame while the engine side ran")
        frame_ns += rep.frame_ns
        frame_p99.append(_p99_ms(rep.frame_ns))
        ui_cpu.append(100.0 * rep.ui_cpu)
    cost = [100.0 * (a - b) / a for a, b in zip(no_ui, ui, strict=True)]
    source = spot_session(frames).source
    results: list[Result] = [
        summarize(SUBJECT, OURS, "start_to_first_book", "s", start_s),
        summarize(SUBJECT, OURS, "frame_p99", "ms", frame_p99),
        summarize(SUBJECT, OURS, "throughput_no_ui", "updates/s", no_ui),
        summarize(SUBJECT, OURS, "throughput_ui_20hz", "updates/s", ui),
        summarize(SUBJECT, OURS, "ui_cost", "%", cost),
        summarize(SUBJECT, OURS, "ui_cpu", "% of a core", ui_cpu),
    ]
    return SubjectRun(
        subject=SUBJECT,
        ours=OURS,
        input=(
            f"{starts} start(s) on the local venue; {pairs} pair(s) of {seconds:g} s engine-side "
            f"runs (no UI, then UI at {REFRESH_HZ:g} Hz) over {source}, flat out: a median "
            f"{sorted(ui)[len(ui) // 2]:,.0f} book updates/s applied with the UI attached, the "
            f"book page published every {PAGE_INTERVAL_NS / 1e6:g} ms as the engine does; "
            f"{len(frame_ns)} frames timed"
        ),
        results=results,
    )


if __name__ == "__main__":
    engine_side(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]) or None)

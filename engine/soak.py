"""Soak run: an engine on the local venue with the market maker trading, sampled every interval.

:func:`run_soak` starts ``python -m engine`` as its own process on the built-in local venue (its
default rates: 400 book events a second, 100 ms diffs) with ``[strategies.mm]`` quoting, then
every ``interval_s`` reads the engine process from outside: resident memory, open file
descriptors, its shared-memory segments in ``/dev/shm``, and ``/status`` and ``/metrics`` (ring
drops, the strategy's p99 callback time, orders and fills, the venue link). Each sample is one
JSON line. The :class:`SoakSummary` at the end judges the run after the warm-up: resident memory
growth under :data:`MAX_RSS_GROWTH_PCT`, descriptors within :data:`FD_TOLERANCE` of where they
were (pooled venue sockets come and go), segments constant, nothing dropped on the lossless
command ring, no market-data reconnect and no interval without a book change, and the engine
still running and not halted.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import psutil  # type: ignore[import-untyped]  # psutil ships no type information

from engine.errors import EngineError
from engine.ipc.protocol import decode_engine
from engine.ipc.segments import SHM_DIR, read_instance, segment_name
from engine.ipc.state_page import StatePage

MAX_RSS_GROWTH_PCT = 5.0
"""Resident memory may grow at most this much from the end of the warm-up to the last sample."""
FD_TOLERANCE = 4
"""Open descriptors may rise at most this many above the first sample after the warm-up."""
START_TIMEOUT_S = 60.0

SOAK_CONFIG = """\
[engine]
mode = "live"
log_level = "INFO"
[control]
port = 0
[strategies.mm]
kind = "market_maker"
symbol = "BTCUSDT"
[strategies.mm.params]
half_spread_ticks = 10
size_lots = 100
levels = 2
max_inventory_lots = 1000
skew_ticks = 5
requote_ticks = 3
"""
"""The engine's configuration: the embedded default (local venue at its usual rates) plus mm."""


class SoakError(EngineError):
    """The soak could not run: the engine did not start, or died (the message says which)."""


class SoakSample(msgspec.Struct, frozen=True, kw_only=True):
    """One look at the engine process."""

    t_s: float
    """Seconds since the engine was up."""
    rss_bytes: int
    venue_rss_bytes: int
    """The local venue process the engine started (its child)."""
    fds: int
    segments: int
    """The instance's segments present in ``/dev/shm``."""
    event_ring_dropped: int
    """Engine->UI records dropped (lossy by design: a UI that falls behind skips)."""
    command_ring_dropped: int
    """UI->engine commands dropped (the lossless ring: must stay 0)."""
    book_updates: int
    reconnects: int
    """Market-data reconnects since start (a local venue should need none)."""
    orders_known: int
    orders_open: int
    fills: int
    """Orders with at least one fill."""
    strategy_p99_us: float
    strategy_max_us: float
    status_ms: float
    """Round trip of the ``/status`` request this sample made."""
    trading: str
    halt_reason: str
    link: str


class SoakSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict on a soak run, after its warm-up."""

    duration_s: float
    samples: int
    warmup_s: float
    rss_after_warmup_bytes: int
    rss_last_bytes: int
    rss_growth_pct: float
    fds_after_warmup: int
    fds_min: int
    fds_max: int
    segments_min: int
    segments_max: int
    event_ring_dropped: int
    command_ring_dropped: int
    reconnects: int
    """Market-data reconnects after the warm-up."""
    stalled_intervals: int
    """Intervals after the warm-up in which the book did not change at all."""
    strategy_p99_us_max: float
    orders_known: int
    fills: int
    trading: str
    problems: list[str]
    """Every criterion the run failed, in words; empty when it passed."""

    @property
    def passed(self) -> bool:
        """True when every criterion held."""
        return not self.problems


def _http(url: str, timeout_s: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 (loopback URL)
        body: bytes = resp.read()
        return body


def _metric(text: str, name: str) -> float:
    """The value of an unlabelled series ``name`` in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith((name + " ", name + "_total ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _segments(instance: str) -> int:
    prefix = segment_name(instance, "events")[: -len("events")]
    try:
        return sum(1 for name in os.listdir(SHM_DIR) if name.startswith(prefix))
    except OSError:
        return 0


class _Engine:
    """The engine process under soak."""

    def __init__(self, workdir: Path) -> None:
        self.instance = f"soak-{secrets.token_hex(4)}"
        config = workdir / "soak.toml"
        config.write_text(SOAK_CONFIG)
        env = {k: v for k, v in os.environ.items() if not k.startswith("HFT__")}
        env["HFT__ENGINE__INSTANCE"] = self.instance
        env["HFT__ENGINE__STATE_DIR"] = str(workdir / "state")
        env["HFT_CONTROL_TOKEN"] = secrets.token_hex(16)
        self.log_path = workdir / "engine.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "engine", "--config", str(config), "--log-format", "json"],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.ps: Any = psutil.Process(self.proc.pid)
        self.url = ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            self.check_alive()
            info = read_instance(self.instance)
            if info is not None and info.pid == self.proc.pid and info.control_url:
                try:
                    status = json.loads(_http(info.control_url + "/status"))
                except OSError:
                    status = {}
                strategies = status.get("strategies") or []
                if strategies and strategies[0].get("running"):
                    self.url = info.control_url
                    return
            time.sleep(0.2)
        raise SoakError(f"the engine did not start trading within {START_TIMEOUT_S:.0f} s")

    def check_alive(self) -> None:
        code = self.proc.poll()
        if code is not None:
            tail = self.log_path.read_text(errors="replace")[-800:]
            raise SoakError(f"the engine exited with code {code}; its log ends: {tail}")

    def sample(self, t_s: float) -> SoakSample:
        self.check_alive()
        rss = int(self.ps.memory_info().rss)
        fds = int(self.ps.num_fds())
        venue_rss = sum(int(c.memory_info().rss) for c in self.ps.children(recursive=True))
        segments = _segments(self.instance)
        started = time.perf_counter()
        status: dict[str, Any] = json.loads(_http(self.url + "/status"))
        status_ms = (time.perf_counter() - started) * 1000
        metrics = _http(self.url + "/metrics").decode()
        strategies = status.get("strategies") or [{}]
        mm = strategies[0]
        orders: list[dict[str, Any]] = json.loads(_http(self.url + "/orders?all=1"))
        return SoakSample(
            t_s=round(t_s, 1),
            rss_bytes=rss,
            venue_rss_bytes=venue_rss,
            fds=fds,
            segments=segments,
            event_ring_dropped=int(_metric(metrics, "hft_event_ring_dropped")),
            command_ring_dropped=self._command_drops(),
            book_updates=int(_metric(metrics, "hft_book_updates")),
            reconnects=int(status["venue"]["reconnects"]),
            orders_known=int(status["orders"]["known"]),
            orders_open=int(status["orders"]["open"]),
            fills=sum(1 for o in orders if Decimal(o.get("filled") or 0) > 0),
            strategy_p99_us=round(mm.get("p99_ns", 0) / 1000, 1),
            strategy_max_us=round(mm.get("max_ns", 0) / 1000, 1),
            status_ms=round(status_ms, 2),
            trading=str(status["trading"]),
            halt_reason=str(status.get("halt_reason") or ""),
            link=str(status["venue"]["link"]),
        )

    def _command_drops(self) -> int:
        """Commands dropped on the UI->engine ring, from the engine's own state page."""
        page = StatePage.attach(segment_name(self.instance, "engine"))
        try:
            payload = page.read()
        finally:
            page.close()
        if payload is None:
            return 0
        return decode_engine(payload).commands_ring.dropped

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


def summarise(samples: list[SoakSample], warmup_s: float, duration_s: float) -> SoakSummary:
    """Judge the samples taken after ``warmup_s`` (all of them when none is that late).

    Raises:
        SoakError: when there are no samples at all.
    """
    if not samples:
        raise SoakError("the soak took no samples")
    steady = [s for s in samples if s.t_s >= warmup_s] or samples
    first, last = steady[0], steady[-1]
    growth = (last.rss_bytes - first.rss_bytes) / first.rss_bytes * 100
    fds = [s.fds for s in steady]
    segments = [s.segments for s in steady]
    problems = []
    if growth >= MAX_RSS_GROWTH_PCT:
        problems.append(f"resident memory grew {growth:.1f}% after the warm-up")
    if max(fds) > first.fds + FD_TOLERANCE:
        problems.append(f"open descriptors rose from {first.fds} to {max(fds)}")
    if min(segments) != max(segments):
        problems.append(f"shared-memory segments changed ({min(segments)}..{max(segments)})")
    if last.command_ring_dropped:
        problems.append(f"{last.command_ring_dropped} commands dropped on the lossless ring")
    if last.trading != "running":
        problems.append(f"trading is {last.trading} at the end ({last.halt_reason})")
    reconnects = last.reconnects - first.reconnects
    if reconnects:
        problems.append(f"the market-data link reconnected {reconnects} times")
    stalled = sum(1 for a, b in itertools.pairwise(steady) if b.book_updates == a.book_updates)
    if stalled:
        problems.append(f"the book did not change in {stalled} intervals")
    return SoakSummary(
        duration_s=round(duration_s, 1),
        samples=len(samples),
        warmup_s=warmup_s,
        rss_after_warmup_bytes=first.rss_bytes,
        rss_last_bytes=last.rss_bytes,
        rss_growth_pct=round(growth, 2),
        fds_after_warmup=first.fds,
        fds_min=min(fds),
        fds_max=max(fds),
        segments_min=min(segments),
        segments_max=max(segments),
        event_ring_dropped=last.event_ring_dropped,
        command_ring_dropped=last.command_ring_dropped,
        reconnects=reconnects,
        stalled_intervals=stalled,
        strategy_p99_us_max=max(s.strategy_p99_us for s in samples),
        orders_known=last.orders_known,
        fills=last.fills,
        trading=last.trading,
        problems=problems,
    )


def run_soak(
    duration_s: float,
    *,
    interval_s: float = 60.0,
    warmup_s: float | None = None,
    emit: Callable[[str], None] = print,
    workdir: Path | None = None,
) -> SoakSummary:
    """Run the engine for ``duration_s`` seconds, emitting one JSON line per sample.

    Args:
        duration_s: how long to trade after the engine is up.
        interval_s: seconds between samples (one is also taken at the start and the end).
        warmup_s: samples before this are not judged; by default a fifth of the run, at most
            five minutes.
        emit: where each JSON line goes.
        workdir: the engine's config, state and log; a temporary folder by default.

    Raises:
        SoakError: the engine did not start or died during the run.
    """
    if duration_s <= 0 or interval_s <= 0:
        raise SoakError(f"duration {duration_s} s and interval {interval_s} s must be positive")
    warm = min(duration_s / 5, 300.0) if warmup_s is None else warmup_s
    with tempfile.TemporaryDirectory(prefix="hft-soak-") as tmp:
        engine = _Engine(workdir or Path(tmp))
        samples: list[SoakSample] = []
        try:
            engine.wait_ready()
            start = time.monotonic()
            next_at = start
            while True:
                now = time.monotonic()
                if now >= next_at:
                    sample = engine.sample(now - start)
                    samples.append(sample)
                    emit(msgspec.json.encode(sample).decode())
                    next_at += interval_s
                if now - start >= duration_s:
                    break
                time.sleep(max(0.0, min(next_at, start + duration_s) - time.monotonic()))
            end = time.monotonic()
            if samples[-1].t_s < end - start - 0.5:
                samples.append(engine.sample(end - start))
                emit(msgspec.json.encode(samples[-1]).decode())
        finally:
            engine.stop()
    summary = summarise(samples, warm, time.monotonic() - start)
    emit(json.dumps({"summary": msgspec.to_builtins(summary), "passed": summary.passed}))
    return summary

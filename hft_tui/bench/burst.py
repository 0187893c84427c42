"""Bursts: the captured session replayed into a running engine at 1x, 10x, 100x, 1000x and flat out.

A :class:`~engine.sim.replay_venue.ReplayVenue` in its own process replays the hftbacktest
BTCUSDT spot capture (or the seeded synthetic session when ``../shared/data`` is absent; the
input line says which, and the synthetic book crosses as it walks, so the engine resyncs on
that too) over real sockets into an engine in this process, in paper mode with the
market maker quoting. The speed steps up stage by stage until the engine breaks, then drops back
to 1x to see it recover. Per stage: the engine's book update rate, wire-to-book p50/p99 (the
samples ``/status`` reports), how far its book fell behind the venue's, the engine->UI event
ring (read by a stand-in UI here; lossy by design) and the UI->engine command ring (a ping per
sample; lossless), the venue's deepest per-connection send queue and cut-offs, the feed's
resyncs and reconnects, and what the engine did (kept up, fell behind, was cut off and resynced).
The stage logic (:func:`run_stages`) is shared with ``tests/reliability/test_bursts.py``.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import msgspec

from engine.bench.captures import Session, spot_session
from engine.bench.report import SubjectRun, summarize
from engine.core.commands import ReplaceOrder, SubmitOrder
from engine.core.config import load_config
from engine.engine import Engine
from engine.errors import EngineError
from engine.ipc.protocol import ResyncReason
from engine.sim.replay_venue import MAX_SPEED, QUEUE_LIMIT, ReplayVenue
from engine.wire_latency import RING

SUBJECT = "burst"
OURS = "engine"
KEPT_UP_LAG_S = 0.5
"""A stage is over once its book is at most this many wall seconds behind the venue's."""
KEPT_UP_DIFFS = 3
KEPT_UP_S = 0.05
"""A stage kept up when its book was never more than :data:`KEPT_UP_DIFFS` diffs or
:data:`KEPT_UP_S` wall seconds behind the venue's (one diff in flight is 100 ms at 1x)."""
SMALL_QUEUE = 1000
"""The send queue of a venue that cuts slow clients off sooner (the last flat-out stage)."""
SMALL_SNDBUF = 16384
"""Its socket send buffer, bytes: loopback's autotuned buffers otherwise absorb megabytes, so
a slow reader would push back on the venue's queue only after the whole session was sent."""

CONFIG = """
[engine]
mode = "paper"
log_level = "WARNING"
[venue]
name = "sim"
max_reconnects_per_minute = 120
[[instruments]]
venue = "sim"
symbol = "BTCUSDT"
tick_size = "0.01"
lot_size = "0.000001"
min_notional = "0"
[control]
port = 0
[risk]
max_drawdown = "1000000"
daily_loss_limit = "1000000"
[risk.defaults]
max_order_size = "10"
max_order_notional = "10000000"
max_position = "1000"
max_open_orders = 1000
max_orders_per_second = 1000000
max_orders_per_minute = 60000000
price_band_bps = 500
post_only_band_bps = 500
max_data_age_ms = 2000
[strategies.mm]
symbol = "BTCUSDT"
[strategies.mm.params]
half_spread_ticks = 20
size_lots = 1000
max_inventory_lots = 20000
skew_ticks = 5
"""
"""Paper trading on the replayed feed (orders match in-process; the venue serves data only)."""


class BurstError(EngineError):
    """The burst run could not start (the venue or the engine did not come up)."""


class VenueControl(Protocol):
    """Speed and counters of the replaying venue, wherever it runs."""

    async def set_speed(
        self, speed: float, for_s: float | None = None, stage: Stage | None = None
    ) -> None:
        """Run the market clock at ``speed`` (:data:`MAX_SPEED`: unpaced) for ``for_s`` s.

        ``for_s`` counts recorded seconds; ``stage`` brings its queue limit and socket send
        buffer when it sets them.
        """
        ...

    async def stats(self, reset: bool = False) -> dict[str, Any]:
        """The venue's counters (:meth:`ReplayVenue.stats`)."""
        ...


class LocalControl:
    """A venue in this process."""

    def __init__(self, venue: ReplayVenue) -> None:
        self.venue = venue

    async def set_speed(
        self, speed: float, for_s: float | None = None, stage: Stage | None = None
    ) -> None:
        """Set the speed (and the stage's venue settings) directly."""
        if stage is not None and stage.queue_limit is not None:
            self.venue.queue_limit = stage.queue_limit
        if stage is not None and stage.sndbuf is not None:
            self.venue.set_sndbuf(stage.sndbuf)
        self.venue.set_speed(speed, for_s)

    async def stats(self, reset: bool = False) -> dict[str, Any]:
        """Read the counters directly."""
        return self.venue.stats(reset)


class HttpControl:
    """A venue in another process, driven over its ``/replay`` routes."""

    def __init__(self, rest_url: str) -> None:
        self.url = rest_url
        self._http: aiohttp.ClientSession | None = None

    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return self._http

    async def set_speed(
        self, speed: float, for_s: float | None = None, stage: Stage | None = None
    ) -> None:
        """``POST /replay/speed``."""
        params = {"x": "max" if speed == MAX_SPEED else repr(speed)}
        if for_s is not None:
            params["for_s"] = repr(for_s)
        if stage is not None and stage.queue_limit is not None:
            params["queue_limit"] = str(stage.queue_limit)
        if stage is not None and stage.sndbuf is not None:
            params["sndbuf"] = str(stage.sndbuf)
        http = await self._session()
        async with http.post(f"{self.url}/replay/speed", params=params) as resp:
            resp.raise_for_status()

    async def stats(self, reset: bool = False) -> dict[str, Any]:
        """``GET /replay/stats``."""
        http = await self._session()
        params = {"reset": "1"} if reset else {}
        async with http.get(f"{self.url}/replay/stats", params=params) as resp:
            resp.raise_for_status()
            doc: dict[str, Any] = await resp.json()
            return doc

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._http is not None:
            await self._http.close()


@dataclass(frozen=True)
class Stage:
    """One step: a speed, how much of the session it may use, and how long it may take."""

    name: str
    speed: float
    capture_s: float
    """Recorded seconds of the session to replay at this speed."""
    max_wall_s: float
    """Wall seconds at most (the flat-out stage and recovery end on this or on their goal)."""
    recover: bool = False
    """Ends early once the book is live and caught up again (after one ``KEPT_UP_LAG_S``)."""
    queue_limit: int | None = None
    """The venue's cut-off for this stage on (None: as it was)."""
    sndbuf: int | None = None
    """The venue's socket send buffer for this stage on, bytes (None: as it was)."""


class StageResult(msgspec.Struct, frozen=True, kw_only=True):
    """What one stage measured."""

    stage: str
    wall_s: float
    frames_per_s: float
    """Frames the venue released per wall second."""
    book_updates_per_s: float
    wire_p50_us: float
    wire_p99_us: float
    speed_x: float
    """Recorded seconds replayed per wall second (the speed reached)."""
    max_lag_s: float
    """Most wall seconds the engine's book was behind the venue's released diffs (at the speed
    reached)."""
    max_lag_diffs: int
    """Most diffs the engine's book was behind."""
    end_lag_s: float
    venue_peak_queue: int
    venue_queue_limit: int
    cutoffs: int
    resyncs: int
    reconnects: int
    gaps: int
    event_ring_peak: int
    event_ring_capacity: int
    event_ring_dropped: int
    command_ring_dropped: int
    commands_sent: int
    states: list[str]
    """Book states entered during the stage, in order."""
    sent_not_live: int
    """Orders or replaces handed to the gateway while the book was not live (must be 0)."""
    live_at_end: bool
    verdict: str


@dataclass
class Watch:
    """Hooks on an engine: book state changes and what reaches the gateway in which state."""

    engine: Engine
    states: list[tuple[float, str]] = field(default_factory=list)
    sent: int = 0
    sent_not_live: int = 0

    def install(self) -> None:
        """Wrap the engine's book-state callback (before :meth:`Engine.run`)."""
        engine = self.engine
        original = engine.on_book_state

        def on_book_state(instrument: int, state: str, reason: ResyncReason | None) -> None:
            self.states.append((time.monotonic(), state))
            original(instrument, state, reason)

        engine.on_book_state = on_book_state  # type: ignore[method-assign]

    def install_gateway(self) -> None:
        """Wrap the gateway's submit and replace (once it exists)."""
        gateway = self.engine.gateway
        assert gateway is not None
        for name in ("submit", "replace"):
            original = getattr(gateway, name)

            def wrapped(
                command: SubmitOrder | ReplaceOrder,
                _original: Callable[[SubmitOrder | ReplaceOrder], None] = original,
            ) -> None:
                self.sent += 1
                if self.engine.book_states.get(command.instrument) != "live":
                    self.sent_not_live += 1
                _original(command)

            setattr(gateway, name, wrapped)


def diff_ids(session: Session) -> list[int]:
    """The final update id of each of the session's diffs."""
    decoder = msgspec.json.Decoder(dict[str, Any])
    return [int(decoder.decode(f)["data"]["u"]) for f in session.depth]


class _Lag:
    def __init__(self, session: Session) -> None:
        self.ids = diff_ids(session)
        self.times = session.depth_recv_ns

    def behind(self, venue_index: int, book_update_id: int) -> tuple[int, float]:
        """(Diffs, recorded seconds) the book is behind the venue's released diffs."""
        if venue_index <= 0:
            return 0, 0.0
        ours = bisect.bisect_right(self.ids, book_update_id)
        if ours >= venue_index:
            return 0, 0.0
        seconds = (self.times[venue_index - 1] - self.times[max(ours - 1, 0)]) / 1e9
        return venue_index - ours, seconds


def _percentile(values: list[int], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def _wire_window(engine: Engine, start: int) -> list[int]:
    wire = engine.wire
    first = max(start, wire.count - RING)
    return [wire.samples[i & (RING - 1)] for i in range(first, wire.count)]


class Ui(Protocol):
    """What an attached UI does every sample (an :class:`~hft_tui.bridge.EngineBridge` fits)."""

    def drain_events(self) -> object:
        """Read the engine->UI event ring."""
        ...

    def send_ping(self) -> None:
        """Put one command on the UI->engine ring."""
        ...


class _StageRun:
    """One stage in progress: its starting counters and what the samples saw."""

    def __init__(self, engine: Engine, watch: Watch, stage: Stage, v0: dict[str, Any]) -> None:
        assert engine.feed is not None
        assert engine.publisher is not None
        self.engine, self.watch, self.stage, self.v0 = engine, watch, stage, v0
        feed = engine.feed.stats
        self.feed0 = (feed.resyncs, feed.reconnects, feed.gaps)
        self.updates0, self.wire0 = engine.book_updates, engine.wire.count
        self.ev0 = engine.publisher.events_stats().dropped
        self.states_from = len(watch.states)
        self.not_live0 = watch.sent_not_live
        self.started = time.monotonic()
        self.commands = 0
        self.max_lag = self.end_lag = 0.0
        self.max_diffs = 0
        self.speed = max(stage.speed, 1.0)
        self.replay_s: float | None = None
        """Wall seconds the venue took to replay the stage's share (None: not yet)."""
        self.caught_up_since: float | None = None
        self.ev_peak = 0

    @property
    def live(self) -> bool:
        return self.engine.book_states.get(0) == "live"

    def sample(self, v: dict[str, Any], lag: _Lag) -> None:
        """Fold in one look at the venue and the book."""
        assert self.engine.publisher is not None
        self.ev_peak = max(self.ev_peak, self.engine.publisher.events_stats().depth)
        wall = time.monotonic() - self.started
        if self.replay_s is None:
            self.speed = max(1.0, (float(v["capture_s"]) - float(self.v0["capture_s"])) / wall)
            if v["speed"] == 0.0:
                self.replay_s = wall
        diffs, recorded = lag.behind(int(v["released_depth"]), self.engine.books[0].update_id)
        self.end_lag = recorded / self.speed
        self.max_lag, self.max_diffs = max(self.max_lag, self.end_lag), max(self.max_diffs, diffs)

    def over(self, v: dict[str, Any]) -> bool | None:
        """True when the stage is done; None when it waits on a resync that needs diffs."""
        if time.monotonic() - self.started >= self.stage.max_wall_s or v["exhausted"]:
            return True
        caught_up = self.live and self.end_lag <= KEPT_UP_LAG_S
        if self.stage.recover:
            if not caught_up:
                self.caught_up_since = None
                return False
            self.caught_up_since = self.caught_up_since or time.monotonic()
            return time.monotonic() - self.caught_up_since >= KEPT_UP_LAG_S
        if self.replay_s is None or self.end_lag > KEPT_UP_LAG_S:
            return False
        if self.live or int(v["cutoffs"]) == int(self.v0["cutoffs"]):
            return True  # the stage's share replayed and the book caught up (or resynced)
        return None if v["speed"] == 0.0 else False

    def result(self, v: dict[str, Any]) -> StageResult:
        """The stage's figures, ``v`` the venue's counters at its end."""
        engine, v0 = self.engine, self.v0
        assert engine.feed is not None
        assert engine.publisher is not None
        wall = time.monotonic() - self.started
        replay_s = self.replay_s or wall
        feed = engine.feed.stats
        events = engine.publisher.events_stats()
        wire = _wire_window(engine, self.wire0)
        result = StageResult(
            stage=self.stage.name,
            wall_s=round(wall, 2),
            frames_per_s=round((v["released"] - v0["released"]) / replay_s, 1),
            speed_x=round((float(v["capture_s"]) - float(v0["capture_s"])) / replay_s, 1),
            book_updates_per_s=round((engine.book_updates - self.updates0) / wall, 1),
            wire_p50_us=round(_percentile(wire, 0.5) / 1e3, 1),
            wire_p99_us=round(_percentile(wire, 0.99) / 1e3, 1),
            max_lag_s=round(self.max_lag, 3),
            max_lag_diffs=self.max_diffs,
            end_lag_s=round(self.end_lag, 3),
            venue_peak_queue=int(v["peak_queue"]),
            venue_queue_limit=int(v["queue_limit"]),
            cutoffs=int(v["cutoffs"]) - int(v0["cutoffs"]),
            resyncs=feed.resyncs - self.feed0[0],
            reconnects=feed.reconnects - self.feed0[1],
            gaps=feed.gaps - self.feed0[2],
            event_ring_peak=self.ev_peak,
            event_ring_capacity=events.capacity,
            event_ring_dropped=events.dropped - self.ev0,
            command_ring_dropped=engine.publisher.commands_stats().dropped,
            commands_sent=self.commands,
            states=[s for _, s in self.watch.states[self.states_from :]],
            sent_not_live=self.watch.sent_not_live - self.not_live0,
            live_at_end=self.live,
            verdict="",
        )
        return msgspec.structs.replace(result, verdict=verdict(result))


async def run_stages(
    engine: Engine,
    venue: VenueControl,
    session: Session,
    stages: list[Stage],
    watch: Watch,
    ui: Ui | None = None,
    sample_s: float = 0.05,
) -> list[StageResult]:
    """Run ``stages`` in order against a live engine; one :class:`StageResult` each.

    ``ui`` drains the event ring and sends one command on the command ring every sample, as an
    attached UI would. A stage cut off by the venue waits for its resync with the market going
    on at 1x (a paused venue would send no diffs for the book to go live on).
    """
    lag = _Lag(session)
    results = []
    for stage in stages:
        run = _StageRun(engine, watch, stage, await venue.stats(reset=True))
        await venue.set_speed(stage.speed, None if stage.recover else stage.capture_s, stage)
        while True:
            await asyncio.sleep(sample_s)
            if ui is not None:
                ui.drain_events()
                ui.send_ping()
                run.commands += 1
            v = await venue.stats()
            run.sample(v, lag)
            done = run.over(v)
            if done:
                break
            if done is None:
                await venue.set_speed(1.0)
        await venue.set_speed(0.0)
        results.append(run.result(await venue.stats()))
    return results


def verdict(r: StageResult) -> str:
    """What the engine did in one stage, in words."""
    back = "live again" if r.live_at_end else "still resyncing"
    if r.cutoffs:
        return (
            f"cut off by the venue ({r.cutoffs}x, its send queue reached {r.venue_queue_limit}); "
            f"book marked {'/'.join(dict.fromkeys(s for s in r.states if s != 'live')) or 'stale'}"
            f", reconnected {r.reconnects}x, resynced {r.resyncs}x, {back}"
        )
    if r.resyncs or r.reconnects:
        return f"fell behind and resynced ({r.resyncs}x), {back}"
    if r.end_lag_s > KEPT_UP_LAG_S:
        return f"fell behind ({r.end_lag_s:.1f} s at the end), no resync"
    if r.max_lag_diffs > KEPT_UP_DIFFS and r.max_lag_s > KEPT_UP_S:
        return (
            f"fell behind (at most {r.max_lag_s * 1e3:.0f} ms, {r.max_lag_diffs} diffs), "
            "caught up without a resync"
        )
    return "kept up"


def stages(quick: bool) -> list[Stage]:
    """1x, 10x, 100x, 1000x, flat out, then 1x until recovered."""
    short = 0.4 if quick else 1.0  # the session is about 648 recorded seconds in all
    return [
        Stage("1x", 1.0, 5.0 * short, 15.0),
        Stage("10x", 10.0, 40.0 * short, 15.0),
        Stage("100x", 100.0, 100.0, 15.0),
        Stage("1000x", 1000.0, 150.0, 15.0),
        Stage("max", MAX_SPEED, 120.0, 15.0, queue_limit=QUEUE_LIMIT),
        Stage(
            "max, tight venue",
            MAX_SPEED,
            150.0,
            20.0,
            queue_limit=SMALL_QUEUE,
            sndbuf=SMALL_SNDBUF,
        ),
        Stage("1x again", 1.0, 0.0, 30.0, recover=True),
    ]


def engine_for(venue_ws: str, venue_rest: str, workdir: Path) -> Engine:
    """A paper engine with the market maker on the replaying venue."""
    path = workdir / "burst.toml"
    path.write_text(CONFIG)
    config = load_config(
        str(path),
        {
            "HFT__ENGINE__INSTANCE": f"burst{uuid.uuid4().hex[:8]}",
            "HFT__ENGINE__STATE_DIR": str(workdir / "state"),
            "HFT__OMS__JOURNAL_FSYNC": "never",
        },
    )
    return Engine(config, venue_urls=(venue_ws, venue_rest))


async def until(check: Callable[[], bool], what: str, limit_s: float) -> None:
    """Wait for ``check()``; raise :class:`BurstError` naming ``what`` after ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while not check():
        if time.monotonic() > deadline:
            raise BurstError(f"timed out after {limit_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)


async def _run(quick: bool, session: Session, ws: str, rest: str) -> list[StageResult]:
    from hft_tui.bridge import EngineBridge

    with tempfile.TemporaryDirectory(prefix="hft-burst-") as tmp:
        engine = engine_for(ws, rest, Path(tmp))
        watch = Watch(engine)
        watch.install()
        control = HttpControl(rest)
        task = asyncio.create_task(engine.run())
        ui = None
        try:
            await control.set_speed(1.0)  # a book goes live on the first diff past its snapshot
            await until(lambda: engine.book_states.get(0) == "live", "a live book", 60)
            await until(lambda: engine.gateway is not None, "the paper gateway", 30)
            watch.install_gateway()
            ui = EngineBridge.attach(engine.config.engine.instance)
            return await run_stages(engine, control, session, stages(quick), watch, ui)
        finally:
            if ui is not None:
                ui.close()
            engine.request_stop()
            await asyncio.wait_for(task, 30)
            await control.close()


def _start_venue(quick: bool) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.sim.replay_venue"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise BurstError("the replaying venue exited before it was listening")
    info: dict[str, Any] = json.loads(line)
    return proc, info


def measure(quick: bool) -> tuple[list[StageResult], str]:
    """Run every stage; (results, what was replayed)."""
    session = spot_session()
    proc, info = _start_venue(quick)
    logging.disable(logging.WARNING)
    try:
        return asyncio.run(_run(quick, session, info["ws"], info["rest"])), str(info["source"])
    finally:
        logging.disable(logging.NOTSET)
        proc.terminate()
        proc.wait(timeout=10)


def breaking_point(results: list[StageResult]) -> str:
    """The first stage that did not keep up, which queue filled first there, the first cut-off."""
    parts = []
    for r in results:
        if r.verdict != "kept up" and not r.stage.startswith("1x"):
            if r.cutoffs:
                first = f"the venue's send queue for the engine filled ({r.venue_queue_limit})"
            elif r.event_ring_dropped:
                first = f"the engine->UI event ring filled ({r.event_ring_dropped} dropped)"
            else:
                first = (
                    "the backlog sat in the socket buffers ahead of the engine's reader "
                    f"(venue queue peak {r.venue_peak_queue}/{r.venue_queue_limit}, "
                    f"event ring drops {r.event_ring_dropped}, command ring drops "
                    f"{r.command_ring_dropped})"
                )
            parts.append(f"breaks at {r.stage} (reached {r.speed_x:.0f}x): {first}; {r.verdict}")
            break
    cut = next((r for r in results if r.cutoffs), None)
    if cut is not None:
        parts.append(f"first cut-off at {cut.stage}: {cut.verdict}")
    return "; ".join(parts) or "no stage broke"


def table(results: list[StageResult]) -> str:
    """The breaking-point table (Markdown), as in the README."""
    head = (
        "| stage | wall s | reached | frames/s | book upd/s | wire-to-book p50/p99 us | max lag "
        "| venue queue peak | cut-offs | resyncs | reconnects | event ring peak/drops "
        "| cmd drops | engine |"
    )
    lines = [head, "|" + "---|" * 14]
    lines.extend(
        f"| {r.stage} | {r.wall_s:.1f} | {r.speed_x:.0f}x | {r.frames_per_s:.0f} "
        f"| {r.book_updates_per_s:.0f} "
        f"| {r.wire_p50_us:.0f}/{r.wire_p99_us:.0f} "
        f"| {r.max_lag_s * 1e3:.0f} ms, {r.max_lag_diffs} diffs "
        f"| {r.venue_peak_queue}/{r.venue_queue_limit} | {r.cutoffs} | {r.resyncs} "
        f"| {r.reconnects} | {r.event_ring_peak}/{r.event_ring_dropped} "
        f"| {r.command_ring_dropped} | {r.verdict} |"
        for r in results
    )
    return "\n".join(lines)


def run(quick: bool) -> SubjectRun:
    """The ``burst`` subject for ``python -m engine.bench``."""
    results, source = measure(quick)
    sys.stderr.write(table(results) + "\n" + breaking_point(results) + "\n")
    rows = []
    for r in results:
        for metric, unit, value in (
            ("frames_per_s", "frames/s", r.frames_per_s),
            ("book_updates_per_s", "updates/s", r.book_updates_per_s),
            ("wire_p50", "us", r.wire_p50_us),
            ("wire_p99", "us", r.wire_p99_us),
            ("max_lag", "s", r.max_lag_s),
            ("venue_peak_queue", "frames", float(r.venue_peak_queue)),
            ("cutoffs", "count", float(r.cutoffs)),
            ("resyncs", "count", float(r.resyncs)),
            ("event_ring_dropped", "records", float(r.event_ring_dropped)),
            ("command_ring_dropped", "records", float(r.command_ring_dropped)),
        ):
            rows.append(summarize(SUBJECT, OURS, f"{r.stage}:{metric}", unit, [value]))
    verdicts = "; ".join(f"{r.stage}: {r.verdict}" for r in results)
    return SubjectRun(
        subject=SUBJECT,
        ours=OURS,
        input=(
            f"{source} replayed by a local venue process over a WebSocket into a paper engine "
            f"with the market maker; stages {verdicts}; {breaking_point(results)}"
        ),
        results=rows,
    )

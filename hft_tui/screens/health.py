"""HealthScreen: the detail behind the status bar: venue link, rates, rings, heartbeat, rate limits.

Sections: the engine (mode, uptime, heartbeat age), market data (link state, book updates per
second and in total, wire-to-book p50/p99 (frame received to book updated, over the engine's
latest updates), gaps, resyncs, malformed frames, and the feed's reconnects and frames from
``GET /status``, read every few seconds while on show), the order gateway (kind, health, rejects
and the use of every venue rate limiter with a gauge), the shared-memory rings (depth, peak and
drops both ways) and the UI itself (states skipped to stay current).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from engine.errors import ControlError
from engine.ipc.protocol import RingView
from hft_tui import format as fmt
from hft_tui.control import ControlClient
from hft_tui.frame import Frame
from hft_tui.screens.base import DeskScreen

#: a heartbeat older than this is shown as bad (the engine beats every 100 ms)
_HB_BAD_NS = 500_000_000
#: a wire-to-book p99 above this is shown as a warning
_WIRE_WARN_US = 1_000.0
_GAUGE_W = 20
_LABEL_W = 15


def _whole(value: object) -> int:
    """A count from the status document; anything that is not a whole number counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class HealthScreen(DeskScreen):
    """Engine, venue, gateway, rings and UI health.

    Args:
        token_env: the control token's environment variable (unused: reads need none).
    """

    MODE = "health"
    REMOTE_EVERY_S = 3.0

    def __init__(self, token_env: str = "HFT_CONTROL_TOKEN") -> None:  # noqa: S107 - a name
        super().__init__()
        self._token_env = token_env
        self.venue_status: dict[str, Any] | None = None
        """The ``venue`` part of the last ``/status`` document."""
        self.recorder_status: dict[str, Any] | None = None
        """The ``recorder`` part of the last ``/status`` document (None: not recording)."""
        self.status_error = ""

    def compose_body(self) -> ComposeResult:
        """One scrollable panel."""
        with VerticalScroll(id="health-body"):
            yield Static(id="health")

    def fetch_remote(self, control_url: str) -> None:
        """Read the feed's reconnects and frames from ``/status``."""
        url = control_url
        self.run_worker(
            lambda: self._fetch(url), thread=True, exclusive=True, group="health-status",
            exit_on_error=False,
        )  # fmt: skip

    def _fetch(self, url: str) -> None:
        try:
            doc = ControlClient(url, self._token_env).get("/status")
        except ControlError as exc:
            self.app.call_from_thread(self._fetched, None, str(exc))
            return
        venue = doc.get("venue") if isinstance(doc, dict) else None
        recorder = doc.get("recorder") if isinstance(doc, dict) else None
        self.app.call_from_thread(
            self._fetched,
            venue if isinstance(venue, dict) else None,
            "",
            recorder if isinstance(recorder, dict) else None,
        )

    def _fetched(
        self, venue: dict[str, Any] | None, error: str, recorder: dict[str, Any] | None = None
    ) -> None:
        self.venue_status = venue
        self.recorder_status = recorder
        self.status_error = error
        if self.frame is not None:
            self.show(self.frame)

    # ---- drawing ------------------------------------------------------------------------------

    def _row(self, out: Text, label: str, *pieces: tuple[str, str]) -> None:
        out.append(f"  {label:<{_LABEL_W}}", self.tone("muted"))
        for text, tone in pieces:
            out.append(text, self.tone(tone) if tone else "")
        out.append("\n")

    def _ring(self, out: Text, label: str, ring: RingView | None) -> None:
        if ring is None:
            self._row(out, label, ("not known yet", "muted"))
            return
        self._row(
            out,
            label,
            (fmt.ring_fill(ring.depth, ring.capacity), "ok"),
            (f"  peak {fmt.count(ring.peak)}  dropped ", "muted"),
            (fmt.count(ring.dropped), "bad" if ring.dropped else "ok"),
        )

    def show(self, frame: Frame) -> None:
        """Every section."""
        out = Text(no_wrap=True, overflow="crop")
        engine = frame.engine
        out.append(" engine\n", "bold")
        mode = engine.mode if engine else "?"
        uptime = fmt.age(frame.now_ns - engine.started_ns) if engine else "?"
        pid = engine.pid if engine else frame.pid
        self._row(out, "instance", (f"{frame.instance} (pid {pid})  mode {mode}", ""),
                  (f"  up {uptime}", "muted"))  # fmt: skip
        hb = frame.heartbeat_age_ns
        hb_tone = "bad" if hb > _HB_BAD_NS or frame.lost else "ok"
        lost = f"  engine {frame.lost}" if frame.lost else ""
        self._row(out, "heartbeat", (fmt.age(hb), hb_tone), (lost, "bad"))
        out.append(" market data\n", "bold")
        link_tone = "ok" if frame.link == "live" else "warn"
        self._row(out, "venue link", (f"{frame.venue or '?'} ", ""), (frame.link, link_tone))
        if engine is not None:
            self._row(out, "book updates", (fmt.rate(engine.updates_per_s), "ok"),
                      (f"  {fmt.count(engine.book_updates)} in all", "muted"))  # fmt: skip
            p50, p99 = engine.wire_p50_us, engine.wire_p99_us
            if p99 > 0:
                tone = "ok" if p99 < _WIRE_WARN_US else "warn"
                self._row(out, "wire to book", ("p50 ", "muted"), (fmt.micros(p50), "ok"),
                          ("  p99 ", "muted"), (fmt.micros(p99), tone))  # fmt: skip
            else:
                self._row(out, "wire to book", ("no book update measured yet", "muted"))
            bad = "warn" if frame.malformed else "ok"
            gaps = f"{fmt.count(engine.gaps)} / {fmt.count(engine.resyncs)}"
            self._row(out, "gaps / resyncs", (gaps, "ok"),
                      ("  malformed ", "muted"), (fmt.count(frame.malformed), bad))  # fmt: skip
        venue = self.venue_status
        if venue is not None:
            reconnects, frames = _whole(venue.get("reconnects")), _whole(venue.get("frames"))
            self._row(out, "reconnects", (fmt.count(reconnects), "warn" if reconnects else "ok"),
                      (f"  frames {fmt.count(frames)}", "muted"))  # fmt: skip
        else:
            self._row(out, "reconnects", (self.status_error or "reading /status…", "muted"))
        self._recorder(out)
        self._gateway(out, frame)
        out.append(" rings\n", "bold")
        self._ring(out, "events (to UI)", frame.events_ring)
        self._ring(out, "commands", engine.commands_ring if engine else None)
        out.append(" this UI\n", "bold")
        self._row(out, "skipped", (f"{fmt.count(frame.skipped)} states", "ok"),
                  ("  (newer ones replaced them before they were drawn)", "muted"))  # fmt: skip
        out.rstrip()
        self.query_one("#health", Static).update(out)

    def _recorder(self, out: Text) -> None:
        """The catalog recorder's files, rows, drops and queue, when the engine records."""
        rec = self.recorder_status
        if rec is None:
            return
        dropped, errors = _whole(rec.get("dropped")), _whole(rec.get("write_errors"))
        depth, capacity = _whole(rec.get("queue_depth")), _whole(rec.get("queue_capacity"))
        self._row(out, "recorder", (f"{fmt.count(_whole(rec.get('files_written')))} files", "ok"),
                  (f"  {fmt.count(_whole(rec.get('rows_written')))} rows  dropped ", "muted"),
                  (fmt.count(dropped), "bad" if dropped else "ok"),
                  (f"  queue {fmt.ring_fill(depth, capacity)}", "muted"))  # fmt: skip
        if errors:
            error = str(rec.get("last_error", ""))
            self._row(out, "write errors", (fmt.count(errors), "bad"), (f"  {error}", "muted"))

    def _gateway(self, out: Text, frame: Frame) -> None:
        page = frame.desk.page
        out.append(" order gateway\n", "bold")
        if page is None or not page.gateway:
            self._row(out, "gateway", ("none (no trading page yet)", "muted"))
            return
        healthy = ("healthy", "ok") if page.gateway_healthy else ("UNHEALTHY", "bad")
        reason = f"  {page.gateway_reason}" if page.gateway_reason else ""
        self._row(out, "gateway", (f"{page.gateway} ", ""), healthy, (reason, "warn"))
        self._row(out, "rejects", (fmt.count(page.rejects), "warn" if page.rejects else "ok"),
                  (f"  working orders {fmt.count(page.open_orders)}", "muted"))  # fmt: skip
        for limiter in page.rate:
            near = limiter.limit > 0 and limiter.used * 5 >= limiter.limit * 4
            tone = "bad" if near else "ok"
            bar = fmt.gauge(limiter.used, limiter.limit, _GAUGE_W)
            share = fmt.percent(limiter.used, limiter.limit)
            used = f"{fmt.count(limiter.used)}/{fmt.count(limiter.limit)}"
            self._row(out, limiter.name, (bar, tone), (f" {used} {share}", tone))
        if not page.rate:
            self._row(out, "rate limits", ("none reported by this gateway", "muted"))

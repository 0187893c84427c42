"""TradingApp: modes, the priority kill switch, and the engine attachment's lifecycle.

The app attaches through an :class:`EngineSession` (in a worker: starting an engine can take
seconds), reads the engine with a :class:`~hft_tui.bridge.StateReader` at most ``refresh_hz``
times a second, and hands each frame to the trade screen. The next read is scheduled only after
the screen has drawn the last one, so reads never overlap and a slow terminal skips states
instead of queueing them. Screens own everything else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import msgspec
from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer

from engine.core.clock import Clock
from engine.errors import EngineError
from hft_tui.bridge import EngineBridge
from hft_tui.messages import EngineAttached, EngineAttachFailed, StateRefreshed
from hft_tui.screens.confirm import ConfirmScreen
from hft_tui.screens.engine_lost import EngineLostScreen
from hft_tui.screens.trade import TradeScreen
from hft_tui.state_reader import Frame, StateReader


class EngineSession(Protocol):
    """What the app needs from whoever started or found the engine."""

    owns_engine: bool
    """True when this UI started the engine (q stops it; r may restart it)."""

    def connect(self) -> EngineBridge:
        """(Re)attach to the engine; raises ``EngineNotRunning``."""
        ...

    def restart(self) -> EngineBridge:
        """Start the engine again and attach (raises if that is not possible)."""
        ...

    def shutdown(self) -> None:
        """Stop the engine if this session owns it."""
        ...


class UiSettings(msgspec.Struct, frozen=True):
    """How the UI reads the engine."""

    refresh_hz: float = 20.0
    """Most frames drawn per second; states in between are skipped, never queued."""
    instrument: int = 0
    """Dense id of the instrument the trade screen shows."""
    ansi: bool | None = None
    """Use the terminal's own 16 colours (an ANSI theme); None: when it reports no more."""


class TradingApp(App[None]):
    """The workstation UI on one engine.

    Args:
        session: how to attach to (and maybe restart) the engine.
        settings: refresh rate and instrument.
        clock: wall time for heartbeat ages (``SimClock`` in tests).
    """

    CSS_PATH = "styles/app.tcss"
    TITLE = "hft-tui"
    ENABLE_COMMAND_PALETTE = False
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {"trade": TradeScreen}
    DEFAULT_MODE = "trade"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+k", "kill", "kill switch", priority=True),
        Binding("ctrl+r", "reset", "reset breaker"),
        Binding("q", "quit", "quit"),
    ]
    """
    | key | action |
    |---|---|
    | `ctrl+k` | halt trading now, from any screen, no confirmation |
    | `ctrl+r` | re-enable trading after a halt, after a y/n confirmation |
    | `q` | quit (the caller stops an engine this UI started) |
    """

    def __init__(self, session: EngineSession, settings: UiSettings, clock: Clock) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self.clock = clock
        self.reader: StateReader | None = None
        """Reads the attached engine; None until attached."""
        self._poll_timer: Timer | None = None
        self._last_seq = 0
        self._replaced = 0

    # ---- lifecycle ----------------------------------------------------------------------

    def on_mount(self) -> None:
        """Use the terminal's own 16 colours when that is all it has; attach to the engine."""
        ansi = self.settings.ansi
        if ansi if ansi is not None else self.console.color_system == "standard":
            self.theme = "ansi-dark"
        self._connect_engine(restart=False)

    def on_unmount(self) -> None:
        """Detach from the engine (it keeps running; the caller decides whether to stop it)."""
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        reader, self.reader = self.reader, None
        if reader is not None:
            reader.bridge.close()

    @work(thread=True, exclusive=True, group="engine", exit_on_error=False)
    def _connect_engine(self, restart: bool) -> None:
        try:
            bridge = self.session.restart() if restart else self.session.connect()
        except (EngineError, OSError) as exc:
            self.post_message(EngineAttachFailed(str(exc)))
            return
        symbols = bridge.info.symbols
        if not 0 <= self.settings.instrument < len(symbols):
            bridge.close()
            self.post_message(
                EngineAttachFailed(
                    f"engine {bridge.info.instance!r} has no instrument id "
                    f"{self.settings.instrument}; it trades {', '.join(symbols) or 'nothing'}"
                )
            )
            return
        self.post_message(EngineAttached(bridge))

    @on(EngineAttached)
    def _attached(self, message: EngineAttached) -> None:
        if self.reader is not None:
            self.reader.bridge.close()
        self.reader = StateReader(message.bridge, self.settings.instrument, self.clock)
        self._last_seq = 0
        lost = self._lost_screen()
        if lost is not None:
            lost.dismiss()
        if self._poll_timer is None:
            self._poll()

    @on(EngineAttachFailed)
    def _attach_failed(self, message: EngineAttachFailed) -> None:
        lost = self._lost_screen()
        if lost is None:
            self.push_screen(self._new_lost_screen("failed", message.error))
        else:
            lost.error = message.error
            lost.restarting = False

    @on(EngineLostScreen.RestartRequested)
    def _restart(self) -> None:
        self._connect_engine(restart=True)

    # ---- reading ------------------------------------------------------------------------

    def _poll(self) -> None:
        """Read the engine once; the next read waits until this frame is drawn."""
        self._poll_timer = None
        reader = self.reader
        if reader is None:
            return
        frame = reader.read()
        if frame is None:
            self._schedule_poll()
            return
        self.post_message(StateRefreshed(frame))
        self.call_after_refresh(self._schedule_poll)

    def _schedule_poll(self) -> None:
        if self._poll_timer is None and self.is_running:
            self._poll_timer = self.set_timer(1.0 / self.settings.refresh_hz, self._poll)

    @on(StateRefreshed)
    def _refreshed(self, message: StateRefreshed) -> None:
        frame = message.frame
        if self._last_seq and frame.seq > self._last_seq + 1:
            self._replaced += frame.seq - self._last_seq - 1
        self._last_seq = frame.seq
        if self._replaced:
            frame = dataclasses.replace(frame, skipped=frame.skipped + self._replaced)
        self._trade_screen().frame = frame
        self._track_loss(frame)

    def _trade_screen(self) -> TradeScreen:
        screen = self.get_screen_stack("trade")[0]
        assert isinstance(screen, TradeScreen)
        return screen

    # ---- engine lost --------------------------------------------------------------------

    def _lost_screen(self) -> EngineLostScreen | None:
        screen: Screen[Any] = self.screen
        return screen if isinstance(screen, EngineLostScreen) else None

    def _new_lost_screen(self, reason: str, error: str = "") -> EngineLostScreen:
        pid = self.reader.bridge.info.pid if self.reader is not None else 0
        return EngineLostScreen(reason, pid=pid, owns_engine=self.session.owns_engine, error=error)

    def _track_loss(self, frame: Frame) -> None:
        lost = self._lost_screen()
        if frame.lost and lost is None:
            self.push_screen(self._new_lost_screen(frame.lost))
        elif not frame.lost and lost is not None and lost.reason == "silent":
            lost.dismiss()

    # ---- actions --------------------------------------------------------------------------

    def action_kill(self) -> None:
        """Halt trading now: a KILL command on the lossless command ring, no confirmation."""
        reader = self.reader
        if reader is None:
            self.notify(
                "not attached to an engine: run `hft-tui kill`", severity="error", timeout=10
            )
            return
        try:
            reader.bridge.send_kill()
        except EngineError as exc:
            self.notify(str(exc), title="KILL NOT SENT", severity="error", timeout=10)
            return
        reader.kill_sent()

    def action_reset(self) -> None:
        """Ask, then send RESET: trading resumes only after an explicit `y`."""
        reader = self.reader
        if reader is None:
            self.notify("not attached to an engine", severity="error", timeout=10)
            return
        instance = reader.bridge.info.instance
        self.push_screen(
            ConfirmScreen(
                "RE-ENABLE TRADING",
                f"Reset the circuit breaker of engine {instance!r} and let orders out again?",
            ),
            self._reset_answered,
        )

    def _reset_answered(self, yes: bool | None) -> None:
        reader = self.reader
        if not yes or reader is None:
            return
        try:
            reader.bridge.send_reset()
        except EngineError as exc:
            self.notify(str(exc), title="RESET NOT SENT", severity="error", timeout=10)
            return
        self.notify("reset sent", timeout=3)

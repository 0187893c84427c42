"""TradingApp: modes, the priority kill switch, and the engine attachment's lifecycle.

The app attaches through an :class:`EngineSession` (in a worker: starting an engine can take
seconds), reads the engine with a :class:`~hft_tui.state_reader.StateReader` at most
``refresh_hz`` times a second, and hands each frame to the screen on show (only that one redraws).
The next read is scheduled only after the screen has drawn the last one, so reads never overlap
and a slow terminal skips states instead of queueing them.

Modes are the workstation's screens (trade, orders, positions, risk, strategies, alerts, health,
backtest), switched by the keys in :data:`~hft_tui.keys.MODE_KEYS` whenever no dialog is open.
``ctrl+k`` is a priority binding: it halts trading from every screen and every dialog. Order
requests from the screens go out through a :class:`~hft_tui.commands.CommandSender`. Screens own
everything else.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.timer import Timer

from engine.core.clock import Clock
from engine.errors import EngineError
from hft_tui.commands import CommandSender
from hft_tui.frame import Frame
from hft_tui.keys import MODE_KEYS, help_rows
from hft_tui.messages import (
    CancelAllRequested,
    CancelRequested,
    CommandAnswered,
    EngineAttached,
    EngineAttachFailed,
    OrderRequested,
    StateRefreshed,
)
from hft_tui.screens.alerts import AlertsScreen
from hft_tui.screens.backtest import BacktestScreen
from hft_tui.screens.base import DeskScreen
from hft_tui.screens.confirm import ConfirmScreen
from hft_tui.screens.engine_lost import EngineLostScreen
from hft_tui.screens.health import HealthScreen
from hft_tui.screens.help import HelpScreen
from hft_tui.screens.orders import OrdersScreen
from hft_tui.screens.positions import PositionsScreen
from hft_tui.screens.risk import RiskScreen
from hft_tui.screens.strategies import StrategiesScreen
from hft_tui.screens.trade import TradeScreen
from hft_tui.settings import EngineSession as EngineSession
from hft_tui.settings import UiSettings as UiSettings
from hft_tui.state_reader import StateReader


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
    DEFAULT_MODE = "trade"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+k", "kill", "kill switch", priority=True,
                tooltip="halt trading now and cancel every order, from any screen or dialog"),
        Binding("ctrl+r", "reset", "reset breaker",
                tooltip="re-enable trading after a halt (asks y/n first)"),
        Binding("question_mark", "help", "keys", tooltip="this list of keys"),
        Binding("q", "quit", "quit", tooltip="quit (stops an engine this UI started)"),
        *(Binding(m.key, f"mode('{m.mode}')", m.label, show=False) for m in MODE_KEYS),
    ]  # fmt: skip
    """
    | key | action |
    |---|---|
    | `ctrl+k` | halt trading now, from any screen, no confirmation |
    | `ctrl+r` | re-enable trading after a halt, after a y/n confirmation |
    | `?` | the keys of this screen and every mode |
    | `q` | quit (the caller stops an engine this UI started) |
    | `t` `o` `p` `r` `y` `a` `h` `w` | the modes: trade ... health, backtest (`?` names them) |
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
        self._frame: Frame | None = None
        self._commands = CommandSender()
        token_env = settings.token_env
        screens: dict[str, Any] = {
            "trade": partial(TradeScreen, settings.size_presets),
            "orders": partial(OrdersScreen, token_env),
            "positions": PositionsScreen,
            "risk": partial(RiskScreen, token_env),
            "strategies": partial(StrategiesScreen, token_env),
            "alerts": AlertsScreen,
            "health": partial(HealthScreen, token_env),
            "backtest": partial(BacktestScreen, settings.backtest_data),
        }
        for mode in MODE_KEYS:
            self.add_mode(mode.mode, screens[mode.mode])

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
        self._frame = frame
        self._show_frame()
        self._track_loss(frame)

    def _show_frame(self) -> None:
        """Hand the latest frame to the base screen of the mode on show."""
        stack = self.screen_stack
        base = stack[0] if stack else None
        if isinstance(base, DeskScreen) and self._frame is not None:
            base.frame = self._frame

    # ---- modes and help -------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Modes and help wait while a dialog is open; everything else is the screens' call."""
        return not (action in ("mode", "help") and isinstance(self.screen, ModalScreen))

    async def action_mode(self, mode: str) -> None:
        """Show another mode's screen, drawn with the latest frame at once."""
        if mode == self.current_mode:
            return
        await self.switch_mode(mode)
        self._show_frame()

    def action_help(self) -> None:
        """List every key: global ones, the modes, and the keys of the screen on show."""
        base = self.screen_stack[0] if self.screen_stack else None
        title = self.current_mode
        own = help_rows(type(base).BINDINGS) if isinstance(base, DeskScreen) else []
        self.push_screen(HelpScreen(title, help_rows(self.BINDINGS), own))

    # ---- orders -------------------------------------------------------------------------------

    def _answer(self, answer: CommandAnswered) -> None:
        self.screen_stack[0].post_message(answer)

    @on(OrderRequested)
    def _order_requested(self, message: OrderRequested) -> None:
        reader = self.reader
        self._answer(self._commands.submit(reader.bridge if reader else None, message))

    @on(CancelRequested)
    def _cancel_requested(self, message: CancelRequested) -> None:
        reader = self.reader
        self._answer(self._commands.cancel(reader.bridge if reader else None, message))

    @on(CancelAllRequested)
    def _cancel_all_requested(self, message: CancelAllRequested) -> None:
        reader = self.reader
        self._answer(self._commands.cancel_all(reader.bridge if reader else None, message))

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

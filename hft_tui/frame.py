"""Frame: everything one screen refresh draws, as frozen values read from the engine.

The :class:`~hft_tui.state_reader.StateReader` builds one per read; the app hands the latest to
the screen on show, which hands each widget its part. A newer frame always supersedes an older one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.ipc.protocol import BookView, EngineView, RingView
from hft_tui.desk import Desk
from hft_tui.pnl_curve import NO_CURVE, PnlCurve
from hft_tui.quote_trail import NO_TRAIL, QuoteTrail


@dataclass(frozen=True, slots=True)
class TapeTrade:
    """One public trade as the tape shows it."""

    exch_ts: int
    """Exchange time of the trade, ns since the epoch."""
    price: int
    """Ticks."""
    size: int
    """Lots."""
    buy: bool
    """The aggressor bought."""
    trade_id: int
    """The venue's trade id."""


Lost = Literal["", "exited", "silent"]


@dataclass(frozen=True, slots=True)
class Frame:
    """Everything one screen refresh draws; the latest frame always supersedes older ones."""

    seq: int
    """Frame number since the reader started; a gap means frames were replaced unseen."""
    now_ns: int
    """The UI clock's wall time when the frame was read."""
    instance: str
    """The engine instance name."""
    pid: int
    """The engine's process id."""
    instrument: int
    """Dense id of the instrument the trade screen shows."""
    symbol: str
    """Symbol of the instrument shown."""
    venue: str
    """Venue name from the engine page (empty before the first one)."""
    book: BookView | None
    """The latest book view; None before the engine first wrote it."""
    book_state: str
    """``live`` only when the book may be shown as valid; else syncing, crossed, stale, waiting."""
    engine: EngineView | None
    """The latest engine view; None before the engine first wrote it."""
    trading: str
    """``running``, ``halted`` or ``unknown`` (no engine page yet)."""
    halt_reason: str
    """Why trading is halted, in the engine's words; empty while running."""
    halted_at_ns: int
    """When trading was halted, ns since the epoch (0 while running)."""
    kill_pending: bool
    """This UI sent a kill and the engine has not confirmed the halt yet."""
    kill_pending_ns: int
    """How long that kill has waited for the engine to confirm it."""
    link: str
    """The venue link state: ``live``, ``syncing``, ``disconnected`` ..."""
    trades: tuple[TapeTrade, ...]
    """Newest first."""
    heartbeat_age_ns: int
    """How old the engine's last heartbeat is."""
    lost: Lost
    """``exited`` (no process) or ``silent`` (no heartbeat); empty while the engine is alive."""
    skipped: int
    """States the UI never drew because newer ones superseded them, since start."""
    events_ring: RingView
    """The engine -> UI ring as this UI sees it now: depth, capacity, peak, drops."""
    malformed: int
    """Venue frames the engine could not parse, since it started."""
    desk: Desk
    """Orders, positions, PnL, fills and alerts."""
    control_url: str
    """Where the engine's HTTP control plane listens (empty when it has none)."""
    pnl: PnlCurve = NO_CURVE
    """The portfolio's net PnL since this UI attached, as the trading pages reported it."""
    quotes: QuoteTrail = NO_TRAIL
    """The shown instrument's mid and spread, one point a second, as the book pages reported it."""

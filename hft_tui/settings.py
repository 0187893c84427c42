"""What the app is handed: how to reach the engine (a session) and how to show it (settings)."""

from __future__ import annotations

from typing import Protocol

import msgspec

from hft_tui.bridge import EngineBridge

DEFAULT_PRESETS = ("0.001", "0.01", "0.1")
"""The order ticket's size presets (base currency) unless the settings name others."""


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
    size_presets: tuple[str, ...] = DEFAULT_PRESETS
    """The order ticket's sizes (keys 1-3), exact base-currency text on the lot grid."""
    token_env: str = "HFT_CONTROL_TOKEN"  # noqa: S105 - a variable name
    """The environment variable holding the control token (needed to change risk limits)."""
    backtest_data: str = ""
    """What the backtest form's data field starts with (``HFT_BACKTEST_DATA`` on the CLI)."""

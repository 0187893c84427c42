"""The child of the ``ui`` bench's ``start_to_first_book``: ``hft-tui``'s start, timed to the book.

Run as ``python -c "from hft_tui.bench.ui_start import main; main(STARTED_NS, INSTANCE)"`` by
:mod:`hft_tui.bench.ui`, with ``STARTED_NS`` the wall time just before the interpreter started. It
does what ``hft-tui`` does, in its order (spawn the engine, load the UI meanwhile, wait for the
engine, run the app), headless at 80x24, and prints ``{"seconds": ...}`` once the trade screen
has drawn the first frame with a live book. Nothing heavy is imported before the engine is
spawned, as in the command line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


class StartBenchError(RuntimeError):
    """The UI quit before it drew a live book."""


def main(started_ns: int, instance: str) -> None:
    """Start engine and UI as ``hft-tui`` does; print the seconds to the first drawn live book."""
    from hft_tui.launcher import OwnedSession

    session = OwnedSession(instance, None)
    session.engine.spawn()
    from engine.core.clock import LiveClock
    from hft_tui.app import TradingApp, UiSettings
    from hft_tui.screens.base import DeskScreen

    seen: list[float] = []
    css = str(
        Path(sys.modules[TradingApp.__module__].__file__ or "").parent / "styles" / "app.tcss"
    )

    class FirstBookApp(TradingApp):
        CSS_PATH = css

        def _show_frame(self) -> None:
            super()._show_frame()
            base = self.screen_stack[0] if self.screen_stack else None
            frame = base.frame if isinstance(base, DeskScreen) else None
            live = frame is not None and frame.book_state == "live"
            book = frame.book if frame is not None else None
            if not seen and live and book is not None and book.bids:
                seen.append(0.0)
                self.call_after_refresh(self._drawn)

        def _drawn(self) -> None:
            seen[0] = (time.time_ns() - started_ns) / 1e9
            self.exit()

    try:
        session.connect().close()  # as `hft-tui` does before the UI starts
        FirstBookApp(session, UiSettings(), LiveClock()).run(headless=True, size=(80, 24))
    finally:
        session.shutdown()
    if not seen or seen[0] <= 0:
        raise StartBenchError("the UI quit before it drew a live book")
    sys.stdout.write(json.dumps({"seconds": seen[0]}) + "\n")

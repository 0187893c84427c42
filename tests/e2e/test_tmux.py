"""End to end in a real terminal: the installed ``hft-tui`` in tmux at 80x24, driven by keys.

The test starts ``hft-tui`` (engine and UI, on the built-in local venue) in a detached tmux
session of its own (a private server socket, a unique instance name, its own state folder and a
free control port), then reads the screen with ``capture-pane`` and types with ``send-keys``: it
waits for prices, buys at the bid from the ticket (on a quiet local market, so the order rests)
and sees it working, cancels it, presses
``ctrl+k`` and sees HALTED, and quits with ``q``; the command's exit status must be 0 and the
engine it started must be gone. The tmux server is killed whatever happens.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.ipc.segments import pid_alive, read_instance

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)"),
]

#: the installed console script next to this interpreter (the project's venv)
HFT_TUI = Path(sys.executable).with_name("hft-tui")
#: a price on the ladder: the local venue quotes around 65000.00
PRICE = re.compile(r"\b6\d{4}\.\d{2}\b")
#: how long the engine and the UI may take to start on a busy machine
START_S = 90.0
STEP_S = 20.0


class Tmux:
    """One private tmux server (``-L name``) with one 80x24 session."""

    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *args: str) -> str:
        """Run a tmux command on this server; its stdout."""
        out = subprocess.run(
            ["tmux", "-L", self.name, *args], capture_output=True, text=True, timeout=30
        )
        if out.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def screen(self) -> str:
        """What the pane shows now."""
        return self.run("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        """Type keys into the pane."""
        self.run("send-keys", "-t", self.name, *keys)

    def wait_for(self, seen: Callable[[str], bool], what: str, timeout: float = STEP_S) -> str:
        """Poll the pane until ``seen(screen)``; fail with the last screen if it never is."""
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if seen(shown):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"the terminal never showed {what}; it showed:\n{shown}")

    def kill(self) -> None:
        """End the server, the session and whatever still runs in it; remove its socket."""
        subprocess.run(["tmux", "-L", self.name, "kill-server"], capture_output=True, timeout=30)
        folder = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"  # noqa: S108 - tmux's own default
        (folder / self.name).unlink(missing_ok=True)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    """A private tmux server, always killed at the end."""
    server = Tmux(f"hft-e2e-{uuid.uuid4().hex[:8]}")
    try:
        yield server
    finally:
        server.kill()


def test_trade_cancel_kill_and_quit_in_a_real_terminal(tmux: Tmux, tmp_path: Path) -> None:
    """Starts, shows prices, places and cancels from the ticket, ctrl+k halts, q quits cleanly."""
    assert HFT_TUI.exists(), f"{HFT_TUI} is not installed (uv sync)"
    instance = f"e2e{uuid.uuid4().hex[:8]}"
    env = {
        "HFT__ENGINE__INSTANCE": instance,
        "HFT__ENGINE__STATE_DIR": str(tmp_path / "state"),
        "HFT__CONTROL__PORT": "0",
        # a quiet market, so an order joining the bid rests long enough to be canceled
        "HFT__SIM__EVENTS_PER_SECOND": "2",
        "TERM": "xterm",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    # the exit status is printed after the UI ends, and the pane stays to show it
    command = f"env {exports} {shlex.quote(str(HFT_TUI))}; echo EXIT=$?; sleep 60"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HFT__")}
    subprocess.run(
        ["tmux", "-L", tmux.name, "new-session", "-d", "-s", tmux.name, "-x", "80", "-y", "24",
         "sh", "-c", command],
        env=clean, check=True, timeout=30,
    )  # fmt: skip
    try:
        shown = tmux.wait_for(
            lambda s: len(PRICE.findall(s)) >= 10 and "LIVE" in s, "a live book", START_S
        )
        assert "trading RUNNING" in shown

        tmux.keys("3", "b")  # buy the largest size preset at the best bid: it rests
        resting = re.compile(r"last #\d+ BUY 0\.1\d* (working|partial)")
        tmux.wait_for(lambda s: resting.search(s) is not None, "the order working")
        tmux.wait_for(lambda s: "working 1" in s, "one working order")

        tmux.keys("x")  # cancel the selected order
        canceled = re.compile(r"last #\d+ BUY 0\.1\d* canceled")
        tmux.wait_for(lambda s: canceled.search(s) is not None, "the order canceled")

        tmux.keys("C-k")
        tmux.wait_for(lambda s: "HALTED" in s, "HALTED")

        info = read_instance(instance)
        assert info is not None
        tmux.keys("q")
        tmux.wait_for(lambda s: "EXIT=" in s, "the command ending", STEP_S * 2)
        assert "EXIT=0" in tmux.screen()
        deadline = time.monotonic() + STEP_S
        while pid_alive(info.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pid_alive(info.pid), "quitting left the engine it started running"
    finally:
        info = read_instance(instance)
        if info is not None and pid_alive(info.pid):
            os.kill(info.pid, 15)

"""Start, find and stop engine processes for the UI.

``hft-tui`` starts ``python -m engine`` as a child (its logs go to a file in the runtime directory,
the terminal belongs to the UI) and owns it: quitting stops it, and `r` after a crash starts it
again. :meth:`EngineProcess.spawn` returns at once, so the engine boots while the UI's own modules
load; :meth:`OwnedSession.connect` then waits for it. ``hft-tui attach`` finds an engine that is
already running and never stops it.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.errors import EngineError
from engine.ipc.segments import pid_alive, read_instance, runtime_dir
from hft_tui.bridge import EngineBridge, EngineNotRunning


class EngineStartError(EngineError):
    """The engine process exited or did not come up in time; the message has its last log lines."""


def log_path(instance: str) -> Path:
    """Where a UI-started engine writes its log."""
    return runtime_dir() / f"{instance}.log"


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


class EngineProcess:
    """One engine child process.

    Args:
        instance: the instance name it runs as.
        config_path: config file for ``--config``, or None for the embedded default.
    """

    def __init__(self, instance: str, config_path: str | None) -> None:
        self.instance = instance
        self.config_path = config_path
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        """Start the engine process and return at once (:meth:`wait_started` waits for it)."""
        if self.alive():
            return
        args = [sys.executable, "-m", "engine", "--instance", self.instance, "--log-format", "json"]
        if self.config_path:
            args += ["--config", self.config_path]
        with log_path(self.instance).open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def wait_started(self, timeout_s: float = 20.0) -> None:
        """Wait until the spawned engine has announced its segments and control plane.

        Raises:
            EngineStartError: it was never spawned, exited early, or did not announce itself
                within ``timeout_s``.
        """
        proc, log = self.proc, log_path(self.instance)
        if proc is None:
            raise EngineStartError(f"engine {self.instance!r} was not started")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                raise EngineStartError(
                    f"engine exited with code {code} during start-up; last log lines "
                    f"({log}):\n{_tail(log)}"
                )
            info = read_instance(self.instance)
            if info is not None and info.pid == proc.pid and info.control_url:
                return
            time.sleep(0.05)
        self.stop()
        raise EngineStartError(f"engine did not come up within {timeout_s:.0f} s; see {log}")

    def start(self, timeout_s: float = 20.0) -> None:
        """Start the engine and wait until its segments are announced.

        Raises:
            EngineStartError: it exited early or did not announce itself within ``timeout_s``.
        """
        self.spawn()
        self.wait_started(timeout_s)

    def alive(self) -> bool:
        """True while the child runs."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM, wait, then SIGKILL. Idempotent."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _attach_waiting(instance: str, timeout_s: float) -> EngineBridge:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return EngineBridge.attach(instance)
        except EngineNotRunning:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class OwnedSession:
    """The UI started this engine: `q` stops it, `r` restarts it after a crash."""

    owns_engine = True

    def __init__(self, instance: str, config_path: str | None) -> None:
        self.engine = EngineProcess(instance, config_path)

    def connect(self) -> EngineBridge:
        """Start the engine if it is not running (or wait for one spawned), then attach to it."""
        if not self.engine.alive():
            self.engine.start()
        else:
            self.engine.wait_started()
        return _attach_waiting(self.engine.instance, 5.0)

    def restart(self) -> EngineBridge:
        """Stop whatever is left of the engine, start a new one, attach."""
        self.engine.stop()
        self.engine.start()
        return _attach_waiting(self.engine.instance, 5.0)

    def shutdown(self) -> None:
        """Stop the engine this UI started."""
        self.engine.stop()


class AttachedSession:
    """The engine runs elsewhere (``--no-ui``, systemd): the UI never stops or restarts it."""

    owns_engine = False

    def __init__(self, instance: str) -> None:
        self.instance = instance

    def connect(self) -> EngineBridge:
        """Attach to the running engine.

        Raises:
            EngineNotRunning: nothing runs under that name; the message lists what does.
        """
        return EngineBridge.attach(self.instance)

    def restart(self) -> EngineBridge:
        """Re-attach if the engine came back (e.g. systemd restarted it); never starts one."""
        info = read_instance(self.instance)
        if info is None or not pid_alive(info.pid):
            raise EngineNotRunning(
                f"engine {self.instance!r} is not running and was started elsewhere; restart it "
                "there (for example `systemctl restart hft-tui`), then press r again"
            )
        return EngineBridge.attach(self.instance)

    def shutdown(self) -> None:
        """Leave the engine running."""

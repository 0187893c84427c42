"""An engine in its own process, as ``hft-tui --no-ui`` starts it, for the tests that attach to it.

:func:`engine_process` starts ``python -m engine`` on a config, waits until the engine has
announced itself (its instance record names its pid and control URL), then until a condition of
the test's holds, and stops it with SIGTERM at the end.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from engine.ipc.segments import InstanceInfo, read_instance


@contextmanager
def engine_process(
    config: Path,
    env: Mapping[str, str],
    instance: str,
    *,
    announce_s: float = 30.0,
    ready: Callable[[InstanceInfo], bool] = lambda info: True,
    ready_what: str = "the engine to be ready",
) -> Iterator[InstanceInfo]:
    """The engine on ``config``, announced and ``ready``; SIGTERM and a wait when done.

    Args:
        config: the engine's config file.
        env: its environment (the instance's segment folder set, see ``engine_env``).
        instance: the instance name it announces itself under.
        announce_s: how long it may take to announce itself.
        ready: what else must hold before the test runs (polled for up to 120 s: a fresh
            checkout compiles the book kernels first).
        ready_what: names ``ready`` in the failure.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "--config", str(config), "--log-format", "json"],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + announce_s
        while True:
            assert proc.poll() is None, "engine exited during start-up"
            info = read_instance(instance)
            if info is not None and info.pid == proc.pid and info.control_url:
                break
            assert time.monotonic() < deadline, "engine did not announce itself"
            time.sleep(0.05)
        deadline = time.monotonic() + 120
        while not ready(info):
            assert time.monotonic() < deadline, ready_what
            time.sleep(0.1)
        yield info
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)

"""Shared pieces of the live-engine tests: a standalone local venue, an engine process, waits.

The venue runs as its own process (``python -m engine.sim``) trading for one account, so it
outlives an engine killed with SIGKILL; the engine is a real ``python -m engine`` process talked
to over its control plane on 127.0.0.1.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from engine.ipc.segments import read_instance
from tests.integration.control import control, get_status

T = TypeVar("T")


def venue_fixture(key: str, secret: str) -> Any:
    """A pytest fixture ``venue``: a standalone venue for the account ``key`` in ``tmp_path``."""

    @pytest.fixture
    def venue(tmp_path: Path) -> Iterator[tuple[str, str]]:
        """A standalone local venue trading for one account; yields its (ws, rest) URLs."""
        with standalone_venue(tmp_path, key, secret) as urls:
            yield urls

    return venue


@contextmanager
def standalone_venue(folder: Path, key: str, secret: str) -> Iterator[tuple[str, str]]:
    """A quiet local venue in its own process for the account ``key``; its (ws, rest) URLs."""
    env = {"HFT_SIM_API_KEY": key, "HFT_SIM_API_SECRET": secret, "PATH": "/usr/bin:/bin"}
    conf = folder / "venue.toml"
    conf.write_text("[sim]\nseed = 3\nevents_per_second = 40.0\ndepth_interval_ms = 20\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.sim", "--config", str(conf), "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = json.loads(proc.stdout.readline())
    try:
        yield line["ws_url"], line["rest_url"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        proc.stdout.close()


def start_engine(config: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """An engine process on ``config``."""
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "--config", str(config), "--log-format", "json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def stop_engine(proc: subprocess.Popen[str]) -> None:
    """SIGTERM and wait, when it still runs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def wait_for(what: str, check: Callable[[], T], timeout: float = 20.0) -> T:
    """Poll ``check`` until it is truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def ready(instance: str, proc: subprocess.Popen[str]) -> str:
    """The control URL once the book is live and the order link reconciled and healthy."""

    def up() -> str:
        assert proc.poll() is None, "the engine exited"
        info = read_instance(instance)
        if info is None or info.pid != proc.pid or not info.control_url:
            return ""
        status = get_status(info.control_url)
        gateway = status["gateway"] or {}
        live = status["books"]["BTCUSDT"]["state"] == "live"
        return info.control_url if live and gateway.get("healthy") else ""

    return wait_for("a live book and a healthy order link", up, 30)


@contextmanager
def live_engine(config: Path, env: dict[str, str]) -> Iterator[str]:
    """An engine process on ``config``, :func:`ready`: its control URL; stopped at the end."""
    proc = start_engine(config, env)
    try:
        yield ready(env["HFT__ENGINE__INSTANCE"], proc)
    finally:
        stop_engine(proc)


@contextmanager
def announced_engine(
    config: Path,
    env: dict[str, str],
    *,
    until: Callable[[str], object] = bool,
    what: str = "the engine to announce itself",
    timeout: float = 30.0,
) -> Iterator[str]:
    """An engine process on ``config`` once it announced itself and ``until(control_url)``.

    For an engine with no order link (paper), where :func:`ready` would wait for one.

    Args:
        config: the engine's config file.
        env: its environment, naming its instance (``HFT__ENGINE__INSTANCE``).
        until: what else must hold, given the control URL (polled with ``wait_for``).
        what: names ``until`` in the failure.
        timeout: how long both may take (a fresh checkout compiles the book kernels first).
    """
    proc = start_engine(config, env)
    instance = env["HFT__ENGINE__INSTANCE"]

    def up() -> str:
        assert proc.poll() is None, "the engine exited"
        info = read_instance(instance)
        if info is None or info.pid != proc.pid or not info.control_url:
            return ""
        return info.control_url if until(info.control_url) else ""

    try:
        yield wait_for(what, up, timeout)
    finally:
        stop_engine(proc)


def gap_resyncs(url: str, rest_url: str) -> None:
    """A diff lost at the venue: the engine counts the gap and its book is live again."""
    code, _ = control(rest_url, "/sim/faults/gap?symbol=BTCUSDT&missing=1", "POST")
    assert code == 200
    wait_for("the gap", lambda: get_status(url)["venue"]["gaps"] >= 1)
    wait_for("the book live again", lambda: _live_after_resync(url))


def _live_after_resync(url: str) -> bool:
    status = get_status(url)
    return status["venue"]["resyncs"] >= 1 and status["books"]["BTCUSDT"]["state"] == "live"


def place(url: str, token: str, **doc: Any) -> dict[str, Any]:
    """Place an order over the control plane; it must be accepted for sending."""
    code, placed = control(url, "/orders", "POST", json.dumps(doc).encode(), token=token)
    assert code == 201, placed.get("reason", placed)
    return placed


def orders(url: str) -> dict[str, dict[str, Any]]:
    """Every order the engine knows, by client order id."""
    code, doc = control(url, "/orders?all=1")
    assert code == 200
    return {o["client_order_id"]: o for o in doc}  # type: ignore[union-attr]

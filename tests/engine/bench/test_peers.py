"""The peers' environment: a peer that cannot run comes back as a reason, never an exception."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.bench import peers
from engine.bench.peers import PeerUnavailable, PeerWorker, peer_worker
from engine.bench.peers_backtest import (
    HFTBACKTEST,
    NAUTILUS,
    SPOT_BTCUSDT,
    capture_events,
    run_hftbacktest,
    run_nautilus,
)


def test_a_missing_peers_project_is_unavailable_with_the_reason(monkeypatch, tmp_path):
    """Without bench-peers/ (an installed wheel) the worker is not started and says why."""
    monkeypatch.setattr(peers, "WORKER", tmp_path / "worker.py")
    with pytest.raises(PeerUnavailable, match="project is not here"), peer_worker():
        pass


def test_no_python_for_the_peers_is_unavailable(monkeypatch):
    """An unusable interpreter named in the environment is refused before anything starts."""
    monkeypatch.setenv(peers.PYTHON_ENV, "/nonexistent/python3.12")
    assert peers.find_python() is None
    with pytest.raises(PeerUnavailable, match=r"no Python 3\.12"), peer_worker():
        pass


@pytest.mark.parametrize("run", [run_hftbacktest, run_nautilus])
def test_a_missing_capture_is_a_missing_row_not_an_error(run, tmp_path):
    """The peer reports the absent file as its reason, with no figures."""
    result = run([tmp_path / "absent.gz"], reps=1)
    assert result.contestant in {HFTBACKTEST, NAUTILUS}
    assert result.events_per_s == []
    assert result.missing is not None
    assert "absent.gz" in result.missing


@pytest.mark.shared_data
def test_capture_events_counts_depth_and_trade_messages(shared_data: Path):
    """The BTCUSDT session's events are its depthUpdate and trade messages (README counts)."""
    assert all(p.is_file() for p in SPOT_BTCUSDT)
    assert capture_events(SPOT_BTCUSDT) == 6495 + 19904
    assert capture_events(SPOT_BTCUSDT, max_events=100) == 100


_ECHO = """
import json, sys
for line in sys.stdin:
    request = json.loads(line)
    if request["op"] == "die":
        sys.exit(3)
    if request["op"] == "fail":
        print(json.dumps({"ok": False, "error": "ValueError: bad"}), flush=True)
    else:
        print(json.dumps({"ok": True, "echo": request["op"]}), flush=True)
"""


def _fake_worker() -> PeerWorker:
    process = subprocess.Popen(
        [sys.executable, "-c", _ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    return PeerWorker(process)


def test_the_worker_protocol_answers_refusals_and_deaths():
    """An answer comes back as a dict; an error answer or a dead worker is PeerUnavailable."""
    worker = _fake_worker()
    try:
        assert worker.call({"op": "hello"}, timeout_s=30)["echo"] == "hello"
        with pytest.raises(PeerUnavailable, match="ValueError: bad"):
            worker.call({"op": "fail"}, timeout_s=30)
        assert worker.call({"op": "again"}, timeout_s=30)["echo"] == "again"
        with pytest.raises(PeerUnavailable, match="exited"):
            worker.call({"op": "die"}, timeout_s=30)
    finally:
        worker.close()

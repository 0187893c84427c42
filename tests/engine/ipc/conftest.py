"""Fixtures for the shared-memory tests: unique segment names that are always removed."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.ipc.segments import unlink_segment

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def segment() -> Iterator[str]:
    """A segment name no other test or run uses; whatever it names is unlinked afterwards."""
    name = f"hft-test-{uuid.uuid4().hex}"
    yield name
    unlink_segment(name)


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private runtime directory, so instance records never touch the user's real one."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    return tmp_path / "hft-tui"


def _start_python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def python_child() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``python -c code args...`` in the repository root; any still running is killed."""
    started: list[subprocess.Popen[str]] = []

    def start(code: str, *args: str) -> subprocess.Popen[str]:
        proc = _start_python(code, *args)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

"""The engine runs without the UI: importing it must not pull in Textual or hft_tui."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["engine.__main__", "engine.engine", "engine.sim.__main__"])
def test_engine_imports_without_the_tui(module):
    """Importing an engine entry point loads neither textual nor hft_tui."""
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'hft_tui')); "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""

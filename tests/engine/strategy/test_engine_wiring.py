"""The engine builds configured strategies (reference and user ones) and their parameter sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.config import load_config
from engine.engine import Engine
from engine.status import status_document
from engine.strategy.reload import ReloadError
from tests.engine.strategy.test_registry import USER


def test_engine_builds_reference_and_user_strategies(tmp_path: Path) -> None:
    """A grid and a user strategy from [strategy] paths: both listed, with ranges and a sync."""
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "mine.py").write_text(USER)
    path = tmp_path / "engine.toml"
    path.write_text(
        f'[strategy]\npaths = ["{folder}"]\n'
        '[strategies.g]\nkind = "grid"\nsymbol = "BTCUSDT"\n'
        "[strategies.g.params]\nstep_ticks = 50\n"
        '[strategies.u]\nkind = "mine:Mine"\nsymbol = "BTCUSDT"\n'
    )
    config = load_config(path, {"HFT__ENGINE__STATE_DIR": str(tmp_path / "state")})
    engine = Engine(config)
    try:
        docs = {d["name"]: d for d in engine.strategy_control.strategies_doc()}
        assert docs["g"]["kind"] == "Grid"
        assert docs["g"]["params"]["step_ticks"] == 50
        assert docs["g"]["ranges"]["step_ticks"] == "1 <= int <= 1000000"
        assert docs["u"]["kind"] == "Mine"
        assert engine.strategy_control.sync is engine.params_sync
        status = status_document(engine)
        assert status["strategy_params"]["rejected"] == {}
        assert [s["name"] for s in status["strategies"]] == ["g", "u"]
    finally:
        engine.journal.close()
        engine.breaker.close()


def test_engine_refuses_a_broken_user_file_with_its_line(tmp_path: Path) -> None:
    """A user file that fails when run stops the engine being built, naming file and line."""
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "bad.py").write_text('"""Bad."""\n\nraise RuntimeError("no")\n')
    path = tmp_path / "engine.toml"
    path.write_text(
        f'[strategy]\npaths = ["{folder}"]\n[strategies.b]\nkind = "bad:Bad"\nsymbol = "BTCUSDT"\n'
    )
    config = load_config(path, {"HFT__ENGINE__STATE_DIR": str(tmp_path / "state")})
    with pytest.raises(ReloadError, match=r"bad\.py:3: RuntimeError when loaded: no"):
        Engine(config)

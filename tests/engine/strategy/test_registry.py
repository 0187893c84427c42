"""Strategies from config: every reference kind builds, symbols become ids, user files load."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.config import REFERENCE_KINDS, load_config
from engine.errors import ConfigError
from engine.strategy.base import ParamsError
from engine.strategy.cross_venue import CrossVenue
from engine.strategy.registry import REFERENCE, build_strategy
from engine.strategy.reload import ReloadError

TWO = """
[[instruments]]
venue = "sim"
symbol = "BTCUSDT"
tick_size = "0.01"
lot_size = "0.00001"

[[instruments]]
venue = "sim"
symbol = "ETHUSDT"
tick_size = "0.01"
lot_size = "0.0001"
"""

USER = '''
"""A user strategy."""
from engine.strategy.base import Params, Strategy


class MyParams(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    instrument: int = 0
    size_lots: int = 1


class Mine(Strategy[MyParams]):
    params_type = MyParams
'''


def config(tmp_path: Path, text: str):
    """The default config with ``text`` laid over it."""
    path = tmp_path / "engine.toml"
    path.write_text(text)
    return load_config(path, {})


def test_every_reference_kind_builds_from_config(tmp_path: Path):
    """One section per kind with default parameters: each builds its class, on ETHUSDT."""
    sections = "".join(
        f'[strategies.s_{kind}]\nkind = "{kind}"\nsymbol = "ETHUSDT"\n' for kind in REFERENCE_KINDS
    )
    sections += '[strategies.s_cross_venue.params]\nleader = "BTCUSDT"\n'
    cfg = config(tmp_path, TWO + sections)
    assert set(REFERENCE) == set(REFERENCE_KINDS)
    for name, section in cfg.strategies.items():
        s = build_strategy(name, section, cfg.instrument_list())
        assert isinstance(s, REFERENCE[section.kind])
        if isinstance(s, CrossVenue):
            assert (s.params.leader, s.params.follower) == (0, 1)
        else:
            assert s.params.instrument == 1


def test_an_unknown_kind_or_symbol_parameter_is_refused(tmp_path: Path):
    """A kind no strategy has names the key; a leader that is no instrument names the field."""
    with pytest.raises(ConfigError, match=r"no reference strategy 'momentum'.*strategies\.x\.kind"):
        config(tmp_path, '[strategies.x]\nkind = "momentum"\nsymbol = "BTCUSDT"\n')
    cfg = config(
        tmp_path,
        '[strategies.x]\nkind = "cross_venue"\nsymbol = "BTCUSDT"\n'
        '[strategies.x.params]\nleader = "DOGEUSDT"\n',
    )
    with pytest.raises(ParamsError) as caught:
        build_strategy("x", cfg.strategies["x"], cfg.instrument_list())
    assert caught.value.field == "leader"


def test_a_user_strategy_loads_only_from_the_configured_directories(tmp_path: Path):
    """``mine:Mine`` loads from [strategy] paths; without paths the config refuses it."""
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "mine.py").write_text(USER)
    cfg = config(
        tmp_path,
        f'[strategy]\npaths = ["{folder}"]\n'
        '[strategies.u]\nkind = "mine:Mine"\nsymbol = "BTCUSDT"\n'
        "[strategies.u.params]\nsize_lots = 3\n",
    )
    s = build_strategy("u", cfg.strategies["u"], cfg.instrument_list(), cfg.strategy.paths)
    assert type(s).__name__ == "Mine"
    assert s.params.size_lots == 3
    with pytest.raises(ReloadError, match=r"other.py:0: not found in the \[strategy\] paths"):
        build_strategy(
            "u",
            msgspec_replace(cfg.strategies["u"], kind="other:Mine"),
            cfg.instrument_list(),
            cfg.strategy.paths,
        )
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text(USER)
    (folder / "linked.py").symlink_to(elsewhere)
    with pytest.raises(ReloadError, match="outside"):
        build_strategy(
            "u",
            msgspec_replace(cfg.strategies["u"], kind="linked:Mine"),
            cfg.instrument_list(),
            cfg.strategy.paths,
        )
    with pytest.raises(ConfigError, match="paths names no directory"):
        config(tmp_path, '[strategies.u]\nkind = "mine:Mine"\nsymbol = "BTCUSDT"\n')


def test_a_broken_user_file_is_refused_with_file_and_line(tmp_path: Path):
    """A syntax error on line 3 is refused naming the file and line 3."""
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "bad.py").write_text('"""Broken."""\n\ndef oops(:\n')
    cfg = config(
        tmp_path,
        f'[strategy]\npaths = ["{folder}"]\n[strategies.b]\nkind = "bad:Bad"\nsymbol = "BTCUSDT"\n',
    )
    with pytest.raises(ReloadError) as caught:
        build_strategy("b", cfg.strategies["b"], cfg.instrument_list(), cfg.strategy.paths)
    assert caught.value.path == str((folder / "bad.py").resolve())
    assert caught.value.line == 3


def msgspec_replace(section, **changes):
    """A config section with some fields changed."""
    import msgspec

    return msgspec.structs.replace(section, **changes)


async def test_a_user_strategy_reloads_from_its_directory(tmp_path: Path, desk) -> None:
    """Edited in place: the reload runs the new source; a broken edit is refused, the old stays."""
    from engine.strategy.reload import StrategyReloader

    folder = tmp_path / "strategies"
    folder.mkdir()
    source = folder / "mine.py"
    source.write_text(USER)
    cfg = config(
        tmp_path,
        f'[strategy]\npaths = ["{folder}"]\n'
        '[strategies.u]\nkind = "mine:Mine"\nsymbol = "BTCUSDT"\n',
    )
    s = build_strategy("u", cfg.strategies["u"], cfg.instrument_list(), cfg.strategy.paths)
    desk.runner.add(s)
    desk.runner.start()
    reloader = StrategyReloader(desk.runner)
    assert reloader.source_of("u") == source.resolve()
    source.write_text(USER + "    version = 2\n")
    new = reloader.reload("u")
    assert new.version == 2
    assert desk.runner.strategy("u") is new
    broken = USER + "    def on_book(self, instrument, book):\n        return (\n"
    source.write_text(broken)
    with pytest.raises(ReloadError) as caught:
        reloader.reload("u")
    assert caught.value.path == str(source.resolve())
    assert caught.value.line == len(broken.splitlines())  # the unclosed bracket's line
    assert desk.runner.strategy("u") is new

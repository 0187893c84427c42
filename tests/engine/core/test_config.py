from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.config import load_config
from engine.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "engine.toml"
    path.write_text(text)
    return path


def test_default_config_runs_the_local_venue_with_one_instrument():
    """The embedded default trades one instrument on the built-in simulated venue."""
    cfg = load_config(None, {})
    assert cfg.venue.name == "sim"
    assert [i.symbol for i in cfg.instrument_list()] == ["BTCUSDT"]
    assert cfg.control.host == "127.0.0.1"


def test_file_overrides_default_and_env_overrides_file(tmp_path):
    """Layers apply in order: default, then the file, then HFT__ environment variables."""
    path = _write(tmp_path, "[control]\nport = 9000\n[ui]\nrefresh_hz = 10.0\n")
    cfg = load_config(path, {"HFT__CONTROL__PORT": "9100"})
    assert cfg.control.port == 9100
    assert cfg.ui.refresh_hz == 10.0
    assert cfg.ipc.book_depth == 20  # untouched default


def test_unknown_key_names_file_line_and_key_path(tmp_path):
    """An unknown key is rejected with the file, its line and the key path."""
    path = _write(tmp_path, "[venue]\nname = 'sim'\ndepth_limt = 10\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, {})
    text = str(err.value)
    assert f"{path}:3" in text
    assert "depth_limt" in text
    assert "$.venue" in text


def test_out_of_range_value_names_the_constraint(tmp_path):
    """A value outside its range says which range and where."""
    path = _write(tmp_path, "[ipc]\nbook_depth = 0\n")
    with pytest.raises(ConfigError, match=r"book_depth") as err:
        load_config(path, {})
    assert ">= 1" in str(err.value)


def test_env_override_error_names_the_variable():
    """A bad environment override is reported against the variable, not a file."""
    with pytest.raises(ConfigError) as err:
        load_config(None, {"HFT__CONTROL__PORT": "eighty"})
    assert str(err.value).startswith("HFT__CONTROL__PORT:")
    assert err.value.key_path == "$.control.port"


def test_invalid_toml_is_a_config_error(tmp_path):
    """Broken TOML stops loading with the file name and the parser's position."""
    path = _write(tmp_path, "[venue\nname = 'sim'\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path, {})


def test_missing_file_is_a_config_error(tmp_path):
    """A config path that does not exist is named in the error."""
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.toml", {})


def test_off_grid_tick_size_is_rejected(tmp_path):
    """An instrument with a tick size that is not a positive decimal is rejected."""
    path = _write(
        tmp_path,
        "[[instruments]]\nvenue='sim'\nsymbol='ETHUSDT'\ntick_size='-0.01'\nlot_size='0.001'\n",
    )
    with pytest.raises(ConfigError, match="instruments"):
        load_config(path, {})


def test_file_instruments_replace_the_default_list(tmp_path):
    """Listing instruments in a file replaces the default instrument rather than appending."""
    path = _write(
        tmp_path,
        "[[instruments]]\nvenue='sim'\nsymbol='ETHUSDT'\ntick_size='0.01'\nlot_size='0.0001'\n",
    )
    cfg = load_config(path, {})
    assert [(i.symbol, i.instrument_id) for i in cfg.instrument_list()] == [("ETHUSDT", 0)]


def test_secret_values_cannot_be_config_keys(tmp_path):
    """A secret pasted into the config is an unknown key, never silently accepted."""
    path = _write(tmp_path, "[control]\ntoken = 'hunter2hunter2'\n")
    with pytest.raises(ConfigError, match="token"):
        load_config(path, {})


def test_config_is_frozen():
    """Loaded configuration cannot be changed in place."""
    cfg = load_config(None, {})
    with pytest.raises(AttributeError):
        cfg.control.port = 1  # type: ignore[misc]


def test_sim_venue_listens_on_loopback_only(tmp_path):
    """The local venue refuses a non-loopback listen address."""
    path = _write(tmp_path, "[sim]\nhost = '0.0.0.0'\n")
    with pytest.raises(ConfigError, match="loopback"):
        load_config(path, {})


def test_shipped_examples_load():
    """Every example config in config/examples loads without error."""
    examples = sorted((Path(__file__).resolve().parents[3] / "config" / "examples").glob("*.toml"))
    assert examples
    keys = {
        f"{venue}_API_{part}": f"made-up-{part.lower()}"
        for venue in ("BINANCE", "BINANCE_TESTNET", "BINANCE_USDM", "BINANCE_USDM_DEMO", "BYBIT")
        for part in ("KEY", "SECRET")
    }
    for path in examples:
        load_config(path, keys)


def test_invalid_risk_limit_names_its_key_path_and_source(tmp_path):
    """A bad risk limit is refused at load time, naming the env variable or file line and key."""
    with pytest.raises(ConfigError) as err:
        load_config(None, {"HFT__RISK__DEFAULTS__MAX_POSITION": "-1"})
    assert str(err.value).startswith("HFT__RISK__DEFAULTS__MAX_POSITION:")
    assert "$.risk.defaults.max_position" in str(err.value)
    path = _write(tmp_path, "[risk]\ndaily_loss_limit = 'lots'\n")
    with pytest.raises(ConfigError, match=rf"{path}:2: .*daily_loss_limit"):
        load_config(path, {})


def _live_binance(tmp_path: Path) -> Path:
    return _write(
        tmp_path,
        "[venue]\nname = 'binance'\n[[instruments]]\nvenue = 'binance'\nsymbol = 'BTCUSDT'\n"
        "tick_size = '0.01'\nlot_size = '0.00001'\n",
    )


def test_live_trading_on_a_real_venue_needs_both_key_variables(tmp_path):
    """Live mode on Binance stops at start-up naming the unset key variable and its config key."""
    path = _live_binance(tmp_path)
    with pytest.raises(ConfigError, match=r"BINANCE_API_KEY.*is unset") as err:
        load_config(path, {})
    assert err.value.key_path == "$.venue.api_key_env"
    with pytest.raises(ConfigError, match="BINANCE_API_SECRET") as err:
        load_config(path, {"BINANCE_API_KEY": "made-up-key"})
    assert err.value.key_path == "$.venue.api_secret_env"


def test_key_variables_are_named_by_the_config_and_their_values_never_kept(tmp_path):
    """The config names the variables; their values are checked for presence, never kept."""
    path = _live_binance(tmp_path)
    path.write_text(
        path.read_text().replace(
            "name = 'binance'\n",
            "name = 'binance'\napi_key_env = 'DESK_KEY'\napi_secret_env = 'DESK_SECRET'\n",
        )
    )
    cfg = load_config(path, {"DESK_KEY": "made-up-key", "DESK_SECRET": "made-up-secret"})
    assert (cfg.venue.api_key_env, cfg.venue.api_secret_env) == ("DESK_KEY", "DESK_SECRET")
    assert "made-up" not in repr(cfg)


def test_sim_and_paper_need_no_keys(tmp_path):
    """Neither the local venue nor paper trading on a real venue needs API keys."""
    load_config(None, {})
    text = (
        _live_binance(tmp_path).read_text().replace("[venue]", "[engine]\nmode = 'paper'\n[venue]")
    )
    load_config(_write(tmp_path, text), {})

"""``[[instruments]]`` entries without grids take them from the venue's list at start.

The list comes from a cache file the test writes (no network), or from a local HTTP server on
127.0.0.1 answering with Bybit's real ``instruments-info`` (the cryptofeed-v3 capture) or a
Binance ``exchangeInfo``-shaped body. A venue that cannot be reached with nothing cached, and a
symbol the venue does not list, stop start-up naming venue and symbol.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import zstandard
from aiohttp import web

from engine.__main__ import EXIT_CONFIG, main
from engine.core.config import EngineConfig, load_config
from engine.core.instruments import Instrument
from engine.errors import ConfigError, InstrumentError
from engine.hangup import restart_only_changes
from engine.instrument_resolve import InstrumentsUnresolved, resolve_instruments
from engine.recorder.session import record
from engine.sim.market_only import main as market_only_main
from engine.venues.instrument_cache import InstrumentCache

BINANCE_BODY = {
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "status": "TRADING",
            "filters": [
                {"filterType": "PRICE_FILTER", "tickSize": "0.01000000"},
                {"filterType": "LOT_SIZE", "stepSize": "0.00001000"},
                {"filterType": "NOTIONAL", "minNotional": "5.00000000"},
            ],
        },
        {
            "symbol": "ETHUSDT",
            "status": "TRADING",
            "filters": [
                {"filterType": "PRICE_FILTER", "tickSize": "0.01000000"},
                {"filterType": "LOT_SIZE", "stepSize": "0.00010000"},
                {"filterType": "NOTIONAL", "minNotional": "5.00000000"},
            ],
        },
    ]
}


def _config(tmp_path: Path, venue: str, entries: str, rest_url: str = "") -> EngineConfig:
    path = tmp_path / "engine.toml"
    path.write_text(
        f'[engine]\nmode = "paper"\nstate_dir = "{tmp_path / "state"}"\n'
        f'[venue]\nname = "{venue}"\nrest_url = "{rest_url}"\n{entries}',
        encoding="utf-8",
    )
    return load_config(path, {})


def _entry(venue: str, symbol: str, extra: str = "") -> str:
    return f'[[instruments]]\nvenue = "{venue}"\nsymbol = "{symbol}"\n{extra}'


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class RestVenue:
    """A local REST server answering one path with a fixed body."""

    def __init__(self, path: str, body: bytes) -> None:
        self.path = path
        self.body = body
        self.calls = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_get(self.path, self.answer)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def answer(self, request: web.Request) -> web.Response:
        """The body."""
        self.calls += 1
        return web.Response(body=self.body, content_type="application/json")

    async def stop(self) -> None:
        """Stop listening."""
        if self.runner is not None:
            await self.runner.cleanup()


async def _serving(path: str, body: bytes) -> RestVenue:
    server = RestVenue(path, body)
    await server.start()
    return server


@pytest.fixture
async def binance() -> AsyncIterator[RestVenue]:
    """A local Binance spot REST venue answering exchangeInfo."""
    server = await _serving("/api/v3/exchangeInfo", json.dumps(BINANCE_BODY).encode())
    yield server
    await server.stop()


def test_an_entry_may_leave_its_grids_out_but_cannot_be_used_before_they_are_resolved(
    tmp_path: Path,
):
    """The config loads; asking for its Instruments before resolving names venue and symbol."""
    config = _config(tmp_path, "binance", _entry("binance", "BTCUSDT"))
    assert config.instruments[0].from_venue
    with pytest.raises(InstrumentError, match=r"binance instrument BTCUSDT: .*not resolved"):
        config.instrument_list()


def test_the_local_venue_keeps_explicit_grids(tmp_path: Path):
    """``sim`` has no instrument list: an entry without grids is a config error naming it."""
    with pytest.raises(ConfigError, match=r"instrument ETHUSDT on venue 'sim' needs tick_size"):
        _config(tmp_path, "sim", _entry("sim", "ETHUSDT"))


def test_explicit_grids_on_a_real_venue_need_no_lookup(tmp_path: Path):
    """An entry with both grids keeps them, and a left-out minimum notional is 0 as before."""
    config = _config(
        tmp_path, "binance", _entry("binance", "BTCUSDT", 'tick_size = "0.1"\nlot_size = "0.001"\n')
    )
    assert not config.instruments[0].from_venue
    inst = config.instrument_list()[0]
    assert (inst.tick_size, inst.lot_size, inst.min_notional) == ("0.1", "0.001", "0")


async def test_grids_come_from_a_cache_file(tmp_path: Path):
    """A young cache answers without the venue (whose address here is closed)."""
    url = f"http://127.0.0.1:{_closed_port()}"
    config = _config(
        tmp_path,
        "binance",
        _entry("binance", "BTCUSDT") + _entry("binance", "ETHUSDT", 'min_notional = "10"\n'),
        rest_url=url,
    )
    listed = [
        Instrument(venue="binance", symbol=symbol, tick_size="0.01", lot_size=lot, min_notional="5")
        for symbol, lot in (("BTCUSDT", "0.00001"), ("ETHUSDT", "0.0001"))
    ]
    InstrumentCache(config.state_dir()).write("binance", listed, time.time_ns())
    resolved = await resolve_instruments(config)
    grids = [(i.key, i.tick_size, i.lot_size, i.min_notional) for i in resolved.instrument_list()]
    assert grids == [
        ("binance:BTCUSDT", "0.01", "0.00001", "5"),
        ("binance:ETHUSDT", "0.01", "0.0001", "10"),  # what the entry gives is kept
    ]
    assert [i.instrument_id for i in resolved.instrument_list()] == [0, 1]


async def test_grids_come_from_the_venue_and_are_cached(tmp_path: Path, binance: RestVenue):
    """No cache: the venue's exchangeInfo gives the grids and is written under the state dir."""
    config = _config(tmp_path, "binance", _entry("binance", "ETHUSDT"), rest_url=binance.url)
    resolved = await resolve_instruments(config)
    inst = resolved.instrument_list()[0]
    assert (inst.tick_size, inst.lot_size, inst.min_notional) == ("0.01", "0.0001", "5")
    assert binance.calls == 1
    assert (config.state_dir() / "instruments" / "binance.json").is_file()
    again = await resolve_instruments(config)  # the young cache answers now
    assert again.instrument_list() == resolved.instrument_list()
    assert binance.calls == 1


def _bybit_linear_answer(shared_data: Path) -> bytes:
    """Bybit's real linear ``instruments-info`` body from the cryptofeed-v3 capture."""
    with (shared_data / "cryptofeed-v3" / "BYBIT.jsonl.zst").open("rb") as fh:
        text = zstandard.ZstdDecompressor().stream_reader(fh).read().decode()
    for line in text.splitlines():
        if '"t":"http"' in line[:40]:
            record = json.loads(line)
            if "category=linear" in record["url"]:
                body: bytes = record["data"].encode()
                return body
    raise AssertionError("the capture has no linear instruments-info answer")


@pytest.mark.shared_data
async def test_grids_come_from_bybits_real_answer(tmp_path: Path, shared_data: Path):
    """BYBIT-LINEAR BTCUSDT and ETHUSDT as Bybit listed them in the capture."""
    server = await _serving("/v5/market/instruments-info", _bybit_linear_answer(shared_data))
    try:
        config = _config(
            tmp_path,
            "bybit-linear",
            _entry("bybit-linear", "BTCUSDT") + _entry("bybit-linear", "ETHUSDT"),
            rest_url=server.url,
        )
        resolved = await resolve_instruments(config)
    finally:
        await server.stop()
    btc, eth = resolved.instrument_list()
    assert (btc.tick_size, btc.lot_size, btc.min_notional) == ("0.1", "0.001", "5")
    assert eth.key == "bybit-linear:ETHUSDT"
    eth.price_grid()
    eth.size_grid()


async def test_an_unreachable_venue_with_no_cache_stops_start_up(tmp_path: Path):
    """One error naming venue and symbol; nothing is cached."""
    url = f"http://127.0.0.1:{_closed_port()}"
    config = _config(tmp_path, "binance", _entry("binance", "BTCUSDT"), rest_url=url)
    with pytest.raises(InstrumentsUnresolved) as caught:
        await resolve_instruments(config)
    message = str(caught.value)
    assert message.startswith("binance instrument BTCUSDT: tick_size/lot_size not in the config")
    assert "cannot be reached and nothing is cached" in message
    assert "\n" not in message
    assert not (config.state_dir() / "instruments" / "binance.json").exists()


async def test_a_symbol_the_venue_does_not_list_is_named(tmp_path: Path, binance: RestVenue):
    """``DOGEUSDT`` is not in the venue's list: the error names it and not the listed one."""
    config = _config(
        tmp_path,
        "binance",
        _entry("binance", "BTCUSDT") + _entry("binance", "DOGEUSDT"),
        rest_url=binance.url,
    )
    with pytest.raises(InstrumentsUnresolved, match=r"^binance instrument DOGEUSDT: .*does not"):
        await resolve_instruments(config)


def test_the_engine_exits_with_one_line_when_the_grids_cannot_be_had(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """``python -m engine`` stops before building anything, with exit code 2 and one line."""
    url = f"http://127.0.0.1:{_closed_port()}"
    _config(tmp_path, "binance", _entry("binance", "BTCUSDT"), rest_url=url)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        code = main(["--config", str(tmp_path / "engine.toml"), "--log-format", "json"])
    finally:  # main sends the root logger to stdout; give the suite its own back
        root.handlers[:] = handlers
        root.setLevel(level)
    assert code == EXIT_CONFIG
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("config error: binance instrument BTCUSDT:")


def test_the_local_stream_of_a_venue_resolves_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """``python -m engine.sim.market_only`` with grids left out stops with the same one line."""
    url = f"http://127.0.0.1:{_closed_port()}"
    _config(tmp_path, "kraken", _entry("kraken", "XBT/USD"), rest_url=url)
    assert market_only_main(["--config", str(tmp_path / "engine.toml")]) == EXIT_CONFIG
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("config error: kraken instrument XBT/USD:")


async def test_a_reload_does_not_take_grids_left_out_for_a_change(tmp_path: Path):
    """SIGHUP reloads the file with its grids still left out: nothing waits for a restart."""
    config = _config(tmp_path, "binance", _entry("binance", "BTCUSDT"))
    listed = [Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")]
    InstrumentCache(config.state_dir()).write("binance", listed, time.time_ns())
    running = await resolve_instruments(config)
    assert restart_only_changes(running, config) == []
    moved = _config(tmp_path, "binance", _entry("binance", "BTCUSDT", 'tick_size = "0.1"\n'))
    assert restart_only_changes(running, moved) == ["instruments"]


async def test_the_recorder_resolves_before_it_records(tmp_path: Path):
    """``hft-tui record`` on a config with grids left out and no way to get them records nothing."""
    url = f"http://127.0.0.1:{_closed_port()}"
    config = _config(tmp_path, "kraken", _entry("kraken", "XBT/USD"), rest_url=url)
    with pytest.raises(InstrumentsUnresolved, match=r"^kraken instrument XBT/USD: "):
        await record(config, root=tmp_path / "catalog", duration_s=1.0)
    assert not (tmp_path / "catalog").exists()

"""At start the configured instruments are compared with the venue's list; differences alert."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiohttp import web

from engine.core.config import load_config
from engine.core.events import AlertLevel
from engine.engine import Engine
from engine.instrument_check import check_instruments

OKX_BODY = {
    "code": "0",
    "data": [{"instId": "BTC-USDT", "tickSz": "0.1", "lotSz": "0.00000001", "state": "live"}],
}


class Alerts:
    """An OMS stand-in that keeps alerts."""

    def __init__(self) -> None:
        self.raised: list[tuple[AlertLevel, str, str]] = []

    def alert(self, level: AlertLevel, source: str, message: str) -> None:
        """Keep the alert."""
        self.raised.append((level, source, message))


@pytest.fixture
async def okx_rest() -> AsyncIterator[str]:
    """A local REST server answering OKX's public/instruments."""

    async def answer(request: web.Request) -> web.Response:
        return web.json_response(OKX_BODY)

    app = web.Application()
    app.router.add_get("/api/v5/public/instruments", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


def _engine(folder: Path, symbols: list[tuple[str, str, str]], venue: str = "okx") -> Engine:
    blocks = "".join(
        f'[[instruments]]\nvenue = "{venue}"\nsymbol = "{s}"\ntick_size = "{t}"\n'
        f'lot_size = "{lot}"\n'
        for s, t, lot in symbols
    )
    path = folder / "engine.toml"
    path.write_text(
        f'[engine]\nmode = "paper"\nstate_dir = "{folder / "state"}"\n'
        f'[venue]\nname = "{venue}"\n{blocks}'
    )
    config = load_config(path, {})
    fake: Any = SimpleNamespace(config=config, instruments=config.instrument_list(), oms=Alerts())
    return cast(Engine, fake)


async def test_matching_instruments_raise_nothing(okx_rest: str, tmp_path: Path):
    """The same steps as the venue's (written differently): no alert; the list is cached."""
    engine = _engine(tmp_path, [("BTC-USDT", "0.10", "0.00000001")])
    assert await check_instruments(engine, okx_rest) == 0
    assert cast(Any, engine).oms.raised == []
    assert (tmp_path / "state" / "instruments" / "okx.json").is_file()


async def test_a_wrong_tick_or_an_unlisted_symbol_is_a_critical_alert(
    okx_rest: str, tmp_path: Path
):
    """A tick the venue does not use, and a symbol it does not list, each raise one alert."""
    engine = _engine(tmp_path, [("BTC-USDT", "0.01", "0.00000001"), ("XYZ-USDT", "1", "0.001")])
    assert await check_instruments(engine, okx_rest) == 2
    raised = cast(Any, engine).oms.raised
    assert [(level, source) for level, source, _ in raised] == [
        (AlertLevel.CRITICAL, "instruments"),
        (AlertLevel.CRITICAL, "instruments"),
    ]
    assert "okx:BTC-USDT: config tick_size 0.01 (the venue lists 0.1)" in raised[0][2]
    assert "okx:XYZ-USDT: config not listed by okx" in raised[1][2]


async def test_an_unreachable_venue_trusts_the_config(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    """No list from the venue and none cached: logged, no alert, the engine goes on."""
    engine = _engine(tmp_path, [("BTC-USDT", "0.01", "0.00000001")])
    with caplog.at_level("WARNING", logger="engine.instruments"):
        assert await check_instruments(engine, "http://127.0.0.1:9") == 0
    assert any("trusting the config" in r.getMessage() for r in caplog.records)


async def test_the_local_venue_is_not_checked(tmp_path: Path):
    """``sim`` has no instrument endpoint: nothing is asked."""
    engine = _engine(tmp_path, [("BTCUSDT", "0.01", "0.00001")], venue="sim")
    assert await check_instruments(engine, "http://127.0.0.1:9") == 0


def test_the_check_can_be_switched_off(tmp_path: Path):
    """``[venue] check_instruments = false`` is a valid setting."""
    path = tmp_path / "engine.toml"
    path.write_text("[venue]\ncheck_instruments = false\n")
    assert load_config(path, {}).venue.check_instruments is False

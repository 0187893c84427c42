"""Instrument endpoints of every venue, and the disk cache under the state dir.

The Bybit ``instruments-info`` (linear and spot) and Coinbase ``products`` answers are the real
ones the cryptofeed-v3 captures carry; the other venues' are hand-made in their documented
shapes. Broken records must fail naming venue, symbol and field. The cache is exercised against
a local HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import zstandard
from aiohttp import web

from engine.errors import InstrumentError
from engine.venues.binance.instruments import SPOT as BINANCE_SPOT
from engine.venues.binance.instruments import USDM
from engine.venues.bybit.instruments import LINEAR
from engine.venues.bybit.instruments import SPOT as BYBIT_SPOT
from engine.venues.coinbase.instruments import PRODUCTS
from engine.venues.hyperliquid.instruments import META
from engine.venues.instrument_cache import (
    InstrumentCache,
    InstrumentFieldError,
    InstrumentsUnavailable,
)
from engine.venues.kraken.instruments import PAIRS
from engine.venues.okx.instruments import SPOT as OKX_SPOT


def _http_bodies(path: Path) -> dict[str, bytes]:
    """The ``http`` records of a cryptofeed-v3 capture: url -> body."""
    out: dict[str, bytes] = {}
    with path.open("rb") as fh:
        reader = zstandard.ZstdDecompressor().stream_reader(fh)
        text = reader.read().decode()
    for line in text.splitlines():
        if '"t":"http"' in line[:40]:
            record = json.loads(line)
            out[record["url"]] = record["data"].encode()
    return out


@pytest.mark.shared_data
def test_bybit_linear_and_spot_from_the_real_answers(shared_data: Path):
    """800 linear and 557 spot instruments; BTCUSDT's tick, lot and minimum as Bybit lists them."""
    bodies = _http_bodies(shared_data / "cryptofeed-v3" / "BYBIT.jsonl.zst")
    linear = next(b for u, b in bodies.items() if "category=linear" in u)
    spot = next(b for u, b in bodies.items() if "category=spot" in u)
    perps = {i.symbol: i for i in LINEAR.parse(linear)}
    pairs = {i.symbol: i for i in BYBIT_SPOT.parse(spot)}
    assert len(perps) == 800
    assert len(pairs) == 557
    btc = perps["BTCUSDT"]
    assert (btc.venue, btc.tick_size, btc.lot_size, btc.min_notional) == (
        "bybit-linear",
        "0.1",
        "0.001",
        "5",
    )
    assert btc.key == "bybit-linear:BTCUSDT"
    spot_btc = pairs["BTCUSDT"]
    assert (spot_btc.tick_size, spot_btc.lot_size, spot_btc.min_notional) == (
        "0.1",
        "0.000001",
        "5",
    )
    for inst in [*perps.values(), *pairs.values()]:
        inst.price_grid()  # every step is a usable grid
        inst.size_grid()


@pytest.mark.shared_data
def test_coinbase_products_from_the_real_answer(shared_data: Path):
    """Every listed product; BTC-USD steps by 0.01 and 0.00000001 with a 1 USD minimum."""
    bodies = _http_bodies(shared_data / "cryptofeed-v3" / "COINBASE.jsonl.zst")
    (body,) = bodies.values()
    products = {i.symbol: i for i in PRODUCTS.parse(body)}
    assert 800 < len(products) <= 920
    btc = products["BTC-USD"]
    assert (btc.tick_size, btc.lot_size, btc.min_notional) == ("0.01", "0.00000001", "1")


def _body(value: Any) -> bytes:
    return json.dumps(value).encode()


BINANCE_BODY = {
    "symbols": [
        {
            "symbol": "BTCUSDT",
            "status": "TRADING",
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.01", "tickSize": "0.01000000"},
                {"filterType": "LOT_SIZE", "stepSize": "0.00001000"},
                {"filterType": "NOTIONAL", "minNotional": "5.00000000"},
            ],
        },
        {"symbol": "OLDUSDT", "status": "BREAK", "filters": []},
    ]
}


def test_binance_spot_and_usdm_exchange_info():
    """Filters become steps without trailing zeros; symbols not trading are left out."""
    (btc,) = BINANCE_SPOT.parse(_body(BINANCE_BODY))
    assert (btc.venue, btc.tick_size, btc.lot_size, btc.min_notional) == (
        "binance",
        "0.01",
        "0.00001",
        "5",
    )
    usdm_body = {
        "symbols": [
            {
                "symbol": "BTCUSDT",
                "status": "TRADING",
                "filters": [
                    {"filterType": "PRICE_FILTER", "tickSize": "0.10"},
                    {"filterType": "LOT_SIZE", "stepSize": "0.001"},
                    {"filterType": "MIN_NOTIONAL", "notional": "100"},
                ],
            }
        ]
    }
    (perp,) = USDM.parse(_body(usdm_body))
    assert (perp.venue, perp.tick_size, perp.lot_size, perp.min_notional) == (
        "binance-usdm",
        "0.1",
        "0.001",
        "100",
    )


def test_okx_kraken_and_hyperliquid_answers():
    """OKX tickSz/lotSz, Kraken decimals under v2 names, Hyperliquid szDecimals."""
    okx = {
        "code": "0",
        "data": [
            {
                "instId": "BTC-USDT",
                "tickSz": "0.1",
                "lotSz": "0.00000001",
                "minSz": "0.00001",
                "state": "live",
            }
        ],
    }
    (btc,) = OKX_SPOT.parse(_body(okx))
    assert (btc.symbol, btc.tick_size, btc.lot_size) == ("BTC-USDT", "0.1", "0.00000001")
    kraken = {
        "error": [],
        "result": {
            "XXBTZUSD": {
                "altname": "XBTUSD",
                "wsname": "XBT/USD",
                "pair_decimals": 1,
                "lot_decimals": 8,
                "costmin": "0.5",
                "status": "online",
            },
            "XETHZUSD": {
                "wsname": "ETH/USD",
                "pair_decimals": 2,
                "lot_decimals": 8,
                "tick_size": "0.01",
            },
        },
    }
    pairs = {i.symbol: i for i in PAIRS.parse(_body(kraken))}
    assert (pairs["BTC/USD"].tick_size, pairs["BTC/USD"].lot_size) == ("0.1", "0.00000001")
    assert pairs["BTC/USD"].min_notional == "0.5"
    assert pairs["ETH/USD"].tick_size == "0.01"
    meta = {
        "universe": [
            {"name": "BTC", "szDecimals": 5, "maxLeverage": 40},
            {"name": "OLD", "szDecimals": 2, "isDelisted": True},
        ]
    }
    (coin,) = META.parse(_body(meta))
    assert (coin.symbol, coin.tick_size, coin.lot_size, coin.min_notional) == (
        "BTC",
        "0.1",
        "0.00001",
        "10",
    )


@pytest.mark.parametrize(
    ("endpoint", "body", "symbol", "field"),
    [
        (
            BINANCE_SPOT,
            {
                "symbols": [
                    {
                        "symbol": "BTCUSDT",
                        "filters": [{"filterType": "PRICE_FILTER", "tickSize": "0.01"}],
                    }
                ]
            },
            "BTCUSDT",
            "LOT_SIZE",
        ),
        (
            LINEAR,
            {
                "retCode": 0,
                "result": {
                    "list": [
                        {
                            "symbol": "ETHUSDT",
                            "priceFilter": {"tickSize": "0.01"},
                            "lotSizeFilter": {"qtyStep": "0.01"},
                        }
                    ]
                },
            },
            "ETHUSDT",
            "lotSizeFilter.minNotionalValue",
        ),
        (
            OKX_SPOT,
            {"code": "0", "data": [{"instId": "ETH-USDT", "lotSz": "0.1"}]},
            "ETH-USDT",
            "tickSz",
        ),
        (
            PAIRS,
            {"error": [], "result": {"XETHZUSD": {"wsname": "ETH/USD", "pair_decimals": 2}}},
            "ETH/USD",
            "lot_decimals",
        ),
        (
            PRODUCTS,
            {
                "products": [
                    {"product_id": "ETH-USD", "price_increment": "0.01", "base_increment": "0.0001"}
                ]
            },
            "ETH-USD",
            "quote_min_size",
        ),
        (META, {"universe": [{"name": "SOL"}]}, "SOL", "szDecimals"),
        (
            PRODUCTS,
            {
                "products": [
                    {
                        "product_id": "ETH-USD",
                        "price_increment": "-1",
                        "base_increment": "0.0001",
                        "quote_min_size": "1",
                    }
                ]
            },
            "ETH-USD",
            "price_increment",
        ),
        (
            LINEAR,
            {
                "retCode": 0,
                "result": {
                    "list": [
                        {
                            "symbol": "XUSDT",
                            "priceFilter": {"tickSize": "abc"},
                            "lotSizeFilter": {"qtyStep": "1", "minNotionalValue": "5"},
                        }
                    ]
                },
            },
            "XUSDT",
            "priceFilter.tickSize",
        ),
    ],
)
def test_a_broken_record_names_venue_symbol_and_field(
    endpoint: Any, body: Any, symbol: str, field: str
):
    """A missing or unusable field fails with the venue, the symbol and the field in the error."""
    with pytest.raises(InstrumentFieldError) as caught:
        endpoint.parse(_body(body))
    err = caught.value
    assert (err.venue, err.symbol, err.field) == (endpoint.venue, symbol, field)
    assert endpoint.venue in str(err)
    assert symbol in str(err)
    assert field in str(err)


@pytest.mark.parametrize(
    ("endpoint", "body", "words"),
    [
        (LINEAR, b'{"retCode":10001,"retMsg":"bad"}', "retCode 10001"),
        (OKX_SPOT, b'{"code":"51000","data":[]}', "code '51000'"),
        (PAIRS, b'{"error":["EGeneral:Internal error"]}', "EGeneral"),
        (PRODUCTS, b"<html>", "not JSON"),
        (META, b'{"universe":{}}', "universe is not a list"),
    ],
)
def test_an_answer_of_the_wrong_shape_is_refused(endpoint: Any, body: bytes, words: str):
    """Venue errors and bodies of the wrong shape are InstrumentErrors naming the venue."""
    with pytest.raises(InstrumentError, match=words) as caught:
        endpoint.parse(body)
    assert endpoint.venue in str(caught.value)


# ---- the cache ---------------------------------------------------------------------------------


class Clock:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.ns = 1_800_000_000 * 1_000_000_000

    def __call__(self) -> int:
        """Now, in nanoseconds."""
        return self.ns


class Venue:
    """A local REST server answering exchangeInfo (or failing on demand)."""

    def __init__(self) -> None:
        self.status = 200
        self.calls = 0
        self.body = _body(BINANCE_BODY)
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        """Listen on a free port."""
        app = web.Application()
        app.router.add_get("/api/v3/exchangeInfo", self.answer)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def answer(self, request: web.Request) -> web.Response:
        """The body, with the status set."""
        self.calls += 1
        return web.Response(body=self.body, status=self.status, content_type="application/json")

    async def stop(self) -> None:
        """Stop listening."""
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def venue() -> AsyncIterator[Venue]:
    """The local REST venue."""
    server = Venue()
    await server.start()
    yield server
    await server.stop()


async def test_the_cache_is_used_while_young_and_refreshed_when_old(tmp_path: Path, venue: Venue):
    """The first load asks the venue and writes JSON; a young cache answers; an old refreshes."""
    clock = Clock()
    cache = InstrumentCache(tmp_path, max_age_s=3600, now_ns=clock)
    first = await cache.load(BINANCE_SPOT, venue.url)
    assert not first.from_cache
    assert venue.calls == 1
    stored = json.loads(cache.path("binance").read_text())
    assert stored["instruments"][0]["symbol"] == "BTCUSDT"
    assert cache.path("binance").parent == tmp_path / "instruments"
    clock.ns += 3599 * 10**9
    second = await cache.load(BINANCE_SPOT, venue.url)
    assert second.from_cache
    assert venue.calls == 1
    assert second.by_symbol()["BTCUSDT"] == first.by_symbol()["BTCUSDT"]
    clock.ns += 2 * 10**9
    third = await cache.load(BINANCE_SPOT, venue.url)
    assert not third.from_cache
    assert venue.calls == 2
    assert third.fetched_at_ns == clock.ns


async def test_an_unreachable_venue_falls_back_to_an_old_cache_and_says_so(
    tmp_path: Path, venue: Venue, caplog: pytest.LogCaptureFixture
):
    """HTTP 503 with a cache a week old: the cache is used, marked stale, and a warning logged."""
    clock = Clock()
    cache = InstrumentCache(tmp_path, max_age_s=60, now_ns=clock)
    await cache.load(BINANCE_SPOT, venue.url)
    clock.ns += 7 * 86400 * 10**9
    venue.status = 503
    with caplog.at_level("WARNING", logger="engine.venues.instruments"):
        got = await cache.load(BINANCE_SPOT, venue.url)
    assert got.from_cache
    assert got.stale
    assert [i.symbol for i in got.instruments] == ["BTCUSDT"]
    assert any("using cached instruments" in r.getMessage() for r in caplog.records)


async def test_no_venue_and_no_cache_is_an_error_naming_the_venue(tmp_path: Path, venue: Venue):
    """A refused request with nothing cached raises InstrumentsUnavailable for that venue."""
    venue.status = 500
    cache = InstrumentCache(tmp_path)
    with pytest.raises(InstrumentsUnavailable, match="binance instruments unavailable: HTTP 500"):
        await cache.load(BINANCE_SPOT, venue.url)
    await venue.stop()
    with pytest.raises(InstrumentsUnavailable, match="binance"):
        await cache.load(BINANCE_SPOT, venue.url)


async def test_a_broken_answer_is_an_error_and_keeps_the_cache(tmp_path: Path, venue: Venue):
    """An answer with a broken record raises; the good cache on disk is left as it was."""
    clock = Clock()
    cache = InstrumentCache(tmp_path, max_age_s=60, now_ns=clock)
    await cache.load(BINANCE_SPOT, venue.url)
    before = cache.path("binance").read_bytes()
    clock.ns += 120 * 10**9
    venue.body = _body({"symbols": [{"symbol": "BTCUSDT", "filters": []}]})
    with pytest.raises(InstrumentFieldError, match="binance instrument BTCUSDT: PRICE_FILTER"):
        await cache.load(BINANCE_SPOT, venue.url)
    assert cache.path("binance").read_bytes() == before


def test_an_unreadable_cache_is_ignored(tmp_path: Path):
    """A damaged cache file reads as no cache (and is logged), never as an exception."""
    cache = InstrumentCache(tmp_path)
    cache.path("okx").parent.mkdir(parents=True)
    cache.path("okx").write_text("{not json")
    assert cache.read("okx") is None

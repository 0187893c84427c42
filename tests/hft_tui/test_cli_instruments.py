"""``hft-tui instruments``: a venue's list through the disk cache, printed as config blocks.

The venue is a plain HTTP server on 127.0.0.1 answering OKX's ``public/instruments``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from hft_tui.cli import cli

runner = CliRunner()
OKX_BODY = json.dumps(
    {
        "code": "0",
        "data": [
            {"instId": "BTC-USDT", "tickSz": "0.1", "lotSz": "0.00000001", "state": "live"},
            {"instId": "ETH-USDT", "tickSz": "0.01", "lotSz": "0.000001", "state": "live"},
        ],
    }
).encode()


class _Answer(BaseHTTPRequestHandler):
    calls = 0

    def do_GET(self) -> None:
        """The instrument list."""
        type(self).calls += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(OKX_BODY)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def okx_rest() -> Iterator[str]:
    """A local REST server with OKX's instruments."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _run(args: list[str], state: Path) -> Result:
    return runner.invoke(cli, ["instruments", *args], env={"HFT__ENGINE__STATE_DIR": str(state)})


def test_blocks_for_the_symbols_then_the_cache_then_the_stale_cache(okx_rest: str, tmp_path: Path):
    """The venue's steps as [[instruments]]; a second run reads the cache; a dead venue, too."""
    state = tmp_path / "state"
    first = _run(["okx", "BTC-USDT", "--rest-url", okx_rest], state)
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        '[[instruments]]\nvenue = "okx"\nsymbol = "BTC-USDT"\ntick_size = "0.1"\n'
        'lot_size = "0.00000001"\nmin_notional = "0"\n\n'
    )
    assert (state / "instruments" / "okx.json").is_file()
    again = _run(["okx", "--rest-url", okx_rest], state)
    assert again.stdout == "2 instruments on okx\n"
    assert "from the cache" in again.stderr
    dead = _run(["okx", "ETH-USDT", "--refresh", "--rest-url", "http://127.0.0.1:9"], state)
    assert dead.exit_code == 0, dead.output
    assert 'tick_size = "0.01"' in dead.stdout
    assert "okx unreachable: using the cached list" in dead.stderr


def test_unknown_symbols_and_venues_are_errors(okx_rest: str, tmp_path: Path):
    """A symbol the venue does not list exits 1 naming it; a venue with no endpoint exits 2."""
    missing = _run(["okx", "BTC-USDT", "NOPE-USDT", "--rest-url", okx_rest], tmp_path)
    assert missing.exit_code == 1
    assert "not listed on okx: NOPE-USDT" in missing.stderr
    unknown = _run(["sim"], tmp_path)
    assert unknown.exit_code == 2
    assert "no instrument endpoint" in unknown.stderr


def test_a_dead_venue_with_no_cache_says_so(tmp_path: Path):
    """Nothing cached and nothing answering: exit 1 with the venue named."""
    result = _run(["kraken", "--rest-url", "http://127.0.0.1:9"], tmp_path)
    assert result.exit_code == 1
    assert "kraken instruments unavailable" in result.stderr

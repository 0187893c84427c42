"""``python -m engine.sim.market_only``: a local OKX, Kraken, Coinbase or Hyperliquid stream.

Serves the public market data of the config's ``[venue] name`` (``okx``, ``kraken``,
``coinbase`` or ``hyperliquid``) for its ``[[instruments]]``, from the seeded sim market
(``[sim] seed`` and ``events_per_second``), until SIGINT or SIGTERM. The first and only line on
stdout is ``{"event":"listening","venue":..,"ws_url":..,"rest_url":..}``: ``ws_url`` is the host
to put in ``[venue] ws_url`` (the engine adds the venue's path). Exit codes: 0 clean stop,
2 configuration error, 1 anything else (e.g. the port is taken).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from engine.core.config import load_config
from engine.errors import ConfigError
from engine.instrument_resolve import InstrumentsUnresolved, resolve_instruments
from engine.sim.coinbase_stream import CoinbaseStreamVenue
from engine.sim.hyperliquid_stream import HyperliquidStreamVenue
from engine.sim.kraken_stream import KrakenStreamVenue
from engine.sim.okx_stream import OkxStreamVenue

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
VENUES = {
    "okx": OkxStreamVenue,
    "kraken": KrakenStreamVenue,
    "coinbase": CoinbaseStreamVenue,
    "hyperliquid": HyperliquidStreamVenue,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m engine.sim.market_only", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--config", help="TOML file laid over the embedded default")
    parser.add_argument("--port", type=int, default=0, help="listen port (0 = any)")
    return parser


async def _serve(name: str, config_path: str | None, port: int) -> int:
    try:  # grids the config leaves out: the real venue's, from the cache or its endpoint
        config = await resolve_instruments(load_config(config_path, {}))
    except InstrumentsUnresolved as exc:
        sys.stderr.write(f"config error: {exc}\n")
        return EXIT_CONFIG
    venue_class = VENUES[name]
    venue = venue_class(
        config.instrument_list(),
        seed=config.sim.seed,
        events_per_second=config.sim.events_per_second,
        port=port,
    )
    try:
        await venue.start()
    except OSError as exc:
        sys.stderr.write(json.dumps({"event": "failed", "error": str(exc)}) + "\n")
        return EXIT_FAILED
    rest = venue.rest_url if isinstance(venue, OkxStreamVenue) else ""
    host = (rest or f"http://127.0.0.1:{venue.port}").replace("http://", "ws://")
    line = {"event": "listening", "venue": name, "ws_url": host, "rest_url": rest}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await venue.stop()
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the stream of the config's venue; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        name = load_config(args.config, {}).venue.name
    except ConfigError as exc:
        sys.stderr.write(f"config error: {exc}\n")
        return EXIT_CONFIG
    if name not in VENUES:
        choices = ", ".join(VENUES)
        sys.stderr.write(f"config error: venue {name!r} has no local stream here ({choices})\n")
        return EXIT_CONFIG
    return asyncio.run(_serve(name, args.config, args.port))


if __name__ == "__main__":
    sys.exit(main())

"""``python -m engine.sim``: run the local venue standalone until SIGINT or SIGTERM.

The first and only line on stdout is ``{"event":"listening","ws_url":...,"rest_url":...}``,
printed once the venue accepts connections (the engine starts this module as a child process and
reads that line); logs go to stderr as JSON lines. Exit codes: 0 clean stop, 2 configuration
error, 1 anything else (e.g. the port is taken).

The venue trades for one account whose API key and secret it reads from the environment
variables named by ``sim.api_key_env`` and ``sim.api_secret_env`` (``HFT_SIM_API_KEY`` and
``HFT_SIM_API_SECRET`` by default), with the ``[sim]`` balances and commission rates. With
either variable unset it serves market data only and refuses every signed request.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping

import msgspec

from engine.core.config import EngineConfig, SimSection, load_config
from engine.errors import ConfigError, EngineError
from engine.logs import configure_logging
from engine.sim.accounts import AccountSpec
from engine.sim.server import SimVenue

log = logging.getLogger("engine.sim")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine.sim", description=__doc__)
    parser.add_argument("--config", help="TOML file laid over the embedded default")
    parser.add_argument("--port", type=int, help="listen port (overrides sim.port; 0 = any)")
    parser.add_argument("--seed", type=int, help="market seed (overrides sim.seed)")
    return parser


def accounts_from_env(sim: SimSection, environ: Mapping[str, str]) -> list[AccountSpec]:
    """The venue's account from the environment variables ``sim`` names, or none when unset."""
    key = environ.get(sim.api_key_env, "")
    secret = environ.get(sim.api_secret_env, "")
    if not key or not secret:
        return []
    return [
        AccountSpec(
            key,
            secret,
            balances=sim.balances,
            maker_commission=sim.maker_commission,
            taker_commission=sim.taker_commission,
            name="default",
        )
    ]


async def serve(config: EngineConfig, *, port: int | None = None, seed: int | None = None) -> None:
    """Run a venue for ``config`` until SIGINT or SIGTERM, announcing it on stdout first."""
    sim = config.sim
    venue = SimVenue(
        config.instrument_list(),
        seed=sim.seed if seed is None else seed,
        mid_price=sim.mid_price,
        events_per_second=sim.events_per_second,
        depth_interval_ms=sim.depth_interval_ms,
        host=sim.host,
        port=sim.port if port is None else port,
        accounts=accounts_from_env(sim, os.environ),
        orders_per_10s=sim.orders_per_10s,
        orders_per_day=sim.orders_per_day,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await venue.start()
    try:
        line = {"event": "listening", "ws_url": venue.ws_url, "rest_url": venue.rest_url}
        sys.stdout.write(msgspec.json.encode(line).decode() + "\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await venue.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m engine.sim`` and ``hft-tui sim-venue``."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        sys.stderr.write(f"config error: {exc}\n")
        return EXIT_CONFIG
    configure_logging(config.engine.log_level, stream=sys.stderr, json=True)
    try:
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvloop is a dependency on every supported OS
            asyncio.run(serve(config, port=args.port, seed=args.seed))
        else:
            uvloop.run(serve(config, port=args.port, seed=args.seed))
    except (OSError, EngineError) as exc:
        log.error("local venue failed", extra={"error": str(exc)})
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

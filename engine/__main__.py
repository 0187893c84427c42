"""``python -m engine``: load the config, run one engine in the foreground, exit with a code.

Exit codes: 0 clean stop, 2 configuration error (instrument grids the venue cannot give
included), 3 instance already running, 1 anything else.
SIGTERM and SIGINT stop it gracefully (segments removed, venue child stopped); SIGUSR1 is the
kill switch (trading halts, the engine keeps running); SIGHUP reloads the config file's risk
limits and log level (:mod:`engine.hangup`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from engine.core.config import EngineConfig, load_config
from engine.errors import ConfigError, EngineError, InstanceRunning
from engine.logs import configure_logging

log = logging.getLogger("engine")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_RUNNING = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__)
    parser.add_argument("--config", help="TOML file laid over the embedded default")
    parser.add_argument("--instance", help="instance name (overrides engine.instance)")
    parser.add_argument("--duration", type=float, default=None, help="stop after SECONDS")
    parser.add_argument(
        "--log-format", choices=("json", "human", "auto"), default="auto", help="log line format"
    )
    return parser


async def _serve(config: EngineConfig, config_path: str | None, duration: float | None) -> None:
    from engine.engine import Engine  # heavy imports after the config is known to be good
    from engine.hangup import reload_config

    engine = Engine(config, config_path=config_path)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, engine.request_stop)
    loop.add_signal_handler(signal.SIGUSR1, engine.kill, "SIGUSR1")
    loop.add_signal_handler(signal.SIGHUP, reload_config, engine, config_path)
    await engine.run(duration)


def run(config: EngineConfig, config_path: str | None, duration: float | None) -> int:
    """Run an engine until it stops; returns the process exit code."""
    try:
        try:
            import uvloop
        except ImportError:  # pragma: no cover - uvloop is a dependency on every supported OS
            asyncio.run(_serve(config, config_path, duration))
        else:
            uvloop.run(_serve(config, config_path, duration))
    except InstanceRunning as exc:
        log.error(str(exc))
        return EXIT_RUNNING
    except EngineError as exc:
        log.error(str(exc))
        return EXIT_FAILED
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m engine``."""
    args = _parser().parse_args(argv)
    environ = dict(os.environ)
    if args.instance:
        environ["HFT__ENGINE__INSTANCE"] = args.instance
    try:
        config = load_config(args.config, environ)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)  # noqa: T201 - one clear line, before logging exists
        return EXIT_CONFIG
    fmt = None if args.log_format == "auto" else args.log_format == "json"
    configure_logging(config.engine.log_level, json=fmt)
    if any(i.from_venue for i in config.instruments):
        from engine.instrument_resolve import InstrumentsUnresolved, resolve_instruments

        try:
            config = asyncio.run(resolve_instruments(config))
        except InstrumentsUnresolved as exc:
            print(f"config error: {exc}", file=sys.stderr)  # noqa: T201 - one clear line
            return EXIT_CONFIG
    return run(config, args.config, args.duration)


if __name__ == "__main__":
    sys.exit(main())

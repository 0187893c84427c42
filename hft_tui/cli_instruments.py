"""``hft-tui instruments VENUE [SYMBOL...]``: a venue's instruments as config blocks.

The list comes from the venue's instrument endpoint through the disk cache under the config's
state dir (:class:`~engine.venues.instrument_cache.InstrumentCache`): a cache younger than
``--max-age-h`` answers alone, ``--refresh`` always asks the venue, and an unreachable venue
falls back to the cache, saying so on stderr. The named symbols are printed as
``[[instruments]]`` TOML blocks, ready for a config file; with none, a count.
"""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from engine.core.config import load_config
from engine.errors import ConfigError, InstrumentError
from engine.venues.instrument_cache import InstrumentCache, InstrumentList, InstrumentsUnavailable
from engine.venues.instrument_endpoints import endpoint_of


def instruments(
    venue: Annotated[str, typer.Argument(help="binance, binance-usdm, bybit-linear, okx, ...")],
    symbols: Annotated[list[str] | None, typer.Argument(help="Symbols to print.")] = None,
    config: Annotated[str | None, typer.Option("--config", "-c", help="Config file.")] = None,
    rest_url: Annotated[str, typer.Option(help="REST base instead of the venue's.")] = "",
    max_age_h: Annotated[float, typer.Option(help="Use a cache younger than this.")] = 24.0,
    refresh: Annotated[bool, typer.Option(help="Ask the venue even when cached.")] = False,
) -> None:
    """Print a venue's instruments (tick, lot, min notional) as [[instruments]] blocks."""
    try:
        endpoint, base = endpoint_of(venue)
        state = load_config(config, dict(os.environ)).state_dir()
    except (KeyError, ConfigError) as exc:
        typer.echo(str(exc).strip("'\""), err=True)
        raise typer.Exit(2) from None
    cache = InstrumentCache(state, max_age_s=0.0 if refresh else max_age_h * 3600)
    try:
        listed = asyncio.run(cache.load(endpoint, rest_url or base))
    except (InstrumentsUnavailable, InstrumentError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    _say_where(listed, str(cache.path(venue)))
    if not symbols:
        typer.echo(f"{len(listed.instruments)} instruments on {venue}")
        return
    by_symbol = listed.by_symbol()
    missing = [s for s in symbols if s not in by_symbol]
    for symbol in symbols:
        inst = by_symbol.get(symbol)
        if inst is None:
            continue
        typer.echo(
            f'[[instruments]]\nvenue = "{venue}"\nsymbol = "{inst.symbol}"\n'
            f'tick_size = "{inst.tick_size}"\nlot_size = "{inst.lot_size}"\n'
            f'min_notional = "{inst.min_notional}"\n'
        )
    if missing:
        typer.echo(f"not listed on {venue}: {', '.join(missing)}", err=True)
        raise typer.Exit(1)


def _say_where(listed: InstrumentList, path: str) -> None:
    if listed.stale:
        typer.echo(f"{listed.venue} unreachable: using the cached list in {path}", err=True)
    elif listed.from_cache:
        typer.echo(f"from the cache in {path}", err=True)


def register(cli: typer.Typer) -> None:
    """Add ``instruments`` to the command line."""
    cli.command("instruments")(instruments)

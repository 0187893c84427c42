"""``hft-tui record`` and ``hft-tui data import|validate|replay``: the catalog's command line.

Each command checks its options and hands over to :mod:`engine.recorder.session` or
:mod:`engine.data`; reports are JSON on stdout, errors one line on stderr with exit code 2
(bad input) or 1 (the work failed).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from engine.errors import ConfigError, EngineError

data_cli = typer.Typer(
    help="Market-data captures and the catalog: import, validate, replay.",
    no_args_is_help=True,
)

PathsArg = Annotated[list[Path], typer.Argument(help="Capture files (or a catalog folder).")]
VenueOpt = Annotated[
    str | None,
    typer.Option("--venue", help="binance, binance-usdm, binance-coinm, okx, kraken, ..."),
]
SymbolOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--symbol", help="Only this symbol, or SYMBOL:TICK:LOT with its own grid (repeatable)."
    ),
]
TickOpt = Annotated[str | None, typer.Option("--tick", help="Price step, exact decimal text.")]
LotOpt = Annotated[str | None, typer.Option("--lot", help="Size step, exact decimal text.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _print(doc: object) -> None:
    typer.echo(json.dumps(msgspec.to_builtins(doc), indent=2))


def _compiled() -> None:
    """The Binance readers compiled (cached by numba): the replay's hot path, as live."""
    from engine.jit import KernelLoadError
    from engine.venues.binance.protocol import use_compiled_readers

    try:
        use_compiled_readers()
    except KernelLoadError as exc:  # the pure-Python path gives the same events, slower
        typer.echo(f"note: compiled readers unavailable ({exc}); using the general path", err=True)


@data_cli.command("import")
def import_command(
    paths: PathsArg,
    source: Annotated[
        str,
        typer.Option("--from", help="Capture format: hftbacktest, cryptofeed, tardis or bybit."),
    ],
    catalog: Annotated[Path, typer.Option("--catalog", help="Catalog folder to write into.")],
    venue: VenueOpt = None,
    symbol: SymbolOpt = None,
    tick: TickOpt = None,
    lot: LotOpt = None,
) -> None:
    """Import captures into the catalog, rebuilding books by the venue's rules."""
    from engine.data.captures import FORMATS
    from engine.data.importer import import_capture

    if source not in FORMATS:
        raise _fail(f"--from {source!r} is not one of {', '.join(FORMATS)}")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise _fail(f"no such capture file: {', '.join(missing)}")
    _compiled()
    try:
        report = import_capture(
            source, paths, catalog, venue=venue, symbols=symbol or (), tick=tick, lot=lot
        )
    except (EngineError, ValueError) as exc:
        raise _fail(f"import failed: {exc}", 1) from None
    for note in report.inferred:
        typer.echo(f"note: {note}", err=True)
    _print(report)


@data_cli.command("validate")
def validate_command(
    paths: PathsArg,
    venue: VenueOpt = None,
    symbol: SymbolOpt = None,
    tick: TickOpt = None,
    lot: LotOpt = None,
) -> None:
    """Report gaps, duplicates, out-of-order sequences, crossed books and bad sizes (JSON)."""
    from engine.data.validate import validate_path

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise _fail(f"no such file or folder: {', '.join(missing)}")
    _compiled()
    try:
        report = validate_path(paths, venue=venue, tick=tick, lot=lot, symbols=symbol or ())
    except (EngineError, ValueError) as exc:
        raise _fail(f"validate failed: {exc}", 1) from None
    doc = msgspec.to_builtins(report)
    doc["ok"] = report.ok
    typer.echo(json.dumps(doc, indent=2))


@data_cli.command("replay")
def replay_command(
    paths: PathsArg,
    source: Annotated[
        str,
        typer.Option("--source", help="hftbacktest, cryptofeed, bybit or catalog (a folder)."),
    ],
    venue: Annotated[str, typer.Option("--venue", help="Whose books to rebuild.")],
    top: Annotated[int, typer.Option("--top", min=1, help="Levels per side printed.")] = 10,
    symbol: SymbolOpt = None,
    tick: TickOpt = None,
    lot: LotOpt = None,
) -> None:
    """Rebuild books and print one JSON line per applied update, exact decimal text."""
    from engine.data.captures import read_capture
    from engine.data.replay import capture_lines, catalog_lines
    from engine.data.sources import capture_instruments
    from engine.data.venues import replayer

    out = sys.stdout.buffer
    try:
        if source == "catalog":
            if len(paths) != 1 or not paths[0].is_dir():
                raise _fail("--source catalog takes one catalog folder")
            lines = catalog_lines(paths[0], venue, top, symbols=symbol or ())
        elif source in ("hftbacktest", "cryptofeed", "bybit"):
            missing = [str(p) for p in paths if not p.is_file()]
            if missing:
                raise _fail(f"no such capture file: {', '.join(missing)}")
            _compiled()
            records = list(read_capture(source, paths))
            found = capture_instruments(venue, records, symbols=symbol or (), tick=tick, lot=lot)
            for note in found.inferred:
                typer.echo(f"note: {note}", err=True)
            lines = capture_lines(replayer(venue, found.instruments), records, top)
        else:
            raise _fail(f"--source {source!r} is not hftbacktest, cryptofeed, bybit or catalog")
        for line in lines:
            out.write(line + b"\n")
        out.flush()
    except BrokenPipeError:  # `| head`: the reader is gone, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (EngineError, ValueError) as exc:
        raise _fail(f"replay failed: {exc}", 1) from None


def record_command(
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="TOML file laid over the default.")
    ] = None,
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="Catalog folder (default: [recorder] root).")
    ] = None,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Stop after SECONDS (default: until ^C).")
    ] = None,
) -> None:
    """Record the configured venue's feed (the local venue by default) into the catalog."""
    from engine.core.config import load_config
    from engine.logs import configure_logging
    from engine.recorder.session import record

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        raise _fail(f"config error: {exc}") from None
    configure_logging(cfg.engine.log_level, json=True)
    try:
        stats = asyncio.run(record(cfg, config_path=config, root=catalog, duration_s=duration))
    except EngineError as exc:
        raise _fail(f"record failed: {exc}", 1) from None
    _print(stats)
    if stats.write_errors or stats.dropped:
        raise typer.Exit(1)


def register(cli: typer.Typer) -> None:
    """Add ``record`` and ``data`` to the main command line."""
    cli.command("record")(record_command)
    cli.add_typer(data_cli, name="data")

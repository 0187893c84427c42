"""``hft-tui backtest``: run, sweep, walk-forward and latency sensitivity from the shell.

Every command reads its data from ``--capture`` (real Binance spot captures, hftbacktest's raw
format; repeat it for several symbols) or ``--catalog`` (the Parquet catalog), checks the range
before anything runs, and prints JSON on stdout (``--json`` for ``run``; the others always).
Errors name what was wrong and exit 2; progress goes to stderr. ``hft-tui backtest`` with the
run's options and no subcommand (``hft-tui backtest --no-ui --capture ... --json``) is ``run``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

if TYPE_CHECKING:
    from rich.progress import Progress

    from backtest.catalog_source import SourceSpec
    from backtest.config import BacktestConfig

backtest_cli = typer.Typer(
    help="Backtests over recorded markets: run, sweep, walk-forward, latency.",
    no_args_is_help=True,
)

StrategyOpt = Annotated[str, typer.Option("--strategy", help="Strategy kind.")]
ParamsOpt = Annotated[
    list[str] | None, typer.Option("--params", "-p", help="Strategy parameter k=v (repeat).")
]
CatalogOpt = Annotated[str | None, typer.Option("--catalog", help="Parquet catalog folder.")]
CaptureOpt = Annotated[
    list[str] | None,
    typer.Option("--capture", help="Capture day file or <folder>/<symbol> stem (repeat)."),
]
SymbolsOpt = Annotated[
    list[str] | None,
    typer.Option("--instrument", help="Catalog instrument venue:SYMBOL (repeat; default all)."),
]
SymbolOpt = Annotated[str, typer.Option("--symbol", help="Symbol traded (default: the first).")]
StartOpt = Annotated[str, typer.Option("--start", help="ISO-8601 UTC or ns; default data start.")]
EndOpt = Annotated[str, typer.Option("--end", help="ISO-8601 UTC or ns; default data end.")]
TimeOpt = Annotated[str, typer.Option("--time", help="Replay by 'recv' or 'exch' time.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Backtest config field k=v (maker_fee, taker_fee, queue_model, entry_latency_us, "
        "response_latency_us, feed_latency_us, latency_model, seed, sample_ms, ...; repeat).",
    ),
]
CorruptOpt = Annotated[
    str, typer.Option("--on-corrupt", help="Corrupt data file: 'skip' (warn) or 'refuse'.")
]
ClusterOpt = Annotated[
    str | None, typer.Option("--cluster", help="Dask scheduler, e.g. tcp://host:8786.")
]
WorkersOpt = Annotated[int, typer.Option("--workers", help="Local worker processes.")]
RunOutOpt = Annotated[str | None, typer.Option("--out", help="Results folder.")]
ReportOpt = Annotated[str, typer.Option("--report", help="'html' adds report.html.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the metrics JSON.")]
NoUiOpt = Annotated[bool, typer.Option("--no-ui", help="Headless (the only mode here).")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"backtest: {message}", err=True)
    return typer.Exit(2)


def parse_time(text: str, what: str) -> int:
    """Nanoseconds since the epoch from integer ns or ISO-8601 (UTC unless offset); '' is 0.

    Raises:
        ValueError: neither form.
    """
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{what} {text!r} is neither ns nor ISO-8601") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return int(stamp.timestamp()) * 1_000_000_000 + stamp.microsecond * 1000


def _spec(
    catalog: str | None, capture: list[str] | None, symbols: list[str] | None, on_corrupt: str
) -> SourceSpec:
    from backtest.catalog_source import SourceSpec

    if bool(catalog) == bool(capture):
        raise _fail("give exactly one of --catalog PATH or --capture PATH")
    if on_corrupt not in ("skip", "refuse"):
        raise _fail(f"--on-corrupt {on_corrupt!r}: use skip or refuse")
    mode: Literal["skip", "refuse"] = "skip" if on_corrupt == "skip" else "refuse"
    if catalog:
        return SourceSpec(
            kind="catalog", root=catalog, symbols=list(symbols or []), on_corrupt=mode
        )
    return SourceSpec(kind="capture", paths=list(capture or []), on_corrupt=mode)


def _config(
    strategy: str,
    params: list[str] | None,
    symbol: str,
    start: str,
    end: str,
    time: str,
    sets: list[str] | None,
    on_corrupt: str,
) -> BacktestConfig:
    import msgspec

    from backtest.config import BacktestConfig, parse_params

    try:
        doc: dict[str, Any] = {}
        for pair in sets or []:
            key, sep, text = pair.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"--set {pair!r} is not key=value")
            doc[key.strip()] = text.strip()  # typed by the config's own fields below
        doc.update(
            strategy=strategy,
            params=parse_params(list(params or [])),
            symbol=symbol,
            start_ns=parse_time(start, "--start"),
            end_ns=parse_time(end, "--end"),
            time=time,
            on_corrupt=on_corrupt,
        )
        return msgspec.convert(doc, BacktestConfig, strict=False)
    except (ValueError, msgspec.ValidationError) as exc:
        raise _fail(str(exc)) from None


def _quiet() -> None:
    """Per-order OMS and strategy warnings are the run's business, not the terminal's."""
    logging.disable(logging.WARNING)


def default_folder(config: BacktestConfig, spec: SourceSpec) -> Path:
    """``backtests/<strategy>-<12 hex of the config and data>``: the same run, the same folder."""
    import msgspec

    digest = hashlib.sha256(msgspec.json.encode([config, spec])).hexdigest()[:12]
    return Path("backtests") / f"{config.strategy}-{digest}"


@backtest_cli.command("run")
def run_command(
    strategy: StrategyOpt = "market_maker",
    params: ParamsOpt = None,
    catalog: CatalogOpt = None,
    capture: CaptureOpt = None,
    instrument: SymbolsOpt = None,
    symbol: SymbolOpt = "",
    start: StartOpt = "",
    end: EndOpt = "",
    time: TimeOpt = "recv",
    set_: SetOpt = None,
    on_corrupt: CorruptOpt = "refuse",
    out: RunOutOpt = None,
    report: ReportOpt = "",
    as_json: JsonOpt = False,
    no_ui: NoUiOpt = False,
) -> None:
    """One backtest: results folder (Parquet + JSON [+ HTML]); --json prints the metrics."""
    from backtest.catalog_source import open_source
    from backtest.errors import BacktestError
    from backtest.report import metrics_document, to_json, write_results
    from backtest.runner import run_backtest

    if report not in ("", "html"):
        raise _fail(f"--report {report!r}: only 'html' is supported")
    spec = _spec(catalog, capture, instrument, on_corrupt)
    cfg = _config(strategy, params, symbol, start, end, time, set_, on_corrupt)
    _quiet()
    try:
        result = run_backtest(cfg, open_source(spec))
    except BacktestError as exc:
        raise _fail(str(exc)) from None
    folder = Path(out) if out else default_folder(cfg, spec)
    write_results(result, folder, html_report=report == "html")
    events = result.book_events + result.trade_events
    typer.echo(
        f"{events} events ({result.book_events} book) in {result.wall_s:.2f} s, "
        f"{result.book_events / result.wall_s if result.wall_s else 0:.0f} book events/s; "
        f"results in {folder}",
        err=True,
    )
    if as_json:
        sys.stdout.write(to_json(metrics_document(result)))


@backtest_cli.callback(invoke_without_command=True)
def backtest_command(
    ctx: typer.Context,
    strategy: StrategyOpt = "market_maker",
    params: ParamsOpt = None,
    catalog: CatalogOpt = None,
    capture: CaptureOpt = None,
    instrument: SymbolsOpt = None,
    symbol: SymbolOpt = "",
    start: StartOpt = "",
    end: EndOpt = "",
    time: TimeOpt = "recv",
    set_: SetOpt = None,
    on_corrupt: CorruptOpt = "refuse",
    out: RunOutOpt = None,
    report: ReportOpt = "",
    as_json: JsonOpt = False,
    no_ui: NoUiOpt = False,
) -> None:
    """Backtests over recorded markets; with run's options and no subcommand, one run."""
    if ctx.invoked_subcommand is not None:
        given = [
            param.opts[0] for param in ctx.command.params if param.name and _typed(ctx, param.name)
        ]
        if given:
            raise _fail(
                f"{', '.join(given)}: the options of a run; give them after the subcommand "
                f"(hft-tui backtest {ctx.invoked_subcommand} OPTIONS)"
            )
        return
    run_command(**ctx.params)  # the same options, by the same names


def _typed(ctx: typer.Context, name: str) -> bool:
    """Was the option given on the command line (not left at its default)?"""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "COMMANDLINE"


def _progress(label: str) -> Progress:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        label,
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )


@backtest_cli.command("sweep")
def sweep_command(
    grid_: Annotated[
        list[str] | None,
        typer.Option("--grid", help="name=v1,v2 or name=lo:hi[:step] (repeat): every combination."),
    ] = None,
    random_: Annotated[
        list[str] | None,
        typer.Option("--random", help="Like --grid, but --samples points drawn (seeded)."),
    ] = None,
    samples: Annotated[int, typer.Option("--samples", help="Random points.")] = 20,
    seed: Annotated[int, typer.Option("--sweep-seed", help="Seed of the random draw.")] = 0,
    strategy: StrategyOpt = "market_maker",
    params: ParamsOpt = None,
    catalog: CatalogOpt = None,
    capture: CaptureOpt = None,
    instrument: SymbolsOpt = None,
    symbol: SymbolOpt = "",
    start: StartOpt = "",
    end: EndOpt = "",
    time: TimeOpt = "recv",
    set_: SetOpt = None,
    on_corrupt: CorruptOpt = "refuse",
    cluster: ClusterOpt = None,
    workers: WorkersOpt = 2,
    out: Annotated[str, typer.Option("--out", help="Results Parquet file.")] = "sweep.parquet",
) -> None:
    """Grid or random search; one Parquet table of results; the rows as JSON on stdout."""
    import pyarrow.parquet as pq

    from backtest.sweep import SweepSpecError, grid, parse_space, random_points, sweep, table

    spec = _spec(catalog, capture, instrument, on_corrupt)
    cfg = _config(strategy, params, symbol, start, end, time, set_, on_corrupt)
    try:
        if bool(grid_) == bool(random_):
            raise SweepSpecError("give --grid entries or --random entries (not both)")
        points = (
            grid(parse_space(grid_ or []))
            if grid_
            else random_points(parse_space(random_ or []), samples, seed)
        )
    except SweepSpecError as exc:
        raise _fail(str(exc)) from None
    _check_data(cfg, spec)
    with _progress("sweep") as bar:
        task = bar.add_task("sweep", total=len(points))
        rows = sweep(
            cfg,
            points,
            spec,
            executor=cluster or "local",
            workers=workers,
            on_done=lambda _: bar.advance(task),
        )
    pq.write_table(table(rows), out)
    failed = [r for r in rows if r["status"] != "ok"]
    for row in failed:
        typer.echo(f"point {row['point']}: {row['status']}: {row['error']}", err=True)
    sys.stdout.write(json.dumps({"table": out, "points": len(rows), "rows": rows}, indent=2) + "\n")


def _check_data(cfg: BacktestConfig, spec: SourceSpec) -> None:
    """Refuse a missing or partial range here, before any worker starts."""
    from backtest.catalog_source import open_source
    from backtest.errors import BacktestError
    from backtest.runner import check_range

    try:
        check_range(open_source(spec), cfg)
    except BacktestError as exc:
        raise _fail(str(exc)) from None


@backtest_cli.command("walk-forward")
def walk_forward_command(
    grid_: Annotated[
        list[str] | None, typer.Option("--grid", help="name=v1,v2 or name=lo:hi[:step] (repeat).")
    ] = None,
    in_sample: Annotated[float, typer.Option("--in-sample", help="In-sample seconds.")] = 120.0,
    out_of_sample: Annotated[
        float, typer.Option("--out-of-sample", help="Out-of-sample seconds.")
    ] = 60.0,
    step: Annotated[float, typer.Option("--step", help="Seconds between windows.")] = 0.0,
    objective: Annotated[str, typer.Option("--objective", help="Column to maximise.")] = "net",
    strategy: StrategyOpt = "market_maker",
    params: ParamsOpt = None,
    catalog: CatalogOpt = None,
    capture: CaptureOpt = None,
    instrument: SymbolsOpt = None,
    symbol: SymbolOpt = "",
    start: StartOpt = "",
    end: EndOpt = "",
    time: TimeOpt = "recv",
    set_: SetOpt = None,
    on_corrupt: CorruptOpt = "refuse",
    cluster: ClusterOpt = None,
    workers: WorkersOpt = 2,
) -> None:
    """Rolling in-sample optimisation and out-of-sample tests; the IS vs OOS report as JSON."""
    from backtest.errors import BacktestError
    from backtest.sweep import SweepSpecError, grid, parse_space
    from backtest.walk_forward import walk_forward

    spec = _spec(catalog, capture, instrument, on_corrupt)
    cfg = _config(strategy, params, symbol, start, end, time, set_, on_corrupt)
    try:
        points = grid(parse_space(grid_ or []))
    except SweepSpecError as exc:
        raise _fail(str(exc)) from None
    _check_data(cfg, spec)
    try:
        doc = walk_forward(
            cfg,
            points,
            spec,
            in_sample_s=in_sample,
            out_of_sample_s=out_of_sample,
            step_s=step,
            objective=objective,
            executor=cluster or "local",
            workers=workers,
            on_window=lambda row: typer.echo(
                f"window {row['window']}: in-sample {row['in_sample']:.6g}, "
                f"out-of-sample {row['out_of_sample']:.6g}",
                err=True,
            ),
        )
    except BacktestError as exc:
        raise _fail(str(exc)) from None
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@backtest_cli.command("latency")
def latency_command(
    steps: Annotated[
        str, typer.Option("--steps", help="Added one-way order latency, ms, comma separated.")
    ] = "0,1,5,10,50",
    strategy: StrategyOpt = "market_maker",
    params: ParamsOpt = None,
    catalog: CatalogOpt = None,
    capture: CaptureOpt = None,
    instrument: SymbolsOpt = None,
    symbol: SymbolOpt = "",
    start: StartOpt = "",
    end: EndOpt = "",
    time: TimeOpt = "recv",
    set_: SetOpt = None,
    on_corrupt: CorruptOpt = "refuse",
    cluster: ClusterOpt = None,
    workers: WorkersOpt = 2,
) -> None:
    """The same run at each added latency: the PnL-vs-latency curve and its sensitivity."""
    from backtest.latency import latency_curve

    spec = _spec(catalog, capture, instrument, on_corrupt)
    cfg = _config(strategy, params, symbol, start, end, time, set_, on_corrupt)
    try:
        added = [float(s) for s in steps.split(",") if s.strip()]
    except ValueError:
        raise _fail(f"--steps {steps!r}: want numbers of ms, comma separated") from None
    if not added or min(added) < 0:
        raise _fail(f"--steps {steps!r}: want at least one latency, none negative")
    _check_data(cfg, spec)
    doc = latency_curve(cfg, spec, added, executor=cluster or "local", workers=workers)
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")

"""The ``hft-tui`` command line: start the workstation, run headless, attach, kill, bench.

No logic lives here: each command validates its arguments and hands over to the engine, the
launcher or the app.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Annotated, Any

import typer

from engine.core.config import EngineConfig, load_config
from engine.errors import ConfigError
from hft_tui import cli_soak
from hft_tui.cli_backtest import backtest_cli
from hft_tui.cli_data import register as register_data_commands
from hft_tui.cli_instruments import register as register_instrument_commands

if TYPE_CHECKING:
    from hft_tui.app import EngineSession

cli = typer.Typer(
    name="hft-tui",
    help="Terminal trading workstation. With no command: start an engine and show it.",
    add_completion=False,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
)

ConfigOpt = Annotated[
    str | None, typer.Option("--config", "-c", help="TOML file laid over the embedded default.")
]
InstanceOpt = Annotated[
    str | None, typer.Option("--instance", "-i", help="Engine instance name (default: config's).")
]


def _load(config: str | None, instance: str | None) -> EngineConfig:
    environ = dict(os.environ)
    if instance:
        environ["HFT__ENGINE__INSTANCE"] = instance
    try:
        return load_config(config, environ)
    except ConfigError as exc:
        typer.echo(f"config error: {exc}", err=True)
        raise typer.Exit(2) from None


def _instance_name(config: str | None, instance: str | None) -> str:
    return instance or _load(config, None).engine.instance


def _run_app(session: EngineSession, config: EngineConfig) -> None:
    from engine.core.clock import LiveClock
    from hft_tui.app import TradingApp, UiSettings

    settings = UiSettings(
        refresh_hz=config.ui.refresh_hz,
        token_env=config.control.token_env,
        backtest_data=os.environ.get("HFT_BACKTEST_DATA", ""),
    )
    app = TradingApp(session, settings, LiveClock())
    try:
        app.run()
    finally:
        session.shutdown()


@cli.callback(invoke_without_command=True)
def main_command(
    ctx: typer.Context,
    config: ConfigOpt = None,
    instance: InstanceOpt = None,
    no_ui: Annotated[
        bool, typer.Option("--no-ui", help="Run the engine in the foreground, JSON logs on stdout.")
    ] = False,
    duration: Annotated[
        float | None, typer.Option("--duration", help="Stop the engine after SECONDS (--no-ui).")
    ] = None,
) -> None:
    """Start an engine on the configured venue (the built-in local venue by default) and show it."""
    if ctx.invoked_subcommand is not None:
        return
    cfg = _load(config, instance)
    if no_ui:
        from engine.__main__ import run
        from engine.logs import configure_logging

        configure_logging(cfg.engine.log_level, json=True)
        raise typer.Exit(run(cfg, config, duration))
    from engine.ipc.segments import pid_alive, read_instance
    from hft_tui.launcher import EngineStartError, OwnedSession

    running = read_instance(cfg.engine.instance)
    if running is not None and pid_alive(running.pid):
        typer.echo(
            f"engine {cfg.engine.instance!r} is already running (pid {running.pid}); "
            f"use `hft-tui attach --instance {cfg.engine.instance}` or pick another --instance",
            err=True,
        )
        raise typer.Exit(3)
    session = OwnedSession(cfg.engine.instance, config)
    session.engine.spawn()  # the engine boots while the UI's modules load
    import hft_tui.app  # noqa: F401 - loaded now, in parallel with the engine's start

    try:
        session.connect().close()
    except EngineStartError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    _run_app(session, cfg)


@cli.command()
def attach(config: ConfigOpt = None, instance: InstanceOpt = None) -> None:
    """Open the UI on an engine that is already running; quitting leaves it running."""
    from hft_tui.bridge import EngineNotRunning, UiAlreadyAttached
    from hft_tui.launcher import AttachedSession

    cfg = _load(config, instance)
    session = AttachedSession(cfg.engine.instance)
    try:
        session.connect().close()
    except (EngineNotRunning, UiAlreadyAttached) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    _run_app(session, cfg)


def _control(
    instance: str, method: str, path: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    from engine.ipc.segments import list_instances, pid_alive, read_instance

    info = read_instance(instance)
    if info is None or not pid_alive(info.pid) or not info.control_url:
        names = ", ".join(i.instance for i in list_instances()) or "none"
        typer.echo(f"no engine {instance!r} is running (running: {names})", err=True)
        raise typer.Exit(1)
    req = urllib.request.Request(info.control_url + path, method=method, headers=headers or {})  # noqa: S310 - loopback URL from our own record
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310
            doc: dict[str, Any] = json.loads(resp.read())
            return doc
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("error", exc.reason)
        typer.echo(f"engine {instance!r} refused: {detail}", err=True)
        raise typer.Exit(1) from None
    except (urllib.error.URLError, OSError) as exc:
        typer.echo(f"engine {instance!r} did not answer at {info.control_url}: {exc}", err=True)
        raise typer.Exit(1) from None


@cli.command()
def kill(config: ConfigOpt = None, instance: InstanceOpt = None) -> None:
    """Halt trading on a running engine now (the same as ctrl+k)."""
    name = _instance_name(config, instance)
    doc = _control(name, "POST", "/kill")
    typer.echo(f"{name}: trading {doc.get('trading', '?').upper()}")


@cli.command()
def reset(config: ConfigOpt = None, instance: InstanceOpt = None) -> None:
    """Re-enable trading after a halt; needs the control token in its environment variable."""
    cfg = _load(config, instance)
    token = os.environ.get(cfg.control.token_env, "")
    if not token:
        typer.echo(f"set {cfg.control.token_env} to the engine's control token first", err=True)
        raise typer.Exit(1)
    doc = _control(cfg.engine.instance, "POST", "/reset", {"Authorization": f"Bearer {token}"})
    typer.echo(f"{cfg.engine.instance}: trading {doc.get('trading', '?').upper()}")


strategy_cli = typer.Typer(help="Running strategies: reload one from its source.")
cli.add_typer(strategy_cli, name="strategy")


@strategy_cli.command("reload")
def strategy_reload(
    name: Annotated[str, typer.Argument(help="The strategy's name, as in its config section.")],
    config: ConfigOpt = None,
    instance: InstanceOpt = None,
) -> None:
    """Reload a strategy's source file; its orders are canceled and it restarts flat."""
    cfg = _load(config, instance)
    token = os.environ.get(cfg.control.token_env, "")
    if not token:
        typer.echo(f"set {cfg.control.token_env} to the engine's control token first", err=True)
        raise typer.Exit(1)
    path = f"/strategies/{urllib.parse.quote(name, safe='')}/reload"
    doc = _control(cfg.engine.instance, "POST", path, {"Authorization": f"Bearer {token}"})
    typer.echo(
        f"{cfg.engine.instance}: strategy {name} reloaded from {doc.get('source', '?')}, flat"
    )


@cli.command()
def status(config: ConfigOpt = None, instance: InstanceOpt = None) -> None:
    """Print a running engine's /status document."""
    name = _instance_name(config, instance)
    typer.echo(json.dumps(_control(name, "GET", "/status"), indent=2))


@cli.command()
def instances() -> None:
    """List the engines running on this machine for this user."""
    from engine.ipc.segments import list_instances

    found = list_instances()
    if not found:
        typer.echo("no engines running")
    for info in found:
        typer.echo(f"{info.instance}\tpid {info.pid}\t{info.control_url}\t{','.join(info.symbols)}")


@cli.command(
    "sim-venue", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def sim_venue(ctx: typer.Context) -> None:
    """Run the built-in local venue standalone (options: --config, --port, --seed)."""
    from engine.sim.__main__ import main as sim_main

    raise typer.Exit(sim_main(list(ctx.args)))


cli.add_typer(backtest_cli, name="backtest")


@cli.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context) -> None:
    """Run benchmarks: hft-tui bench [SUBJECT...] [--quick] [--json]."""
    from engine.bench.__main__ import main as bench_main

    raise typer.Exit(bench_main(list(ctx.args)))


cli.command("soak")(cli_soak.soak)
cli.command(
    "reliability-report",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)(cli_soak.reliability_report)


register_data_commands(cli)
register_instrument_commands(cli)


def main() -> None:
    """Console-script entry point."""
    sys.exit(cli())

"""SIGHUP: read the config file again and put its risk limits and log level in force.

``systemctl reload hft-tui`` (``ExecReload=/bin/kill -HUP $MAINPID``) and a plain ``kill -HUP``
land here. The file (and the ``HFT__*`` environment, as at start) is loaded and validated in
full; a file that does not load changes nothing and the error is logged with its file and line.
Limits are applied only when the file's ``[risk]`` differs from what the file said before, so a
reload for another reason never undoes limits an operator set over the control plane since;
they go through :meth:`~engine.engine.Engine.set_risk_limits` like every change (validated,
journaled, shared). Sections that only take effect at start (venue, instruments, ports, ...) are
named in a warning and keep their running values until the next restart.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

import msgspec

from engine.core.config import EngineConfig, load_config
from engine.errors import ConfigError
from engine.risk.limits import LimitsError

if TYPE_CHECKING:
    from engine.engine import Engine

log = logging.getLogger("engine.reload")

#: what a reload puts in force; every other section needs a restart
LIVE_FIELDS = ("risk",)


def restart_only_changes(old: EngineConfig, new: EngineConfig) -> list[str]:
    """Sections whose new values wait for a restart (the log level is applied live)."""
    changed = []
    for field in EngineConfig.__struct_fields__:
        if field in LIVE_FIELDS:
            continue
        before, after = getattr(old, field), getattr(new, field)
        if field == "engine":
            before = msgspec.structs.replace(before, log_level=after.log_level)
        if field == "instruments":  # grids left to the venue are the ones resolved at start
            known = {i.symbol: i for i in before}
            after = [
                msgspec.structs.replace(
                    i,
                    tick_size=i.tick_size or known[i.symbol].tick_size,
                    lot_size=i.lot_size or known[i.symbol].lot_size,
                    min_notional=i.min_notional or known[i.symbol].min_notional,
                )
                if i.from_venue and i.symbol in known
                else i
                for i in after
            ]
        if before != after:
            changed.append(field)
    return changed


def reload_config(
    engine: Engine, config_path: str | None, environ: Mapping[str, str] | None = None
) -> bool:
    """Reload ``config_path`` into the running ``engine``; True when the new file was applied.

    Never raises: a signal handler has nobody to raise to. Every outcome is logged.
    """
    old = engine.config
    env = dict(os.environ if environ is None else environ)
    env["HFT__ENGINE__INSTANCE"] = old.engine.instance
    try:
        new = load_config(config_path, env)
    except ConfigError as exc:
        log.error("SIGHUP: config not reloaded, nothing changed: %s", exc)
        return False
    if new.risk != old.risk:
        try:
            engine.set_risk_limits(new.risk, "SIGHUP")
        except LimitsError as exc:
            log.error("SIGHUP: risk limits not changed, the old ones stay: %s", exc)
            return False
    else:
        log.info("SIGHUP: the file's risk limits are unchanged; the limits in force stay")
    logging.getLogger().setLevel(new.engine.log_level)
    waiting = restart_only_changes(old, new)
    if waiting:
        log.warning(
            "SIGHUP: changed sections take effect at the next restart",
            extra={"sections": ",".join(waiting)},
        )
    live_engine = msgspec.structs.replace(old.engine, log_level=new.engine.log_level)
    engine.config = msgspec.structs.replace(old, risk=new.risk, engine=live_engine)
    log.warning("SIGHUP: config reloaded", extra={"path": config_path or "(embedded default)"})
    return True

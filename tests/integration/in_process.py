"""A local venue and an engine in this test's own process, talking over real sockets on 127.0.0.1.

:func:`engine_on_local_venue` starts a fast local venue and an engine on the default config with
the given environment laid over it (its own instance, a free control port, a state folder under
the test's), runs the engine, and stops both at the end.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from engine.core.config import load_config
from engine.engine import Engine
from engine.sim.server import SimVenue


@asynccontextmanager
async def engine_on_local_venue(
    tmp_path: Path, env: Mapping[str, str] | None = None, *, stop_timeout_s: float = 20.0
) -> AsyncIterator[tuple[SimVenue, Engine, str]]:
    """The venue, the running engine and its instance name; both stopped when done.

    Args:
        tmp_path: the test's folder; the engine's state goes in ``state`` under it.
        env: more ``HFT__...`` settings (``HFT__RECORDER__ENABLED``, ...).
        stop_timeout_s: how long the engine may take to stop.
    """
    instance = f"t{uuid.uuid4().hex[:10]}"
    config = load_config(
        None,
        {
            "HFT__ENGINE__INSTANCE": instance,
            "HFT__CONTROL__PORT": "0",
            "HFT__ENGINE__STATE_DIR": str(tmp_path / "state"),
            "HFT__SIM__DEPTH_INTERVAL_MS": "20",
            **(env or {}),
        },
    )
    venue = SimVenue(
        config.instrument_list(), seed=5, events_per_second=2000.0, depth_interval_ms=20
    )
    await venue.start()
    engine = Engine(config, venue_urls=(venue.ws_url, venue.rest_url))
    task = asyncio.create_task(engine.run())
    try:
        yield venue, engine, instance
    finally:
        engine.request_stop()
        await asyncio.wait_for(task, stop_timeout_s)
        await venue.stop()

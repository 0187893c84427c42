"""The built-in local venue: a generative market served over Binance spot's WS and REST protocol.

``market`` is the seeded market model (the true book), ``wire`` the Binance frame and body
format, ``streams`` the WebSocket side, ``faults`` the fault injector, ``server`` the venue that
ties them together, ``process`` runs it as the engine's child, and ``python -m engine.sim`` runs
it standalone.
"""

from __future__ import annotations

from engine.errors import EngineError


class SimError(EngineError, ValueError):
    """A request to the local venue was invalid: unknown symbol, bad fault or step argument."""

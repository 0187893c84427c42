"""The built-in local venue: a generative market served over Binance spot's WS and REST protocol.

``market`` is the seeded market model (the true book), ``wire`` the Binance frame and body
format, ``streams`` the WebSocket side, ``faults`` the fault injector, ``server`` the venue that
ties them together, ``process`` runs it as the engine's child, and ``python -m engine.sim`` runs
it standalone.

The venue trades, too: ``accounts`` (keys, balances, commissions), ``auth`` (signed requests),
``order_params`` and ``order_wire`` (Binance's order parameters and bodies), ``desk`` with
``executions``, ``settlement``, ``ledger`` and ``order_count`` (every account's orders through the
shared ``matching`` core), ``orders`` and ``cancel_replace`` (the REST order endpoints),
``user_stream`` and ``ws_orders`` (the WebSocket API and user data stream), ``trading`` (their
wiring) and ``trading_faults`` (faults on the order side).
"""

from __future__ import annotations

from engine.errors import EngineError


class SimError(EngineError, ValueError):
    """A request to the local venue was invalid: unknown symbol, bad fault or step argument."""

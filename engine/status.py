"""The ``GET /status`` document: everything an operator asks "is it fine?" about, as exact text.

Prices and sizes are the instruments' grid text, money exact decimals; nothing here is a float
except rates, which are measurements.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import msgspec

from engine.core.instruments import DecimalGrid
from engine.oms.views import alert_doc

if TYPE_CHECKING:
    from engine.engine import Engine


def status_document(engine: Engine) -> dict[str, Any]:
    """The whole ``/status`` document of one engine."""
    books = {}
    for inst in engine.instruments:
        book = engine.books[inst.instrument_id]
        grids = engine.grids[inst.instrument_id]
        books[inst.symbol] = {
            "state": engine.shown_state(inst.instrument_id),
            "best_bid": _level_text(book.best_bid(), grids),
            "best_ask": _level_text(book.best_ask(), grids),
            "update_id": book.update_id,
            "update_count": book.update_count,
        }
    stats = engine.feed.stats if engine.feed is not None else None
    return {
        "instance": engine.config.engine.instance,
        "mode": engine.config.engine.mode,
        "pid": os.getpid(),
        "trading": engine.trading,
        "halt_reason": engine.halt_reason,
        "venue": {
            "name": engine.config.venue.name,
            "link": engine.link.name.lower(),
            "frames": stats.frames if stats else 0,
            "gaps": stats.gaps if stats else 0,
            "resyncs": stats.resyncs if stats else 0,
            "reconnects": stats.reconnects if stats else 0,
            "failures_in_row": stats.failures_in_row if stats else 0,
            "reconnects_throttled": stats.reconnects_throttled if stats else 0,
            "unknown": stats.unknown if stats else 0,
            "malformed": engine.malformed,
        },
        "books": books,
        "wire_to_book": {engine.wire.venue: engine.wire.status()},
        "risk": {
            "halted": engine.risk.halted,
            "rejections": {str(k): v for k, v in engine.risk.rejections.items()},
        },
        "orders": {
            "open": len(engine.oms.open_orders()),
            "known": len(engine.oms.orders),
            "duplicates_ignored": engine.oms.duplicates,
            "unknown_reports": engine.oms.unknown_reports,
            "late_reports": engine.oms.late_reports,
            "late_fills": engine.oms.late_fills,
            "forgotten": engine.oms.forgotten,
        },
        "gateway": _gateway_status(engine),
        "pnl": engine.positions_doc(),
        "alerts": [alert_doc(a) for a in list(engine.oms.alerts)[-20:]],
        "params_store": engine.limits_sync.status(),
        "strategies": [msgspec.to_builtins(s) for s in engine.strategies.stats()],
        "strategy_params": engine.params_sync.status(),
        "recorder": (
            msgspec.to_builtins(engine.recorder.stats()) if engine.recorder is not None else None
        ),
    }


def _gateway_status(engine: Engine) -> dict[str, Any] | None:
    gateway = engine.gateway
    if gateway is None:
        return None
    stats = gateway.stats
    return {
        "venue": gateway.venue,
        "kind": type(gateway).__name__,
        "healthy": engine.oms.link_healthy(gateway.venue),
        "reason": stats.reason,
        "requests": stats.requests,
        "rejects": stats.rejects,
        "errors": stats.errors,
        "rate": [msgspec.structs.asdict(r) for r in stats.rate],
    }


def _level_text(
    level: tuple[int, int] | None, grids: tuple[DecimalGrid, DecimalGrid]
) -> dict[str, str] | None:
    """A (ticks, lots) level as exact price and size text, or None for an empty side."""
    if level is None:
        return None
    return {"price": grids[0].to_text(level[0]), "size": grids[1].to_text(level[1])}

"""The engine's strategies as the control plane's strategy routes see them, for UI tests.

:class:`StrategyDesk` keeps two market makers with the real :class:`MarketMakerParams`, so a
parameter change is checked by the engine's own :func:`~engine.strategy.base.change_params` and a
refusal carries the engine's words, field and allowed range. Stop, start and reload are recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from engine.strategy.base import change_params
from engine.strategy.market_maker import MarketMakerParams
from engine.strategy.reload import ReloadError


class StrategyDesk:
    """Two strategies: ``mm-btc`` running with callback times, ``mm-slow`` failed after raising."""

    def __init__(self) -> None:
        self.params = {
            "mm-btc": MarketMakerParams(half_spread_ticks=5, size_lots=100, levels=2),
            "mm-slow": MarketMakerParams(instrument=0, fair="microprice"),
        }
        self.running = {"mm-btc": True, "mm-slow": False}
        self.errors = {"mm-btc": "", "mm-slow": "ZeroDivisionError: division by zero in on_book"}
        self.actions: list[tuple[str, str]] = []
        """(action, strategy) for every stop, start, reload and parameter change."""
        self.reload_error: ReloadError | None = None
        """Raised by the next reload when set."""

    def strategies_doc(self) -> list[dict[str, Any]]:
        """Both strategies, as ``GET /strategies`` lists them."""
        figures = {"mm-btc": (48_213, 11.4, 86.9, 0, 1_204, 3), "mm-slow": (17, 2.1, 4.0, 1, 0, 0)}
        out = []
        for name, params in self.params.items():
            callbacks, p50, p99, over, sent, refused = figures[name]
            out.append(
                {
                    "name": name,
                    "kind": "MarketMaker",
                    "running": self.running[name],
                    "error": "" if self.running[name] else self.errors[name],
                    "params": msgspec.to_builtins(params),
                    "callbacks": callbacks,
                    "p50_us": p50,
                    "p99_us": p99,
                    "over_budget": over,
                    "sent": sent,
                    "refused": refused,
                }
            )
        return out

    def set_strategy_params(
        self, name: str, changes: Mapping[str, Any], actor: str
    ) -> dict[str, Any]:
        """Check the changes as the engine does; an unknown name raises KeyError."""
        new = change_params(self.params[name], changes, name)
        self.params[name] = new
        self.actions.append(("params", name))
        doc: dict[str, Any] = msgspec.to_builtins(new)
        return doc

    def stop_strategy(self, name: str, actor: str) -> bool:
        """Stop it; False when it was not running."""
        was = self.running[name]
        self.running[name] = False
        self.errors[name] = ""
        self.actions.append(("stop", name))
        return was

    def start_strategy(self, name: str, actor: str) -> bool:
        """Start it; False when it was running."""
        was = self.running[name]
        self.running[name] = True
        self.actions.append(("start", name))
        return not was

    def reload_strategy(self, name: str, actor: str) -> dict[str, Any]:
        """Reload it (or raise :attr:`reload_error`)."""
        _ = self.params[name]  # KeyError for an unknown name, as the engine raises
        if self.reload_error is not None:
            raise self.reload_error
        self.actions.append(("reload", name))
        return {"name": name, "kind": "MarketMaker", "source": "strategies/mm.py", "flat": True}

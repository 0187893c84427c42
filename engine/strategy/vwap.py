"""``vwap``: works a parent order in step with the market's volume.

Idea: it keeps its fills at ``participation_pct`` percent of the public volume traded since it
started, so it trades more when the market does and its average price follows the market's
VWAP. A child goes once at least ``min_child_lots`` are due. The schedule ends ``duration_s``
after the start; for ``catch_up_s`` more it takes what is left; then it finishes and reports
(:class:`~engine.strategy.execution.ExecutionReport`, with the market's VWAP over the same time
in its status).

The volume counted is every public trade of the instrument; on a venue that prints our own
fills as public trades, those count too (so the real participation is a little lower).

What to watch: the shortfall when the market is quiet (raise ``catch_up_s`` or the
participation), the report's price against the market VWAP, and a high participation moving
the price against it.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from engine.core.events import Trade
from engine.strategy.execution import ExecutionAlgo, ExecutionParams
from engine.strategy.indicators import VWAP


class VwapParams(ExecutionParams, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The parent order and its share of the market's volume."""

    participation_pct: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10
    """Its fills as a percentage of the public volume since it started."""
    min_child_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000_000)] = 1
    """The smallest child sent before the schedule ends."""


class Vwap(ExecutionAlgo[VwapParams]):
    """Volume-participation execution; see the module docstring."""

    params_type = VwapParams

    def __init__(self, name: str, params: VwapParams) -> None:
        super().__init__(name, params)
        self.market_lots = 0
        """Public volume since it started."""
        self.market_vwap = VWAP()

    def due_lots(self) -> int:
        """``participation_pct`` percent of the volume since the start, rounded down."""
        return self.market_lots * self.params.participation_pct // 100

    def min_child_lots(self) -> int:
        """The configured smallest child."""
        return self.params.min_child_lots

    def on_trade(self, trade: Trade) -> None:
        """Count the volume, then look at the schedule."""
        if self.started_ns and self.report is None:
            self.market_lots += trade.size
            self.market_vwap.update(trade.price, trade.size)
        super().on_trade(trade)

    def status(self) -> dict[str, object]:
        """Progress, the market's volume and VWAP, and the report once finished."""
        doc = super().status()
        vwap = self.market_vwap.value
        doc["market_lots"] = self.market_lots
        doc["market_vwap_ticks"] = None if vwap is None else float(vwap)
        return doc

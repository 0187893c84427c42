"""``ma_cross``: a directional reference that follows the cross of two moving averages of bars.

Idea: trades make bars of ``bar_ms``; a fast and a slow simple moving average of the bars'
closes are compared at each bar close. The fast one crossing above the slow one sets the target
position long ``size_lots``; crossing below sets it short (``allow_short``) or flat. The position
is taken with marketable IOC limit orders ``slippage_ticks`` through the touch, at most
``size_lots`` at a time (:class:`~engine.strategy.orders.PositionTarget`).

What to watch: whipsaws (crosses back and forth in a range cost the spread twice each time; a
longer ``slow`` or ``bar_ms`` trades less), and refusals of its IOC orders by the price band.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from engine.core.events import Trade
from engine.strategy.base import Params, relation
from engine.strategy.indicators import SMA, Cross, TimeBars
from engine.strategy.target_trader import TargetTrader


class MaCrossParams(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The moving-average cross's parameters."""

    instrument: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Dense id of the instrument traded."""
    fast: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10
    """Bars in the fast average."""
    slow: Annotated[int, msgspec.Meta(ge=2, le=10_000)] = 30
    """Bars in the slow average (more than ``fast``)."""
    bar_ms: Annotated[int, msgspec.Meta(ge=1, le=86_400_000)] = 1000
    """Bar length."""
    size_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)] = 1
    """The position held after a cross."""
    allow_short: bool = False
    """Go short after a cross below (otherwise flat)."""
    slippage_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 5
    """How far through the touch its IOC orders may take."""

    def __post_init__(self) -> None:
        relation(self.fast < self.slow, "slow", f"must exceed fast ({self.fast})")


class MaCross(TargetTrader[MaCrossParams]):
    """Long after the fast average crosses above the slow one; see the module docstring."""

    params_type = MaCrossParams

    def __init__(self, name: str, params: MaCrossParams) -> None:
        super().__init__(name, params)
        self._build()
        self.crosses = 0
        """Crosses seen."""

    def _build(self) -> None:
        p = self.params
        self.bars = TimeBars(p.bar_ms * 1_000_000)
        self.fast = SMA(p.fast)
        self.slow = SMA(p.slow)
        self.cross = Cross()

    def on_params(self, old: MaCrossParams, new: MaCrossParams) -> None:
        """New windows or bar length start the averages again; the position stays."""
        if (old.fast, old.slow, old.bar_ms, old.instrument) != (
            new.fast,
            new.slow,
            new.bar_ms,
            new.instrument,
        ):
            self._build()
        self.follow_params(new)

    def on_trade(self, trade: Trade) -> None:
        """Close bars; at a cross, set the target and trade towards it."""
        bar = self.bars.update(trade.exch_ts, trade.price, trade.size)
        if bar is not None:
            fast, slow = self.fast.update(bar.close), self.slow.update(bar.close)
            crossed = self.cross.update(fast, slow)
            if crossed:
                self.crosses += 1
                p = self.params
                if crossed > 0:
                    self.target.target = p.size_lots
                else:
                    self.target.target = -p.size_lots if p.allow_short else 0
        self.target.step()

    def status(self) -> dict[str, object]:
        """Averages, crosses and the target."""
        return {
            "fast": None if self.fast.value is None else float(self.fast.value),
            "slow": None if self.slow.value is None else float(self.slow.value),
            "crosses": self.crosses,
            "target_lots": self.target_lots(),
        }

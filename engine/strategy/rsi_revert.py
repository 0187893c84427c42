"""``rsi_revert``: a mean-reversion reference that fades RSI extremes of bars.

Idea: trades make bars of ``bar_ms``; Wilder's RSI over ``period`` bar closes is read at each bar
close. Below ``oversold`` the target position is long ``size_lots``; above ``overbought`` it is
short (``allow_short``) or flat; once RSI comes back across ``exit_level`` towards the middle the
position is closed. Orders are marketable IOC limits through
:class:`~engine.strategy.orders.PositionTarget`.

What to watch: trends (RSI can stay extreme for a long time while the position loses; the loss
limits of the risk pipeline are the stop), and how often it trades with a short ``bar_ms``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from engine.core.events import Trade
from engine.strategy.base import Params, relation
from engine.strategy.indicators import RSI, TimeBars
from engine.strategy.target_trader import TargetTrader


class RsiRevertParams(Params, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The RSI fade's parameters."""

    instrument: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Dense id of the instrument traded."""
    period: Annotated[int, msgspec.Meta(ge=2, le=1000)] = 14
    """Bars in the RSI."""
    bar_ms: Annotated[int, msgspec.Meta(ge=1, le=86_400_000)] = 1000
    """Bar length."""
    oversold: Annotated[int, msgspec.Meta(ge=1, le=49)] = 30
    """RSI below this buys."""
    overbought: Annotated[int, msgspec.Meta(ge=51, le=99)] = 70
    """RSI above this sells."""
    exit_level: Annotated[int, msgspec.Meta(ge=1, le=99)] = 50
    """RSI crossing this towards the middle closes the position (between the two bounds)."""
    size_lots: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)] = 1
    """The position held at an extreme."""
    allow_short: bool = True
    """Sell short when overbought (otherwise only buy and close)."""
    slippage_ticks: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 5
    """How far through the touch its IOC orders may take."""

    def __post_init__(self) -> None:
        relation(
            self.oversold <= self.exit_level <= self.overbought,
            "exit_level",
            f"must lie between oversold ({self.oversold}) and overbought ({self.overbought})",
        )


class RsiRevert(TargetTrader[RsiRevertParams]):
    """Buys oversold, sells overbought, closes back at the middle; see the module docstring."""

    params_type = RsiRevertParams

    def __init__(self, name: str, params: RsiRevertParams) -> None:
        super().__init__(name, params)
        self.bars = TimeBars(params.bar_ms * 1_000_000)
        self.rsi = RSI(params.period)
        self.signals = 0
        """Times the target changed."""

    def on_params(self, old: RsiRevertParams, new: RsiRevertParams) -> None:
        """A new period or bar length starts the RSI again; the levels apply at the next bar."""
        if (old.period, old.bar_ms, old.instrument) != (new.period, new.bar_ms, new.instrument):
            self.bars = TimeBars(new.bar_ms * 1_000_000)
            self.rsi = RSI(new.period)
        self.follow_params(new)

    def decide(self, rsi: float, held: int) -> int:
        """The target position for an RSI reading with ``held`` lots now."""
        p = self.params
        if rsi < p.oversold:
            return p.size_lots
        if rsi > p.overbought:
            return -p.size_lots if p.allow_short else 0
        if (held > 0 and rsi >= p.exit_level) or (held < 0 and rsi <= p.exit_level):
            return 0
        return held

    def on_trade(self, trade: Trade) -> None:
        """Close bars; read the RSI at each and trade towards the target."""
        bar = self.bars.update(trade.exch_ts, trade.price, trade.size)
        if bar is not None and (rsi := self.rsi.update(bar.close)) is not None:
            target = self.target
            wanted = self.decide(rsi, target.target)
            if wanted != target.target:
                self.signals += 1
                target.target = wanted
        self.target.step()

    def status(self) -> dict[str, object]:
        """RSI, signals and the target."""
        return {
            "rsi": self.rsi.value,
            "signals": self.signals,
            "target_lots": self.target_lots(),
        }

"""A strategy on one instrument that trades towards a target position with IOC orders.

:class:`TargetTrader` is the part the target-taking references share (``ma_cross``,
``rsi_revert``, ``imbalance`` in "take"): the :class:`~engine.strategy.orders.PositionTarget`
made on first use once the context is bound, kept on new parameters, worked at every book
change and fill and told how each of its IOC orders ended. Each strategy says only when the
target changes.
"""

from __future__ import annotations

from typing import Protocol, TypeVar, cast

from engine.core.events import Fill, OrderUpdate
from engine.strategy.base import Params, Strategy
from engine.strategy.context import BookReader
from engine.strategy.orders import PositionTarget


class TargetTerms(Protocol):
    """The parameters a target trader's Params carry."""

    @property
    def instrument(self) -> int:
        """Dense id of the instrument traded."""
        ...

    @property
    def size_lots(self) -> int:
        """The largest order sent."""
        ...

    @property
    def slippage_ticks(self) -> int:
        """How far through the touch its IOC orders may take."""
        ...


TP = TypeVar("TP", bound=Params)
"""A Params class with the fields of :class:`TargetTerms`."""


class TargetTrader(Strategy[TP]):
    """Trades one instrument towards :attr:`target`; see the module docstring.

    Args:
        name: unique among the strategies running.
        params: its parameters, with ``instrument``, ``size_lots`` and ``slippage_ticks``.
    """

    def __init__(self, name: str, params: TP) -> None:
        super().__init__(name, params)
        self.instruments = (self._terms(self.params).instrument,)
        self._target: PositionTarget | None = None

    @staticmethod
    def _terms(params: TP) -> TargetTerms:
        return cast("TargetTerms", params)

    @property
    def target(self) -> PositionTarget:
        """Its position target (made on first use, once the context is bound)."""
        if self._target is None:
            p = self._terms(self.params)
            self._target = PositionTarget(self.ctx, p.instrument, p.size_lots, p.slippage_ticks)
        return self._target

    def target_lots(self) -> int:
        """The target position, 0 before there is one: for :meth:`status`."""
        return self.target.target if self._target else 0

    def follow_params(self, new: TP) -> None:
        """Trade ``new``'s instrument with its order size and slippage; the target stays."""
        p = self._terms(new)
        self.instruments = (p.instrument,)
        if self._target is not None:
            self._target.follow(p.instrument, p.size_lots, p.slippage_ticks)

    def on_params(self, old: TP, new: TP) -> None:
        """The target follows the new parameters."""
        self.follow_params(new)

    def on_book(self, instrument: int, book: BookReader) -> None:
        """Keep working towards the target."""
        self.target.step()

    def on_fill(self, fill: Fill) -> None:
        """A part filled: send the rest."""
        self.target.step()

    def on_order(self, update: OrderUpdate) -> None:
        """An IOC ended: send the rest; a refusal pauses it for a second."""
        self.target.on_order(update)

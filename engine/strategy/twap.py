"""``twap``: works a parent order in equal slices of time.

Idea: ``duration_s`` is cut into ``slices`` equal intervals; by the start of interval ``k``
(counting from 0) ``total_lots * (k + 1) / slices`` lots should be done, so the first slice goes
at once and the last one interval before the end. What a slice could not take (its IOC child
found too little at acceptable prices) is added to the next. After the schedule, for
``catch_up_s`` it takes what is left; then it finishes and reports
(:class:`~engine.strategy.execution.ExecutionReport`).

What to watch: the report's slippage against the arrival mid, the shortfall when ``limit_ticks``
is tight, and slices small enough not to walk the book (``max_child_lots``).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from engine.strategy.execution import SECOND_NS, ExecutionAlgo, ExecutionParams


class TwapParams(ExecutionParams, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The parent order and its time slices."""

    slices: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 10
    """Equal time slices over ``duration_s``."""


class Twap(ExecutionAlgo[TwapParams]):
    """Time-weighted execution; see the module docstring."""

    params_type = TwapParams

    def due_lots(self) -> int:
        """``total * (k + 1) / slices`` lots by interval ``k``, rounded down."""
        p = self.params
        k = self.elapsed_ns() * p.slices // (p.duration_s * SECOND_NS)
        return p.total_lots * min(p.slices, k + 1) // p.slices

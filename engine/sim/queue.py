"""Queue-position models: how far our resting order moves up when its price level shrinks.

The matching core knows the public book only as level sizes, so where our order stands in a
level's queue is an estimate: ``ahead``, the public lots in front of us. An order joins behind the
size visible at its price on its side when it arrives. Then:

* **Trades** at our price (aggressor opposite to our side) eat the queue from the front, for every
  model alike: ``ahead -= traded``; the part of a trade beyond ``ahead`` fills us
  (``min(leaves, traded - ahead)``). The matching core does this itself.
* **Size increases** join behind us: ``ahead`` does not change.
* **Size decreases** are where the models differ. A level report going from ``prev`` to ``new``
  lots with ``traded`` lots printed (or taken by us) at that level since the previous report has
  an unexplained decrease ``chg = prev - new - traded``: cancels, somewhere in the queue. The model
  decides how much of it was ahead of us, and the result is always capped at the level's new size.

:class:`ConservativeQueue` (risk-averse) puts every cancel behind us::

    ahead' = min(ahead, new)

:class:`PowerProbQueue` follows hftbacktest's ``power_prob_queue_model``: with ``front = ahead``,
``back = prev - ahead`` (the lots behind us) and ``f(x) = x**n``, a cancelled lot was behind us
with probability ``p = f(back) / (f(back) + f(front))``, so the expected share of ``chg`` taken
from ahead of us is ``1 - p = f(front) / (f(front) + f(back))``; what the back cannot hold comes
from the front too::

    from_front = floor(chg * f(front) / (f(front) + f(back)))
    from_front += max(0, (chg - from_front) - back)
    ahead'     = min(max(0, front - from_front), new)

A larger ``n`` means cancels come more from the far end of the queue (for a front-runner,
behind). Lots are integers, and the estimate rounds conservatively: ``floor`` keeps us further
back. With an integral ``n`` the arithmetic is exact integers; otherwise ``f`` is evaluated in
floating point, which is deterministic for the same inputs.
"""

from __future__ import annotations

from typing import Protocol

from engine.sim import SimError


class QueueModelError(SimError):
    """A queue model was configured with an impossible parameter."""


class QueueModel(Protocol):
    """Where our order stands after its level shrinks (trades and increases are the core's)."""

    def decreased(self, ahead: int, prev_size: int, new_size: int, traded: int) -> int:
        """Public lots ahead of our order after a level report showed a decrease.

        Args:
            ahead: public lots ahead of our order before the report.
            prev_size: the level's public size at the previous report, lots.
            new_size: the level's public size now, lots (smaller than ``prev_size``).
            traded: lots printed (or taken by our own orders) at this level since the previous
                report; the core has already advanced ``ahead`` by them.

        Returns:
            The new ``ahead``, between 0 and ``new_size``.
        """
        ...


class ConservativeQueue:
    """Risk-averse: every cancel comes from behind us, so only trades move us up."""

    __slots__ = ()

    def decreased(self, ahead: int, prev_size: int, new_size: int, traded: int) -> int:
        """``min(ahead, new_size)``: the level cannot have more lots ahead of us than it has."""
        return ahead if ahead <= new_size else new_size

    def __repr__(self) -> str:
        return "ConservativeQueue()"


class PowerProbQueue:
    """Cancels split between front and back by ``f(x) = x**n`` of each side's size.

    Args:
        n: the power; 1 splits cancels in proportion to the lots ahead and behind, larger values
            push them towards the longer side. Must be positive.

    Raises:
        QueueModelError: ``n`` is not positive.
    """

    __slots__ = ("_exact", "n")

    def __init__(self, n: float = 2) -> None:
        if not n > 0:
            raise QueueModelError(f"PowerProbQueue power n={n!r} must be positive")
        self.n = n
        self._exact = float(n).is_integer()

    def _front_share(self, chg: int, front: int, back: int) -> int:
        """``floor(chg * f(front) / (f(front) + f(back)))``."""
        if self._exact:
            power = int(self.n)
            f_front: int = front**power
            f_back: int = back**power
            return chg * f_front // (f_front + f_back)
        g_front, g_back = float(front) ** self.n, float(back) ** self.n
        share = int(chg * (g_front / (g_front + g_back)))
        return min(chg, max(0, share))

    def decreased(self, ahead: int, prev_size: int, new_size: int, traded: int) -> int:
        """The expected ``ahead`` after the unexplained part of the decrease, rounded down."""
        chg = prev_size - new_size - traded
        front = ahead
        if chg <= 0 or front <= 0:
            return front if front <= new_size else new_size
        back = max(0, prev_size - front)
        from_front = chg if back == 0 else self._front_share(chg, front, back)
        overflow = (chg - from_front) - back
        if overflow > 0:
            from_front += overflow
        estimate = max(0, front - from_front)
        return estimate if estimate <= new_size else new_size

    def __repr__(self) -> str:
        return f"PowerProbQueue(n={self.n})"

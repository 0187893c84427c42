"""How soon a thrown-away book may be resubscribed: at once the first time, slower if it repeats.

A book that fails its checks again and again (a venue sending bad checksums, a product whose
book keeps crossing) would otherwise be unsubscribed and subscribed at the frame rate, which
spends the venue's message allowance (Coinbase: 8 a second) and can get the connection dropped.
:class:`ResubscribePacer` keeps one jittered :class:`~engine.venues.backoff.Backoff` per sync
unit: 25 to 50 ms before the first resubscription, doubling to ``cap_s``, and back to the start
once the book stayed live for ``reset_after_s`` (python-kraken-sdk waits a flat 3 s).
"""

from __future__ import annotations

import random

from engine.venues.backoff import Backoff


class ResubscribePacer:
    """Delays before resubscribing each sync unit.

    Args:
        base_s: the first delay's upper bound.
        cap_s: the longest delay.
        reset_after_s: a unit live this long starts again from ``base_s``.
        rng: jitter source (seeded in tests).
    """

    def __init__(
        self,
        base_s: float = 0.05,
        cap_s: float = 5.0,
        reset_after_s: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self.reset_after_s = reset_after_s
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._backoffs: dict[str, Backoff] = {}
        self._live_since: dict[str, float] = {}

    def went_live(self, key: str, now_s: float) -> None:
        """The unit ``key`` is live again from ``now_s`` (monotonic seconds)."""
        self._live_since[key] = now_s

    def delay(self, key: str, now_s: float) -> float:
        """Seconds to wait before resubscribing ``key``, which just failed at ``now_s``."""
        backoff = self._backoffs.get(key)
        if backoff is None:
            backoff = self._backoffs[key] = Backoff(
                self.base_s, self.cap_s, self._rng, reset_after_s=self.reset_after_s
            )
        since = self._live_since.pop(key, None)
        return backoff.next_delay(now_s - since if since is not None else 0.0)

    def attempts(self, key: str) -> int:
        """Resubscriptions of ``key`` since it was last live for long."""
        backoff = self._backoffs.get(key)
        return backoff.attempt if backoff is not None else 0

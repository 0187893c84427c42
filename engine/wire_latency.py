"""Wire-to-book latency: from a frame's receive time to its book being updated, live.

The hot path only stores a sample into a preallocated ring (:meth:`WireToBook.record`: one list
store and one add, no allocation, no lock: the ring is only read on the same event loop). The
engine's periodic task calls :meth:`WireToBook.drain`, which folds the samples taken since the
last drain into cumulative histogram buckets (Prometheus ``/metrics``) and refreshes p50/p99 over
the most recent :data:`RING` samples (``/status``, the status bar, the health screen).

When more than :data:`RING` samples arrive between two drains, the oldest are overwritten and
counted in :attr:`WireToBook.overwritten`: the histogram is then a sample of the updates, the
percentiles still those of the latest ones.
"""

from __future__ import annotations

import bisect

import numpy as np

RING = 8192
"""Samples kept (a power of two)."""
_MASK = RING - 1

BUCKETS_NS: tuple[int, ...] = (
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    50_000_000,
    250_000_000,
    1_000_000_000,
)
"""Upper bounds of the histogram's buckets, ns (1 µs to 1 s; +Inf beyond)."""


class WireToBook:
    """One venue's wire-to-book samples and the figures drawn from them."""

    __slots__ = (
        "_read",
        "_window",
        "bucket_counts",
        "count",
        "overwritten",
        "p50_ns",
        "p99_ns",
        "samples",
        "sum_ns",
        "venue",
    )

    def __init__(self, venue: str) -> None:
        self.venue = venue
        self.samples: list[int] = [0] * RING
        """The ring; written at ``count & (RING - 1)``."""
        self.count = 0
        """Samples recorded since start."""
        self._read = 0
        self._window = 0
        self.bucket_counts: list[int] = [0] * (len(BUCKETS_NS) + 1)
        """Per-bucket (not cumulative) counts of drained samples; the last is +Inf."""
        self.sum_ns = 0
        self.overwritten = 0
        """Samples overwritten before a drain read them."""
        self.p50_ns = 0
        self.p99_ns = 0

    def record(self, latency_ns: int) -> None:
        """One update's latency (the hot path)."""
        self.samples[self.count & _MASK] = latency_ns
        self.count += 1

    def drain(self) -> int:
        """Fold the samples since the last drain into the histogram and percentiles.

        Returns:
            How many samples were folded in.
        """
        count = self.count
        new = count - self._read
        if new <= 0:
            return 0
        if new > RING:
            self.overwritten += new - RING
            new = RING
        start = (count - new) & _MASK
        end = start + new
        if end <= RING:
            fresh = self.samples[start:end]
        else:
            fresh = self.samples[start:] + self.samples[: end - RING]
        self._read = count
        values = np.asarray(fresh, dtype=np.int64)
        np.maximum(values, 0, out=values)  # a clock step backwards is not a negative latency
        positions = np.searchsorted(np.asarray(BUCKETS_NS, dtype=np.int64), values, side="left")
        for index, n in enumerate(np.bincount(positions, minlength=len(self.bucket_counts))):
            self.bucket_counts[index] += int(n)
        self.sum_ns += int(values.sum())
        self._window = min(count, RING)
        window = np.asarray(
            self.samples if self._window == RING else self.samples[: self._window],
            dtype=np.int64,
        )
        p50, p99 = np.percentile(np.maximum(window, 0), (50, 99), method="nearest")
        self.p50_ns, self.p99_ns = int(p50), int(p99)
        return new

    @property
    def drained(self) -> int:
        """Samples in the histogram."""
        return sum(self.bucket_counts)

    def cumulative(self) -> list[tuple[str, int]]:
        """Prometheus buckets: ``(le in seconds, cumulative count)``, ``+Inf`` last."""
        out: list[tuple[str, int]] = []
        total = 0
        for bound, n in zip(BUCKETS_NS, self.bucket_counts, strict=False):
            total += n
            out.append((repr(bound / 1e9), total))
        out.append(("+Inf", total + self.bucket_counts[-1]))
        return out

    def status(self) -> dict[str, float | int]:
        """The ``/status`` figures: p50 and p99 in µs over the latest samples, and counts."""
        return {
            "p50_us": round(self.p50_ns / 1000, 1),
            "p99_us": round(self.p99_ns / 1000, 1),
            "samples": self.count,
            "window": self._window,
            "overwritten": self.overwritten,
        }


def bucket_of(latency_ns: int) -> int:
    """The index of the bucket ``latency_ns`` falls in (``len(BUCKETS_NS)`` for +Inf)."""
    return bisect.bisect_left(BUCKETS_NS, latency_ns)

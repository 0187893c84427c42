"""A side of the matching core's mirror on a tick-indexed ladder (the compiled backend).

:class:`LadderSide` has :class:`~engine.sim.mirror.BookSide`'s API and behaviour, level for
level; only the storage differs. Sizes near the best sit in a window of :data:`WINDOW` ticks,
one ``int64`` array the kernels of :mod:`engine.sim.mirror_kernels` update a whole delta side at
a time; levels below the window (far from the touch) are a dict. Keys are the price for bids and
minus the price for asks, so the best level is the highest key; no level is ever above the
window. The window moves (:meth:`LadderSide._recentre`) so the best sits at three quarters of it
when a level arrives above it, when it runs empty with far levels left, or when the best has
sunk into its bottom sixteenth. The ``taken`` and ``traded`` counters stay dicts, as in
:class:`~engine.sim.mirror.BookSide`.

Importing this module imports numba; :class:`~engine.sim.mirror.BookMirror` uses it only once
the compiled kernels are in use (:func:`engine.book.order_book.compiled`).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from engine import jit
from engine.core.events import Int64Array, Side
from engine.sim import mirror_kernels as k
from engine.sim.mirror import MarketDataError, checked_levels

WINDOW = 1 << 17
"""Ticks per side held in the array; the rest of the book is a dict."""
_BOTTOM = -(1 << 63)
_loaded = False


def load() -> None:
    """Compile, or load from numba's cache, the mirror's kernels (once per process).

    Raises:
        engine.jit.KernelLoadError: the kernels could not be compiled or loaded.
    """
    global _loaded
    if not _loaded:
        jit.load_kernels(k.__name__)
        _loaded = True


def _as_array(values: Int64Array | list[int]) -> Int64Array:
    """Contiguous int64, as the kernel's one signature takes it.

    A read-only array (read from Parquet, say) is copied: numba types it apart from a writable one.
    """
    array = np.ascontiguousarray(values, dtype=np.int64)
    return array if array.flags.writeable else array.copy()


class LadderSide:
    """One side of the mirror: ``BUY`` bids (best is highest) or ``SELL`` asks (best is lowest)."""

    __slots__ = (
        "_base",
        "_best",
        "_cells",
        "_far",
        "_ladder",
        "_sign",
        "_spill",
        "is_bid",
        "taken",
        "traded",
    )

    def __init__(self, side: Side) -> None:
        self.is_bid = side is Side.BUY
        self._sign = 1 if self.is_bid else -1
        self._ladder = np.zeros(WINDOW, dtype=np.int64)
        self._cells = self._ladder.data  # single slots read as Python ints
        self._base = 0
        """The key of slot 0."""
        self._best = -1
        """The best occupied slot, or -1 (then :attr:`_far` is empty too)."""
        self._far: dict[int, int] = {}
        """Price ticks -> size lots of the levels below the window."""
        self._spill = np.zeros(64, dtype=np.int64)
        self.taken: dict[int, int] = {}
        """Lots our aggressive orders took at a price since its last report."""
        self.traded: dict[int, int] = {}
        """Lots traded at a price since its last report."""

    # ---------------------------------------------------------------- updates

    def set(self, price: int, size: int) -> tuple[int, int]:
        """Record a level report: the new absolute ``size`` (0 deletes).

        Returns:
            ``(previous size, lots traded there since the previous report)``.
        """
        prev = self.size(price)
        traded = self.traded.pop(price, 0) if self.traded else 0
        if self.taken:
            self.taken.pop(price, None)
        key = price * self._sign
        if size and (self._best < 0 or key - self._base >= WINDOW):
            self._recentre(key)
        slot = key - self._base
        if slot < 0:
            if size:
                self._far[price] = size
            else:
                self._far.pop(price, None)
        elif slot < WINDOW:
            self._cells[slot] = size
            if size:
                if slot > self._best:
                    self._best = slot
            elif slot == self._best:
                self._best = k.next_level(self._ladder, slot - 1)
            self._settle()
        return prev, traded

    def update(
        self,
        prices: list[int],
        sizes: list[int],
        px: Int64Array | None = None,
        sz: Int64Array | None = None,
    ) -> None:
        """Record many level reports at once, as :meth:`set` for each in turn would.

        For levels none of our orders care about (the caller keeps the others apart): nothing is
        returned, and the ``traded`` and ``taken`` counters of the prices reported are dropped.
        ``px`` and ``sz`` are the same levels as int64 arrays, when the caller has them.
        """
        traded, taken = self.traded, self.taken
        if traded:
            for price in traded.keys() & prices:
                del traded[price]
        if taken:
            for price in taken.keys() & prices:
                del taken[price]
        self._apply(
            prices,
            sizes,
            _as_array(prices) if px is None else px,
            _as_array(sizes) if sz is None else sz,
        )

    def _apply(self, prices: list[int], sizes: list[int], px: Int64Array, sz: Int64Array) -> None:
        n = len(prices)
        if n + 1 > len(self._spill):
            self._spill = np.zeros(2 * n + 1, dtype=np.int64)
        spill, sign = self._spill, self._sign
        if self._best < 0:
            tops = [price * sign for price, size in zip(prices, sizes, strict=True) if size]
            if not tops:
                return
            self._recentre(max(tops))
        try:
            best = k.apply_levels(self._ladder, px, sz, self._base, sign, self._best, spill)
        except (TypeError, ValueError):  # numba refused the array types
            px, sz = _as_array(px), _as_array(sz)
            best = k.apply_levels(self._ladder, px, sz, self._base, sign, self._best, spill)
        if best == k.NO_ROOM:
            self._recentre(
                max(price * sign for price, size in zip(prices, sizes, strict=True) if size)
            )
            best = k.apply_levels(self._ladder, px, sz, self._base, sign, self._best, spill)
        if best == k.REFUSED:
            side = Side.BUY if self.is_bid else Side.SELL
            checked_levels("mirror", side, px, sz)
            raise MarketDataError(f"mirror: {side.name} levels refused")
        self._best = best
        if spill[0]:
            far = self._far
            for i in spill[1 : spill[0] + 1].tolist():
                price, size = prices[i], sizes[i]
                if size:
                    far[price] = size
                else:
                    far.pop(price, None)
        self._settle()

    def reset(self, prices: list[int], sizes: list[int]) -> None:
        """Replace every level by a full image (a snapshot); a later duplicate price wins."""
        self.clear()
        if prices:
            self._apply(prices, sizes, _as_array(prices), _as_array(sizes))

    def clear(self) -> None:
        """Forget every level (before a snapshot)."""
        if self._best >= 0:
            self._ladder[:] = 0
        self._best = -1
        self._far.clear()
        self.taken.clear()
        self.traded.clear()

    def _settle(self) -> None:
        """Move the window when it ran empty with far levels left, or the best sank to its foot."""
        best = self._best
        if best < 0:
            if self._far:
                sign = self._sign
                self._recentre(max(price * sign for price in self._far))
        elif best < WINDOW >> 4 and self._far:
            self._recentre(self._base + best)

    def _recentre(self, top: int) -> None:
        """Put the window's slot ``3W/4`` at key ``top``; levels move between window and dict."""
        sign, ladder, far = self._sign, self._ladder, self._far
        base = top - (3 * WINDOW >> 2)
        keys: list[int] = []
        values: list[int] = []
        if self._best >= 0:
            slots = np.flatnonzero(ladder)
            keys = (slots + self._base).tolist()
            values = ladder[slots].tolist()
            ladder[slots] = 0
        for price, size in far.items():
            keys.append(price * sign)
            values.append(size)
        far.clear()
        cells, best = self._cells, -1
        for key, size in zip(keys, values, strict=True):
            slot = key - base
            if slot < 0:
                far[key * sign] = size
            else:
                cells[slot] = size
                if slot > best:
                    best = slot
        self._base, self._best = base, best

    # ---------------------------------------------------------------- reads

    def levels(self) -> list[tuple[int, int]]:
        """Every level ``(price, size)``, best first."""
        sign, base = self._sign, self._base
        out: list[tuple[int, int]] = []
        if self._best >= 0:
            slots = np.flatnonzero(self._ladder[: self._best + 1])[::-1]
            sizes = self._ladder[slots].tolist()
            out = [
                ((slot + base) * sign, size)
                for slot, size in zip(slots.tolist(), sizes, strict=True)
            ]
        far = self._far
        out.extend(
            (price, far[price]) for price in sorted(far, key=lambda p: p * sign, reverse=True)
        )
        return out

    def size(self, price: int) -> int:
        """The public size reported at ``price`` (0 when there is no level)."""
        slot = price * self._sign - self._base
        if slot < 0:
            return self._far.get(price, 0)
        return self._cells[slot] if slot < WINDOW else 0

    def available(self, price: int) -> int:
        """Lots at ``price`` that our orders may still take."""
        size = self.size(price)
        if size and self.taken:
            return size - self.taken.get(price, 0)
        return size

    def take(self, price: int, lots: int) -> None:
        """Our aggressive order took ``lots`` at ``price``."""
        self.taken[price] = self.taken.get(price, 0) + lots
        self.traded[price] = self.traded.get(price, 0) + lots

    def add_traded(self, price: int, lots: int) -> None:
        """A public trade printed ``lots`` at ``price`` on this side's resting orders."""
        self.traded[price] = self.traded.get(price, 0) + lots

    def best(self) -> int | None:
        """The best reported price, taken or not, or None for an empty side."""
        best = self._best
        return None if best < 0 else (self._base + best) * self._sign

    def best_available(self) -> int | None:
        """The best price with lots still available to take, or None."""
        if not self.taken:
            return self.best()
        for price in self.walk():
            return price
        return None

    def walk(self, limit: int | None = None) -> Iterator[int]:
        """Prices with available lots, best first, up to and including ``limit`` when given."""
        sign, taken, base, cells = self._sign, self.taken, self._base, self._cells
        bound = _BOTTOM if limit is None else limit * sign
        slot = self._best
        while slot >= 0:
            key = base + slot
            if key < bound:
                return
            price = key * sign
            if cells[slot] > taken.get(price, 0):
                yield price
            slot = k.next_level(self._ladder, slot - 1)
        far = self._far
        if far and bound < base:
            keys = sorted((p * sign for p in far if p * sign >= bound), reverse=True)
            for key in keys:
                price = key * sign
                if far[price] > taken.get(price, 0):
                    yield price

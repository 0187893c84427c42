"""Compiled kernels behind :class:`~engine.sim.mirror_ladder.LadderSide`, the mirror's ladder.

A side's window is one ``int64`` array of public sizes indexed by ``key - base``, where a key is
the price for bids and minus the price for asks (the best level is always the highest key).
Levels below the window are kept by the caller in a dict; there are never levels above it.

:func:`apply_levels` applies one side of a delta in order (0 deletes) and returns the new best
slot; :func:`next_level` finds the next occupied slot at or below a given one. Each kernel has
exactly one signature, :data:`SIGNATURES`, which :func:`engine.jit.load_kernels` compiles or
loads from numba's cache; importing this module compiles nothing.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt
from numba import types

Array = npt.NDArray[np.int64]

REFUSED = -2
"""Status of :func:`apply_levels`: a price <= 0 or a negative size; nothing changed."""
NO_ROOM = -3
"""Status of :func:`apply_levels`: a level above the window; nothing changed (move it, retry)."""


@numba.njit(cache=True, nogil=True)
def apply_levels(
    ladder: Array, prices: Array, sizes: Array, base: int, sign: int, best: int, spill: Array
) -> int:  # pragma: no cover - compiled
    """Set absolute sizes in order, returning the best occupied slot (-1: none) or a status.

    Levels below the window are not applied: their indexes into ``prices`` go to ``spill[1:]``
    in order, and their count to ``spill[0]`` (``spill`` has room for every level, plus one).
    """
    width = ladder.shape[0]
    n = prices.shape[0]
    for i in range(n):
        if prices[i] <= 0 or sizes[i] < 0:
            return REFUSED
        if sizes[i] and prices[i] * sign - base >= width:
            return NO_ROOM
    spilled = 0
    for i in range(n):
        slot = prices[i] * sign - base
        size = sizes[i]
        if slot < 0:
            spilled += 1
            spill[spilled] = i
        elif slot < width:
            ladder[slot] = size
            if size and slot > best:
                best = slot
    while best >= 0 and ladder[best] == 0:
        best -= 1
    spill[0] = spilled
    return best


@numba.njit(cache=True, nogil=True)
def next_level(ladder: Array, start: int) -> int:  # pragma: no cover - compiled
    """The highest occupied slot at or below ``start``, or -1."""
    slot = start
    while slot >= 0 and ladder[slot] == 0:
        slot -= 1
    return slot


_ARRAY = types.Array(types.int64, 1, "C")
SIGNATURES: dict[str, tuple[types.Type, ...]] = {
    "apply_levels": (
        _ARRAY,
        _ARRAY,
        _ARRAY,
        types.int64,
        types.int64,
        types.int64,
        _ARRAY,
    ),
    "next_level": (_ARRAY, types.int64),
}
"""The one argument-type signature each kernel is compiled for; nothing else is accepted."""

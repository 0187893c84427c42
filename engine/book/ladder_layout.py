"""The layout of a ladder book's flat ``int64`` state buffer, and how to allocate one.

Numbers only (no compiler), so both book backends and the compiled kernels in
:mod:`engine.book.ladder_kernels` share them without importing numba. All of a ladder book's state
lives in one buffer, so a kernel call unboxes one array for the whole book:

```
[ header (24 slots) | bid ladder (W) | ask ladder (W) | bid overflow keys (cap) | bid overflow
  sizes (cap) | ask overflow keys (cap) | ask overflow sizes (cap) ]
```

Both sides are stored by *key*: ``-price`` for bids, ``price`` for asks, so on either side a
smaller key is a better level. A side's ladder holds the sizes of the keys ``base .. base + W - 1``
(slot ``key - base``); levels outside that window live in the side's overflow store, an
open-addressing hash table. The header's best price, best size, count and overflow slots are
also what the pure-Python backend publishes, in a list of the same shape, so the book's cheap
reads are one piece of code for both.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Buffer = npt.NDArray[np.int64]
"""A book's flat state buffer, laid out as the module docstring draws it."""

WINDOW = 0
"""Header slot: ladder length ``W`` in ticks, the same for both sides."""
CAPACITY = 1
"""Header slot: overflow table slots per side, a power of two."""
HEADER = 24
"""Header length; the bid ladder starts here."""

BID = 0
ASK = 1
SIDE_BLOCK = 8
"""Header offset of side 0's block; side ``s`` starts at ``SIDE_BLOCK * (s + 1)``."""
BASE = 0
"""Side block slot: the key held by ladder slot 0."""
BEST = 1
"""Side block slot: ladder slot of the best level, -1 when the side is empty."""
COUNT = 2
"""Side block slot: occupied ladder slots."""
OVERFLOW = 3
"""Side block slot: levels in the overflow table."""
BEST_PRICE = 4
"""Side block slot: best price in ticks, 0 when the side is empty."""
BEST_SIZE = 5
"""Side block slot: size at the best price in lots, 0 when the side is empty."""
USED = 6
"""Side block slot: overflow table slots not empty (levels plus deleted markers)."""
BETTER = 7
"""Side block slot: 1 when a level better than the window went to the overflow table."""

BID_BEST_PRICE = SIDE_BLOCK * (BID + 1) + BEST_PRICE
BID_BEST_SIZE = SIDE_BLOCK * (BID + 1) + BEST_SIZE
ASK_BEST_PRICE = SIDE_BLOCK * (ASK + 1) + BEST_PRICE
ASK_BEST_SIZE = SIDE_BLOCK * (ASK + 1) + BEST_SIZE
BID_COUNT = SIDE_BLOCK * (BID + 1) + COUNT
BID_OVERFLOW = SIDE_BLOCK * (BID + 1) + OVERFLOW
ASK_COUNT = SIDE_BLOCK * (ASK + 1) + COUNT
ASK_OVERFLOW = SIDE_BLOCK * (ASK + 1) + OVERFLOW

MAX_PRICE = 1 << 62
"""Largest accepted price in ticks: keeps every key and slot computation inside int64."""
EMPTY = -(1 << 63)
"""Overflow key of a slot never used (no price maps to it)."""
DELETED = EMPTY + 1
"""Overflow key of a slot whose level was deleted (probing continues past it)."""

OK = 0
"""Status: the message is applied and the book settled."""
BAD_LEVEL = 1
"""Status: the message was refused; nothing changed."""
NEED_SPACE = 2
"""Status: the message might overflow a table; nothing changed. Rebuild larger, call again."""
UNSETTLED = 3
"""Status: the message is applied but moving the window needs a larger table: rebuild, settle."""


def allocate(window: int, capacity: int) -> Buffer:
    """A fresh, empty buffer: ``window`` ticks per side, overflow tables of ``capacity`` slots."""
    assert capacity > 0, "capacity must be positive"
    assert capacity & (capacity - 1) == 0, "capacity must be a power of two"
    buf = np.zeros(HEADER + 2 * window + 4 * capacity, dtype=np.int64)
    buf[WINDOW] = window
    buf[CAPACITY] = capacity
    for side in (BID, ASK):
        buf[SIDE_BLOCK * (side + 1) + BEST] = -1
        start = HEADER + 2 * window + 2 * side * capacity
        buf[start : start + capacity] = EMPTY
    return buf

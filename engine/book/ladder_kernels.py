"""Compiled kernels behind the ladder backend of :class:`~engine.book.order_book.OrderBook`.

The book's state is one flat ``int64`` buffer laid out as :mod:`engine.book.ladder_layout`
draws it: a tick-indexed ladder per side (a window of ``W`` keys) plus an open-addressing hash
table per side (linear probing, at most half full counting deleted slots) for the levels outside
the window, so far levels cost O(1) to set or delete however many there are; they are put in
order only when a read reaches past the window. After every message each side is *settled*: when
the best level is not in the window, or the touch has drifted out of the band ``[W/16, W/2]``,
the window is moved so that the touch sits at slot ``W/4`` (``W/4`` ticks of room to improve,
``3W/4`` of depth), and levels move between window and overflow.

Invariants after every kernel call, per side: window and overflow never hold the same key; every
overflow key is at or beyond ``base + W`` (worse than the whole window); ``best`` is the smallest
occupied slot, or -1 exactly when the side is empty; the header's best price and size mirror it.

Kernels validate a whole message before changing anything and return a status instead of raising:
``OK``, ``BAD_LEVEL`` (a length mismatch, a price outside ``1..MAX_PRICE`` or a negative size),
``NEED_SPACE`` (an overflow table might pass half full; the caller rebuilds it larger with
:func:`rebuild` and calls again) or ``UNSETTLED`` (applied, but the window move needs a larger
table: the caller rebuilds and calls :func:`settle`).

Compile cost is kept down on purpose: the helpers are ``register_jitable`` (compiled once, inside
the kernel that calls them, for plain ``int64`` arguments rather than once per literal side), the
far-level read sorts with a small heap instead of ``np.argsort``, and each kernel has exactly one
signature, :data:`SIGNATURES`. Importing this module compiles nothing; :mod:`engine.jit` compiles
or loads the kernels for those signatures and then forbids any other.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt
from numba import types
from numba.extending import register_jitable

from engine.book.ladder_layout import (
    ASK,
    BAD_LEVEL,
    BASE,
    BEST,
    BEST_PRICE,
    BEST_SIZE,
    BETTER,
    BID,
    CAPACITY,
    COUNT,
    DELETED,
    EMPTY,
    HEADER,
    MAX_PRICE,
    NEED_SPACE,
    OK,
    OVERFLOW,
    SIDE_BLOCK,
    UNSETTLED,
    USED,
    WINDOW,
    Buffer,
    allocate,
)

_HASH = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64: Fibonacci hashing


def rebuild(buf: Buffer, capacity: int) -> Buffer:
    """A copy of ``buf`` with overflow tables of ``capacity`` slots and no deleted markers.

    Raises:
        ValueError: ``capacity`` is not a power of two or too small for the levels held.
    """
    if capacity <= 0 or capacity & (capacity - 1):
        raise ValueError(f"capacity must be a power of two, got {capacity}")
    held = max(int(buf[SIDE_BLOCK * (s + 1) + OVERFLOW]) for s in (BID, ASK))
    if 2 * held > capacity:
        raise ValueError(f"capacity {capacity} cannot hold {held} levels at most half full")
    window = int(buf[WINDOW])
    new = allocate(window, capacity)
    new[HEADER : HEADER + 2 * window] = buf[HEADER : HEADER + 2 * window]
    new[2:HEADER] = buf[2:HEADER]
    rehash_into(buf, new)
    return new


# ---- helpers (compiled into the kernels that call them) ---------------------------------------


@register_jitable(nogil=True)
def _block(side: int) -> int:  # pragma: no cover - compiled
    return SIDE_BLOCK * (side + 1)


@register_jitable(nogil=True)
def _ladder(buf: Buffer, side: int) -> Buffer:  # pragma: no cover - compiled
    window = buf[WINDOW]
    start = HEADER + side * window
    return buf[start : start + window]


@register_jitable(nogil=True)
def _overflow(buf: Buffer, side: int) -> tuple[Buffer, Buffer]:  # pragma: no cover - compiled
    window = buf[WINDOW]
    capacity = buf[CAPACITY]
    start = HEADER + 2 * window + 2 * side * capacity
    return buf[start : start + capacity], buf[start + capacity : start + 2 * capacity]


@register_jitable(nogil=True)
def _key(price: int, side: int) -> int:  # pragma: no cover - compiled
    """Price to key and back (the map is its own inverse)."""
    return -price if side == BID else price


@register_jitable(nogil=True)
def _valid(px: Buffer, sz: Buffer) -> bool:  # pragma: no cover - compiled
    ok = len(px) == len(sz)
    i = 0
    while ok and i < len(px):
        ok = 0 < px[i] <= MAX_PRICE and sz[i] >= 0
        i += 1
    return ok


@register_jitable(nogil=True)
def _set_levels(
    buf: Buffer, side: int, prices: Buffer, sizes: Buffer, as_keys: bool
) -> None:  # pragma: no cover - compiled
    """Set absolute sizes in order; 0 deletes, deleting an absent level does nothing.

    ``prices`` hold keys already when ``as_keys``. Window levels are set here, inline, indexing
    ``buf`` itself: a helper call or a view per level costs a reference-count round trip,
    several times the work of setting the level. Levels outside the window go to the overflow.
    """
    blk = _block(side)
    window = buf[WINDOW]
    at = HEADER + side * window  # the side's ladder starts here
    for i in range(len(prices)):
        key = prices[i] if as_keys else _key(prices[i], side)
        size = sizes[i]
        slot = key - buf[blk + BASE]
        if slot < 0 or slot >= window:
            _set_in_overflow(buf, side, key, size)
            continue
        old = buf[at + slot]
        if size == 0:
            if old == 0:
                continue
            buf[at + slot] = 0
            buf[blk + COUNT] -= 1
            if slot == buf[blk + BEST]:
                if buf[blk + COUNT] == 0:
                    buf[blk + BEST] = -1
                else:
                    nxt = slot + 1
                    while buf[at + nxt] == 0:
                        nxt += 1
                    buf[blk + BEST] = nxt
            continue
        if old == 0:
            buf[blk + COUNT] += 1
            best = buf[blk + BEST]
            if best < 0 or slot < best:
                buf[blk + BEST] = slot
        buf[at + slot] = size


@register_jitable(nogil=True)
def _probe(
    keys: Buffer, start: int, capacity: int, key: int
) -> tuple[int, int]:  # pragma: no cover - compiled
    """(slot holding ``key`` or -1, slot where ``key`` would go: first deleted or empty).

    The table is ``keys[start : start + capacity]``; slots count from ``start``.
    """
    mask = capacity - 1
    mixed = key * _HASH
    slot = (mixed ^ (mixed >> 29)) & mask
    free = -1
    while True:
        found = keys[start + slot]
        if found == key:
            return slot, slot
        if found == EMPTY:
            return -1, slot if free < 0 else free
        if found == DELETED and free < 0:
            free = slot
        slot = (slot + 1) & mask


@register_jitable(nogil=True)
def _set_in_overflow(buf: Buffer, side: int, key: int, size: int) -> None:  # pragma: no cover
    """Indexes ``buf`` itself, as :func:`_set_levels` does: keys from ``at``, sizes after."""
    blk = _block(side)
    capacity = buf[CAPACITY]
    at = HEADER + 2 * buf[WINDOW] + 2 * side * capacity  # as _overflow lays the tables out
    found, free = _probe(buf, at, capacity, key)
    if found >= 0:
        if size == 0:
            buf[at + found] = DELETED
            buf[blk + OVERFLOW] -= 1
        else:
            buf[at + capacity + found] = size
        return
    if size == 0:
        return
    if buf[at + free] == EMPTY:
        buf[blk + USED] += 1
    buf[at + free] = key
    buf[at + capacity + free] = size
    buf[blk + OVERFLOW] += 1
    if key < buf[blk + BASE]:
        buf[blk + BETTER] = 1


@register_jitable(nogil=True)
def _insert_fresh(keys: Buffer, sizes: Buffer, key: int, size: int) -> None:  # pragma: no cover
    """Insert a key known to be absent into a table without deleted markers."""
    _, free = _probe(keys, 0, len(keys), key)
    keys[free] = key
    sizes[free] = size


@register_jitable(nogil=True)
def _recentre(buf: Buffer, side: int) -> bool:  # pragma: no cover - compiled
    """Move the window so the best level sits at slot W/4; re-split levels between the stores.

    Returns False, changing nothing, when the levels left outside the window would fill the
    overflow table past half: the caller makes the table larger and settles again.
    """
    blk = _block(side)
    window = buf[WINDOW]
    base = buf[blk + BASE]
    count = buf[blk + COUNT]
    ladder = _ladder(buf, side)
    keys, sizes = _overflow(buf, side)
    total = count + buf[blk + OVERFLOW]
    all_keys = np.empty(total, dtype=np.int64)
    all_sizes = np.empty(total, dtype=np.int64)
    k = 0
    slot = buf[blk + BEST]
    least = base + slot  # the window's best key, when the window holds levels
    while k < count:
        if ladder[slot] != 0:
            all_keys[k] = base + slot
            all_sizes[k] = ladder[slot]
            k += 1
        slot += 1
    for i in range(len(keys)):
        if keys[i] > DELETED:
            all_keys[k] = keys[i]
            all_sizes[k] = sizes[i]
            if (k == 0 and count == 0) or keys[i] < least:
                least = keys[i]
            k += 1
    new_base = least - window // 4 if total else base
    outside = 0
    for i in range(total):
        outside += all_keys[i] - new_base >= window
    if 2 * outside > len(keys):
        return False
    _empty(buf, side)
    buf[blk + BASE] = new_base
    _set_levels(buf, side, all_keys, all_sizes, True)
    return True


@register_jitable(nogil=True)
def _settle(buf: Buffer, side: int) -> bool:  # pragma: no cover - compiled
    """Restore the invariants after a message and publish the side's best level.

    Returns False, with the side not yet settled, when the overflow table needs to grow first.
    """
    blk = _block(side)
    window = buf[WINDOW]
    best = buf[blk + BEST]
    move = buf[blk + BETTER] != 0 or (best < 0 and buf[blk + OVERFLOW] > 0)
    if not move and best >= 0:
        move = best < window // 16 or best > window // 2
    if move and not _recentre(buf, side):
        return False
    best = buf[blk + BEST]
    if best < 0:
        buf[blk + BEST_PRICE] = 0
        buf[blk + BEST_SIZE] = 0
    else:
        buf[blk + BEST_PRICE] = _key(buf[blk + BASE] + best, side)
        buf[blk + BEST_SIZE] = buf[HEADER + side * window + best]  # the ladder's best slot
    return True


@register_jitable(nogil=True)
def _empty(buf: Buffer, side: int) -> None:  # pragma: no cover - compiled
    blk = _block(side)
    best = buf[blk + BEST]
    if best >= 0:
        ladder = _ladder(buf, side)
        count = buf[blk + COUNT]
        seen = 0
        while seen < count:
            if ladder[best] != 0:
                ladder[best] = 0
                seen += 1
            best += 1
    if buf[blk + USED] > 0:
        keys, _ = _overflow(buf, side)
        keys[:] = EMPTY
    buf[blk + BEST] = -1
    for slot in (COUNT, OVERFLOW, BEST_PRICE, BEST_SIZE, USED, BETTER):
        buf[blk + slot] = 0


@register_jitable(nogil=True)
def _anchor(buf: Buffer, side: int, px: Buffer, sz: Buffer) -> None:  # pragma: no cover
    """Place an empty side's window so the best level of ``px``/``sz`` lands at slot W/4."""
    found = False
    best = 0
    for i in range(len(px)):
        if sz[i] > 0:
            key = _key(px[i], side)
            if not found or key < best:
                best = key
                found = True
    if found:
        buf[_block(side) + BASE] = best - buf[WINDOW] // 4


@register_jitable(nogil=True)
def _room(buf: Buffer, side: int, incoming: int, fresh: bool) -> bool:  # pragma: no cover
    """Whether ``incoming`` new overflow levels keep the side's table at most half full."""
    used = 0 if fresh else buf[_block(side) + USED]
    return bool(2 * (used + incoming) <= buf[CAPACITY])


@register_jitable(nogil=True)
def _settle_both(buf: Buffer) -> int:  # pragma: no cover - compiled
    bid_done = _settle(buf, BID)
    ask_done = _settle(buf, ASK)
    return OK if bid_done and ask_done else UNSETTLED


# ---- kernels (called from Python) -------------------------------------------------------------


@numba.njit(cache=True, nogil=True)
def settle(buf: Buffer) -> int:  # pragma: no cover - compiled
    """Finish a message that returned ``UNSETTLED``, after :func:`rebuild`; ``OK`` or again."""
    return _settle_both(buf)


@numba.njit(cache=True, nogil=True)
def apply_delta(
    buf: Buffer, bid_px: Buffer, bid_sz: Buffer, ask_px: Buffer, ask_sz: Buffer
) -> int:  # pragma: no cover - compiled
    """Apply absolute sizes in order (0 deletes); the book is untouched unless ``OK`` returns."""
    if not (_valid(bid_px, bid_sz) and _valid(ask_px, ask_sz)):
        return BAD_LEVEL
    if not (_room(buf, BID, len(bid_px), False) and _room(buf, ASK, len(ask_px), False)):
        return NEED_SPACE
    _set_levels(buf, BID, bid_px, bid_sz, False)
    _set_levels(buf, ASK, ask_px, ask_sz, False)
    return _settle_both(buf)


@numba.njit(cache=True, nogil=True)
def apply_snapshot(
    buf: Buffer, bid_px: Buffer, bid_sz: Buffer, ask_px: Buffer, ask_sz: Buffer
) -> int:  # pragma: no cover - compiled
    """Replace the whole book; the book is untouched unless ``OK`` returns."""
    if not (_valid(bid_px, bid_sz) and _valid(ask_px, ask_sz)):
        return BAD_LEVEL
    if not (_room(buf, BID, len(bid_px), True) and _room(buf, ASK, len(ask_px), True)):
        return NEED_SPACE
    _empty(buf, BID)
    _empty(buf, ASK)
    _anchor(buf, BID, bid_px, bid_sz)
    _anchor(buf, ASK, ask_px, ask_sz)
    _set_levels(buf, BID, bid_px, bid_sz, False)
    _set_levels(buf, ASK, ask_px, ask_sz, False)
    return _settle_both(buf)


@numba.njit(cache=True, nogil=True)
def clear(buf: Buffer) -> None:  # pragma: no cover - compiled
    """Empty both sides."""
    _empty(buf, BID)
    _empty(buf, ASK)


@numba.njit(cache=True, nogil=True)
def rehash_into(src: Buffer, dst: Buffer) -> None:  # pragma: no cover - compiled
    """Insert every overflow level of ``src`` into the empty tables of ``dst``."""
    for side in (BID, ASK):
        src_keys, src_sizes = _overflow(src, side)
        dst_keys, dst_sizes = _overflow(dst, side)
        for i in range(len(src_keys)):
            if src_keys[i] > DELETED:
                _insert_fresh(dst_keys, dst_sizes, src_keys[i], src_sizes[i])
        blk = _block(side)
        dst[blk + USED] = src[blk + OVERFLOW]


@register_jitable(nogil=True)
def _sift_down(keys: Buffer, sizes: Buffer, i: int, n: int) -> None:  # pragma: no cover
    """Restore the min-heap order of ``keys[:n]`` below slot ``i``, moving sizes alongside."""
    while True:
        child = 2 * i + 1
        if child >= n:
            return
        if child + 1 < n and keys[child + 1] < keys[child]:
            child += 1
        if keys[i] <= keys[child]:
            return
        keys[i], keys[child] = keys[child], keys[i]
        sizes[i], sizes[child] = sizes[child], sizes[i]
        i = child


@register_jitable(nogil=True)
def _far_levels(buf: Buffer, side: int, m: int) -> tuple[Buffer, Buffer]:  # pragma: no cover
    """The ``m`` best overflow levels of a side, best-first (``m`` at most the levels held)."""
    keys, sizes = _overflow(buf, side)
    best_keys = np.empty(m, dtype=np.int64)
    best_sizes = np.empty(m, dtype=np.int64)
    if m > 32:  # heap-select from everything
        held = buf[_block(side) + OVERFLOW]
        heap_keys = np.empty(held, dtype=np.int64)
        heap_sizes = np.empty(held, dtype=np.int64)
        k = 0
        for i in range(len(keys)):
            if keys[i] > DELETED:
                heap_keys[k] = keys[i]
                heap_sizes[k] = sizes[i]
                k += 1
        for i in range(held // 2 - 1, -1, -1):
            _sift_down(heap_keys, heap_sizes, i, held)
        for j in range(m):
            best_keys[j] = heap_keys[0]
            best_sizes[j] = heap_sizes[0]
            held -= 1
            heap_keys[0] = heap_keys[held]
            heap_sizes[0] = heap_sizes[held]
            _sift_down(heap_keys, heap_sizes, 0, held)
        return best_keys, best_sizes
    k = 0  # keep the m smallest keys in order, by insertion
    for i in range(len(keys)):
        key = keys[i]
        if key <= DELETED or (k == m and key >= best_keys[m - 1]):
            continue
        j = k if k < m else m - 1
        while j > 0 and best_keys[j - 1] > key:
            best_keys[j] = best_keys[j - 1]
            best_sizes[j] = best_sizes[j - 1]
            j -= 1
        best_keys[j] = key
        best_sizes[j] = sizes[i]
        k = min(k + 1, m)
    return best_keys, best_sizes


@register_jitable(nogil=True)
def _fill(buf: Buffer, side: int, n: int, out: Buffer, row: int) -> int:  # pragma: no cover
    blk = _block(side)
    k = 0
    slot = buf[blk + BEST]
    if slot >= 0:
        ladder = _ladder(buf, side)
        base = buf[blk + BASE]
        count = buf[blk + COUNT]
        while k < n and k < count:
            size = ladder[slot]
            if size != 0:
                out[row, k] = _key(base + slot, side)
                out[row + 1, k] = size
                k += 1
            slot += 1
    more = min(n - k, buf[blk + OVERFLOW])
    if more > 0:
        far_keys, far_sizes = _far_levels(buf, side, more)
        for i in range(more):
            out[row, k] = _key(far_keys[i], side)
            out[row + 1, k] = far_sizes[i]
            k += 1
    return k


@numba.njit(cache=True, nogil=True)
def top_levels(
    buf: Buffer, n: int, out: npt.NDArray[np.int64]
) -> tuple[int, int]:  # pragma: no cover
    """Fill ``out`` rows bid_px, bid_sz, ask_px, ask_sz best-first; return (bids, asks) written.

    At most ``min(n, out.shape[1])`` levels per side are written; columns beyond are untouched.
    """
    n = min(n, out.shape[1])
    if n <= 0:
        return 0, 0
    return _fill(buf, BID, n, out, 0), _fill(buf, ASK, n, out, 2)


_STATE = types.Array(types.int64, 1, "C")
"""A book buffer, and a message's level arrays: C-contiguous one-dimensional int64."""

SIGNATURES: dict[str, tuple[types.Type, ...]] = {
    "apply_delta": (_STATE, _STATE, _STATE, _STATE, _STATE),
    "apply_snapshot": (_STATE, _STATE, _STATE, _STATE, _STATE),
    "clear": (_STATE,),
    "settle": (_STATE,),
    "rehash_into": (_STATE, _STATE),
    "top_levels": (_STATE, types.int64, types.Array(types.int64, 2, "C")),
}
"""The one argument-type signature each kernel is compiled for; nothing else is accepted."""

"""Compiled readers of Binance JSON: frame bytes straight to integer ticks and lots.

They accept a strict subset of JSON, the layout Binance writes (``{"stream":..,"data":{..}}``,
ASCII strings without escapes, integer ids, prices and sizes as decimal strings), and return a
non-zero status for anything else; the caller then takes the general msgspec path, which either
parses the frame or raises with a precise message. Nothing these readers accept is read
differently by msgspec.

Numbers are converted exactly with :class:`~engine.core.instruments.DecimalGrid` semantics: the
digits up to the grid's decimals form the integer, any further digit must be ``0`` (Binance pads
to 8 decimals), and a step that is not a power of ten is checked with an integer remainder. A
number off the grid, needing more than 18 digits at the grid's decimals, zero as a price, or not
plain digits is declined.

Each reader has exactly one signature (:data:`SIGNATURES`): frames and symbols are ``bytes``,
outputs C-contiguous ``int64`` arrays, grids four ``int64``. The helpers are ``register_jitable``,
compiled inside the readers for plain argument types (never once per literal). Importing this
module compiles nothing; :mod:`engine.jit` compiles or loads the readers and then forbids any
other argument types. The statuses and the grid form are defined by the parser
(:mod:`engine.venues.binance.protocol`), which runs without this module until the readers are
compiled.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt
from numba import types
from numba.extending import register_jitable

from engine.venues.binance.protocol import DECLINED, NEED_SPACE, OK, KernelGrid, kernel_grid

__all__ = [
    "DECLINED",
    "NEED_SPACE",
    "OK",
    "SIGNATURES",
    "KernelGrid",
    "book_sides",
    "depth_frame",
    "futures_depth_frame",
    "kernel_grid",
    "levels_only",
]

_POW10 = np.array([10**k for k in range(19)], dtype=np.int64)
_QUOTE, _COMMA, _COLON, _LBRACKET, _RBRACKET, _LBRACE, _RBRACE = 34, 44, 58, 91, 93, 123, 125
_DEPTH_UPDATE = b"depthUpdate"
_STREAM = b"stream"
_DATA = b"data"
_TRUE = b"true"
_FALSE = b"false"
_NULL = b"null"


@register_jitable(nogil=True)
def _skip_ws(buf: bytes, i: int) -> int:  # pragma: no cover - compiled
    n = len(buf)
    while i < n and (buf[i] == 32 or buf[i] == 9 or buf[i] == 10 or buf[i] == 13):
        i += 1
    return i


@register_jitable(nogil=True)
def _read_string(buf: bytes, i: int) -> tuple[int, int, int]:  # pragma: no cover - compiled
    """A plain ASCII string without escapes at ``i``: (start, end, next i), start -1 if not."""
    n = len(buf)
    if i >= n or buf[i] != _QUOTE:
        return -1, i, i
    start = i + 1
    i = start
    while i < n:
        c = buf[i]
        if c == _QUOTE:
            return start, i, i + 1
        if c == 92 or c < 32 or c > 126:  # an escape, a control byte, or not ASCII
            return -1, i, i
        i += 1
    return -1, i, i


@register_jitable(nogil=True)
def _equals(buf: bytes, start: int, end: int, text: bytes) -> bool:  # pragma: no cover
    if start < 0 or end - start != len(text) or end > len(buf):
        return False
    for k in range(end - start):  # noqa: SIM110 - a plain loop compiles to the tightest code
        if buf[start + k] != text[k]:
            return False
    return True


@register_jitable(nogil=True)
def _read_int(buf: bytes, i: int) -> tuple[int, int]:  # pragma: no cover - compiled
    """A non-negative JSON integer of at most 18 digits at ``i``: (value, next i), -1 if not."""
    n = len(buf)
    value = 0
    start = i
    while i < n and 48 <= buf[i] <= 57:
        value = value * 10 + (buf[i] - 48)
        i += 1
    digits = i - start
    if digits == 0 or digits > 18 or (digits > 1 and buf[start] == 48):
        return -1, i
    if i < n and (buf[i] == 46 or buf[i] == 101 or buf[i] == 69):  # a fraction or exponent
        return -1, i
    return value, i


@register_jitable(nogil=True)
def _read_levels(  # noqa: C901 - the level loop and its two numbers, in one compiled function
    buf: bytes,
    i: int,
    px_out: npt.NDArray[np.int64],
    sz_out: npt.NDArray[np.int64],
    grid: KernelGrid,
) -> tuple[int, int]:  # pragma: no cover - compiled
    """``[["price","size"],...]`` at ``i`` into the outputs: (count, next i), count -1 if not.

    Each number is ``"digits[.digits]"`` read as steps of ``unit * 10**-decimals``; it is
    declined when it is not a plain decimal, has more than 18 significant digits, or is off the
    grid (a price must also be positive). The numbers are read here, not by a helper: a call
    per number costs a reference-count round trip on ``buf``, a fifth of a depth frame's time.
    """
    n = len(buf)
    if i >= n or buf[i] != _LBRACKET:
        return -1, i
    i = _skip_ws(buf, i + 1)
    if i < n and buf[i] == _RBRACKET:
        return 0, i + 1
    count = 0
    while i < n and buf[i] == _LBRACKET and count < px_out.shape[0]:
        i = _skip_ws(buf, i + 1)
        for field in range(2):  # the price, then the size
            decimals, unit = (grid[0], grid[1]) if field == 0 else (grid[2], grid[3])
            if i >= n or buf[i] != _QUOTE:
                return -1, i
            i += 1
            start = i
            whole = 0
            while i < n and 48 <= buf[i] <= 57:
                whole = whole * 10 + (buf[i] - 48)
                i += 1
            if i == start or i - start + decimals > 18:  # no digits, or too many for int64
                return -1, i
            frac = 0
            kept = 0
            if i < n and buf[i] == 46:
                i += 1
                point = i
                while i < n and 48 <= buf[i] <= 57:
                    if kept < decimals:
                        frac = frac * 10 + (buf[i] - 48)
                        kept += 1
                    elif buf[i] != 48:  # a digit finer than the grid's decimals
                        return -1, i
                    i += 1
                if i == point:
                    return -1, i
            if i >= n or buf[i] != _QUOTE:
                return -1, i
            steps = whole * _POW10[decimals] + frac * _POW10[decimals - kept]
            if unit != 1:
                if steps % unit != 0:
                    return -1, i
                steps //= unit
            i = _skip_ws(buf, i + 1)
            if field == 0:
                if steps <= 0 or i >= n or buf[i] != _COMMA:
                    return -1, i
                px_out[count] = steps
                i = _skip_ws(buf, i + 1)
            else:
                if i >= n or buf[i] != _RBRACKET:
                    return -1, i
                sz_out[count] = steps
        count += 1
        i = _skip_ws(buf, i + 1)
        if i < n and buf[i] == _RBRACKET:
            return count, i + 1
        if i >= n or buf[i] != _COMMA:
            return -1, i
        i = _skip_ws(buf, i + 1)
    return -1, i


@register_jitable(nogil=True)
def _skip_scalar(buf: bytes, i: int) -> int:  # pragma: no cover - compiled
    """Step over an unknown field's plain string, integer, true, false or null; -1 if not."""
    n = len(buf)
    if i < n and buf[i] == _QUOTE:
        start, _, i = _read_string(buf, i)
        return i if start >= 0 else -1
    value, j = _read_int(buf, i + 1 if i < n and buf[i] == 45 else i)
    if value >= 0:
        return j
    for word in (_TRUE, _FALSE, _NULL):
        if _equals(buf, i, i + len(word), word):
            return i + len(word)
    return -1


@register_jitable(nogil=True)
def _member_key(buf: bytes, i: int) -> tuple[int, int]:  # pragma: no cover - compiled
    """Read ``"key":`` at ``i``: (key, index of the value).

    The key is its byte for one-letter keys, ``256 * first + second`` byte for two-letter keys,
    0 for longer keys and -1 when there is no key.
    """
    k0, k1, i = _read_string(buf, i)
    i = _skip_ws(buf, i)
    if k0 < 0 or i >= len(buf) or buf[i] != _COLON:
        return -1, i
    key = 0
    if k1 - k0 == 1:
        key = int(buf[k0])
    elif k1 - k0 == 2:
        key = int(buf[k0]) * 256 + int(buf[k0 + 1])
    return key, _skip_ws(buf, i + 1)


@register_jitable(nogil=True)
def _member_end(buf: bytes, i: int) -> tuple[int, int]:  # pragma: no cover - compiled
    """After a value: (0 another member follows, 1 the object closed, -1 neither; next index)."""
    i = _skip_ws(buf, i)
    if i < len(buf) and buf[i] == _COMMA:
        return 0, _skip_ws(buf, i + 1)
    if i < len(buf) and buf[i] == _RBRACE:
        return 1, i + 1
    return -1, i


@register_jitable(nogil=True)
def _data_start(buf: bytes) -> int:  # pragma: no cover - compiled
    """Index of the ``data`` object in ``{"stream":"..","data":{..}}``, or -1 for other layouts."""
    i = _skip_ws(buf, 0)
    if i >= len(buf) or buf[i] != _LBRACE:
        return -1
    k0, k1, i = _read_string(buf, _skip_ws(buf, i + 1))
    i = _skip_ws(buf, i)
    if not _equals(buf, k0, k1, _STREAM) or i >= len(buf) or buf[i] != _COLON:
        return -1
    s0, _, i = _read_string(buf, _skip_ws(buf, i + 1))
    i = _skip_ws(buf, i)
    if s0 < 0 or i >= len(buf) or buf[i] != _COMMA:
        return -1
    k0, k1, i = _read_string(buf, _skip_ws(buf, i + 1))
    i = _skip_ws(buf, i)
    if not _equals(buf, k0, k1, _DATA) or i >= len(buf) or buf[i] != _COLON:
        return -1
    i = _skip_ws(buf, i + 1)
    return i + 1 if i < len(buf) and buf[i] == _LBRACE else -1


@register_jitable(nogil=True)
def _frame_ends(buf: bytes, i: int) -> bool:  # pragma: no cover - compiled
    """True when only the frame's closing brace (and whitespace) follows index ``i``."""
    i = _skip_ws(buf, i)
    return i < len(buf) and buf[i] == _RBRACE and _skip_ws(buf, i + 1) == len(buf)


@register_jitable(nogil=True)
def _level_room(buf: bytes) -> int:  # pragma: no cover - compiled
    """An upper bound of the levels in a frame: every level opens with ``[``."""
    room = 0
    for k in range(len(buf)):
        if buf[k] == _LBRACKET:
            room += 1
    return room


_DEPTH_FIELDS = 127  # e E s U u b a
_PU = 256  # the futures "pu" field, seen
_PU_KEY = 112 * 256 + 117  # "pu", as _member_key reads a two-letter key


@register_jitable(nogil=True)
def _depth_event(  # noqa: C901 - one flat switch over the event's keys, in one compiled loop
    buf: bytes,
    symbol: bytes,
    out: npt.NDArray[np.int64],
    off: int,
    grid: KernelGrid,
) -> tuple[int, int, int, int, int, int, int, int, int]:  # pragma: no cover - compiled
    """Read a depth frame: (status, E, U, u, pu, bid count, ask count, room, fields seen)."""
    room = _level_room(buf)
    if off + 4 * room > out.shape[0]:
        return NEED_SPACE, 0, 0, 0, -1, 0, 0, room, 0
    event_time = first_id = last_id = prev_id = n_bids = n_asks = -1
    seen = 0
    i = _data_start(buf)
    state = 0 if i >= 0 else -1
    while state == 0:
        key, i = _member_key(buf, i)
        bit = 0
        if key == 101:  # e
            s0, s1, i = _read_string(buf, i)
            bit = 1 if _equals(buf, s0, s1, _DEPTH_UPDATE) else 0
        elif key == 69:  # E
            event_time, i = _read_int(buf, i)
            bit = 2 if event_time >= 0 else 0
        elif key == 115:  # s
            s0, s1, i = _read_string(buf, i)
            bit = 4 if _equals(buf, s0, s1, symbol) else 0
        elif key == 85:  # U
            first_id, i = _read_int(buf, i)
            bit = 8 if first_id > 0 else 0
        elif key == 117:  # u
            last_id, i = _read_int(buf, i)
            bit = 16 if last_id > 0 else 0
        elif key == 98:  # b
            b0 = off
            n_bids, i = _read_levels(
                buf, i, out[b0 : b0 + room], out[b0 + room : b0 + 2 * room], grid
            )
            bit = 32 if n_bids >= 0 else 0
        elif key == 97:  # a
            a0 = off + 2 * room
            n_asks, i = _read_levels(
                buf, i, out[a0 : a0 + room], out[a0 + room : a0 + 2 * room], grid
            )
            bit = 64 if n_asks >= 0 else 0
        elif key == _PU_KEY:  # pu (futures)
            prev_id, i = _read_int(buf, i)
            bit = _PU if prev_id >= 0 else 0
        elif key >= 0:
            i = _skip_scalar(buf, i)
            bit = 128 if i >= 0 else 0
        if bit == 0 or seen & bit & (_DEPTH_FIELDS | _PU):
            break  # unreadable, unexpected or repeated
        seen |= bit
        state, i = _member_end(buf, i)
    complete = (seen & _DEPTH_FIELDS) == _DEPTH_FIELDS and first_id <= last_id
    if state == 1 and complete and _frame_ends(buf, i):
        return OK, event_time, first_id, last_id, prev_id, n_bids, n_asks, room, seen
    return DECLINED, 0, 0, 0, -1, 0, 0, room, 0


@numba.njit(cache=True, nogil=True)
def depth_frame(
    buf: bytes,
    symbol: bytes,
    out: npt.NDArray[np.int64],
    off: int,
    grid: KernelGrid,
) -> tuple[int, int, int, int, int, int, int]:  # pragma: no cover - compiled
    """A whole ``{"stream":..,"data":{depthUpdate}}`` frame; levels go to ``out`` from ``off``.

    The four level arrays get ``room`` slots each: bid prices at ``off``, bid sizes at
    ``off + room``, ask prices at ``off + 2 * room`` and ask sizes at ``off + 3 * room``.

    Returns:
        (status, E, U, u, bid count, ask count, room).
    """
    status, event_time, first_id, last_id, _, n_bids, n_asks, room, _ = _depth_event(
        buf, symbol, out, off, grid
    )
    return status, event_time, first_id, last_id, n_bids, n_asks, room


@numba.njit(cache=True, nogil=True)
def futures_depth_frame(
    buf: bytes,
    symbol: bytes,
    out: npt.NDArray[np.int64],
    off: int,
    grid: KernelGrid,
) -> tuple[int, int, int, int, int, int, int, int]:  # pragma: no cover - compiled
    """A futures ``depthUpdate`` frame, laid out as :func:`depth_frame`, which must carry ``pu``.

    Returns:
        (status, E, U, u, pu, bid count, ask count, room); a frame without ``pu`` is declined.
    """
    status, event_time, first_id, last_id, prev_id, n_bids, n_asks, room, seen = _depth_event(
        buf, symbol, out, off, grid
    )
    if status == OK and not seen & _PU:
        status = DECLINED
    return status, event_time, first_id, last_id, prev_id, n_bids, n_asks, room


@numba.njit(cache=True, nogil=True)
def levels_only(
    buf: bytes, grid: KernelGrid
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]:  # pragma: no cover - compiled
    """One level list on its own (snapshots): (prices, sizes, status)."""
    room = _level_room(buf)
    px = np.empty(room, dtype=np.int64)
    sz = np.empty(room, dtype=np.int64)
    count, i = _read_levels(buf, _skip_ws(buf, 0), px, sz, grid)
    if count < 0 or _skip_ws(buf, i) != len(buf):
        return px[:0], sz[:0], DECLINED
    return px[:count], sz[:count], OK


@numba.njit(cache=True, nogil=True)
def book_sides(
    bids: bytes,
    asks: bytes,
    out: npt.NDArray[np.int64],
    off: int,
    grid: KernelGrid,
) -> tuple[int, int, int, int]:  # pragma: no cover - compiled
    """Two level lists (a push's bids and asks) into ``out`` from ``off``.

    The layout is :func:`depth_frame`'s: four regions of ``room`` slots from ``off``.

    Returns:
        (status, bid count, ask count, room).
    """
    room = max(_level_room(bids), _level_room(asks))
    if off + 4 * room > out.shape[0]:
        return NEED_SPACE, 0, 0, room
    n_bids, i = _read_levels(
        bids, _skip_ws(bids, 0), out[off : off + room], out[off + room : off + 2 * room], grid
    )
    if n_bids < 0 or _skip_ws(bids, i) != len(bids):
        return DECLINED, 0, 0, room
    a0 = off + 2 * room
    n_asks, i = _read_levels(
        asks, _skip_ws(asks, 0), out[a0 : a0 + room], out[a0 + room : a0 + 2 * room], grid
    )
    if n_asks < 0 or _skip_ws(asks, i) != len(asks):
        return DECLINED, 0, 0, room
    return OK, n_bids, n_asks, room


_BYTES = types.Bytes(types.uint8, 1, "C", readonly=True)
_GRID = types.UniTuple(types.int64, 4)  # type: ignore[no-untyped-call]

SIGNATURES: dict[str, tuple[types.Type, ...]] = {
    "depth_frame": (_BYTES, _BYTES, types.Array(types.int64, 1, "C"), types.int64, _GRID),
    "futures_depth_frame": (
        _BYTES,
        _BYTES,
        types.Array(types.int64, 1, "C"),
        types.int64,
        _GRID,
    ),
    "levels_only": (_BYTES, _GRID),
    "book_sides": (_BYTES, _BYTES, types.Array(types.int64, 1, "C"), types.int64, _GRID),
}
"""The one argument-type signature each reader is compiled for; nothing else is accepted."""

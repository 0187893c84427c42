"""The compiled readers: Binance's own layout takes the fast path, anything else is declined."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from engine import jit
from engine.core.instruments import DecimalGrid
from engine.errors import InstrumentError
from engine.venues.binance import kernels
from engine.venues.binance.protocol import READERS

GRID = kernels.kernel_grid(DecimalGrid("0.01", "price"), DecimalGrid("0.00001", "size"))
DEPTH = (
    b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT",'
    b'"U":101,"u":103,"b":[["61837.63000000","3.78826000"],["61700.00000000","0.00000000"]],'
    b'"a":[["61837.64000000","1.54698000"]]}}'
)


@pytest.fixture(autouse=True, scope="module")
def _loaded() -> None:
    """The readers as the engine runs them: compiled for their one signature, nothing else."""
    jit.load_kernels(READERS)


def test_each_reader_has_one_signature_and_refuses_others():
    """Once loaded a reader holds one compiled signature and rejects other argument types."""
    for name in kernels.SIGNATURES:
        assert len(getattr(kernels, name).signatures) == 1
    out = np.zeros(64, dtype=np.int64)
    frame = np.frombuffer(DEPTH, dtype=np.uint8)
    with pytest.raises(TypeError):
        kernels.depth_frame(frame, b"BTCUSDT", out, 0, GRID)
    assert len(kernels.depth_frame.signatures) == 1


def test_binance_depth_layout_is_read_in_one_pass():
    """A depth frame as Binance writes it fills the four level regions of the arena."""
    out = np.zeros(64, dtype=np.int64)
    status, event_time, first, last, n_bids, n_asks, room = kernels.depth_frame(
        DEPTH, b"BTCUSDT", out, 8, GRID
    )
    assert (status, event_time, first, last, n_bids, n_asks) == (
        kernels.OK,
        1723161255308,
        101,
        103,
        2,
        1,
    )
    assert out[8 : 8 + n_bids].tolist() == [6183763, 6170000]
    assert out[8 + room : 8 + room + n_bids].tolist() == [378826, 0]
    assert out[8 + 2 * room : 8 + 2 * room + n_asks].tolist() == [6183764]
    assert out[8 + 3 * room : 8 + 3 * room + n_asks].tolist() == [154698]


def test_depth_frame_asks_for_space_when_the_arena_is_full():
    """An arena without room for four level regions is not written past its end."""
    out = np.zeros(8, dtype=np.int64)
    status, *_, room = kernels.depth_frame(DEPTH, b"BTCUSDT", out, 0, GRID)
    assert status == kernels.NEED_SPACE
    assert 4 * room > out.size


@pytest.mark.parametrize(
    "frame",
    [
        DEPTH.replace(b'"depthUpdate"', b'"depth\\u0055pdate"'),
        DEPTH.replace(b'"BTCUSDT"', b'"ETHUSDT"'),
        DEPTH.replace(b'"61837.63000000"', b'"61837.63500000"'),
        DEPTH.replace(b'"61837.63000000"', b"61837.63"),
        DEPTH.replace(b'"U":101', b'"U":1.5'),
        DEPTH.replace(b'"U":101', b'"U":0101'),
        DEPTH.replace(b'"u":103', b'"u":99'),
        DEPTH.replace(b'"u":103,', b""),
        DEPTH.replace(b'"u":103', b'"u":103,"u":104'),
        DEPTH.replace(b'"E":1723161255308', b'"x":{"y":1},"E":1723161255308'),
        DEPTH.replace(b'"E":', '"x":"\u00e9","E":'.encode()),
        DEPTH[:-1],
        DEPTH + b"x",
        msgspec.json.encode(msgspec.json.decode(DEPTH), order="sorted"),
    ],
    ids=[
        "escape",
        "other-symbol",
        "off-grid",
        "number-not-string",
        "fractional-id",
        "leading-zero",
        "ids-backwards",
        "missing-field",
        "repeated-field",
        "nested-extra",
        "not-ascii",
        "cut-off",
        "trailing-bytes",
        "data-first",
    ],
)
def test_anything_but_the_strict_layout_is_declined(frame: bytes):
    """The reader declines rather than guess; the general path then parses or explains."""
    out = np.zeros(256, dtype=np.int64)
    assert kernels.depth_frame(frame, b"BTCUSDT", out, 0, GRID)[0] == kernels.DECLINED


def test_unknown_scalar_fields_are_skipped():
    """Extra plain fields (strings, integers, booleans, null) do not leave the fast path."""
    frame = DEPTH.replace(b'"E":', b'"x":"y","n":-3,"t":true,"f":false,"z":null,"E":')
    out = np.zeros(256, dtype=np.int64)
    assert kernels.depth_frame(frame, b"BTCUSDT", out, 0, GRID)[0] == kernels.OK


def test_level_list_alone_converts_or_declines():
    """Snapshot sides: a plain list converts; trailing garbage is declined."""
    px, sz, status = kernels.levels_only(b'[["1.00","2.5"]]', GRID)
    assert (status, px.tolist(), sz.tolist()) == (kernels.OK, [100], [250000])
    assert kernels.levels_only(b'[["1.00","2.5"]] x', GRID)[2] == kernels.DECLINED


def test_grids_finer_than_int64_steps_are_refused():
    """A step with more than 18 decimals cannot be read into int64 steps."""
    with pytest.raises(InstrumentError, match="too fine"):
        kernels.kernel_grid(DecimalGrid("0." + "0" * 18 + "1", "price"), DecimalGrid("1", "size"))

"""Hypothesis strategies for fuzzing: raw bytes, and valid seed frames mutated a little.

Mutations act on the JSON value (replace, delete or add one field anywhere, with any JSON value
of any type) or on the bytes (cut short, one byte changed, bytes inserted), so inputs reach the
deep parts of a parser, not only its first ``json.loads``.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["", "0", "-1", "1e999", "NaN", "0.000000001", "65000.00", "BUY", "NEW"]),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _set(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _set(value[head], rest, new, delete)
        return copy
    copy = list(value)
    if delete and not rest:
        del copy[head]
    else:
        copy[head] = _set(value[head], rest, new, delete)
    return copy


@st.composite
def json_mutation(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` (JSON) with one value replaced by any JSON value, or one field removed."""
    doc = json.loads(seed)
    path = draw(st.sampled_from(_paths(doc)))
    delete = bool(path) and draw(st.booleans())
    new = None if delete else draw(json_value)
    return json.dumps(_set(doc, path, new, delete)).encode()


@st.composite
def byte_mutation(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` cut short, with one byte changed, or with bytes inserted."""
    kind = draw(st.sampled_from(["cut", "flip", "insert"]))
    at = draw(st.integers(min_value=0, max_value=max(0, len(seed) - 1)))
    if kind == "cut":
        return seed[:at]
    if kind == "flip":
        return seed[:at] + bytes([draw(st.integers(0, 255))]) + seed[at + 1 :]
    return seed[:at] + draw(st.binary(min_size=1, max_size=8)) + seed[at:]


def frames(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """Any bytes, a seed as is, or a seed mutated at the JSON or byte level."""
    seed = st.sampled_from(seeds)
    return st.one_of(
        st.binary(max_size=64),
        seed,
        seed.flatmap(json_mutation),
        seed.flatmap(byte_mutation),
    )

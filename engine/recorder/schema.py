"""The catalog's on-disk contract: Parquet schemas, metadata keys and the partition layout.

Layout under the catalog root::

    <root>/<kind>/venue=<VENUE>/symbol=<SYMBOL>/date=<YYYY-MM-DD>/<HH>-<first_recv_ns>.parquet

``kind`` is ``book``, ``trade`` or ``raw``. Venue and symbol are percent-encoded in the folder
names (``XBT/CHF`` becomes ``XBT%2FCHF``), so every symbol a venue uses maps to one folder.
Files are written under a dot-prefixed temporary name in the same folder and renamed when
complete; readers ignore dot files. One file holds at most one UTC hour of receive times.

Book and trade files carry key/value metadata (utf-8): ``venue``, ``symbol``, ``tick_size``,
``lot_size`` (exact decimal text), ``source`` and ``schema_version``. Prices are integer ticks and
sizes integer lots of that grid; timestamps are integer nanoseconds.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from pathlib import Path
from typing import Final

import pyarrow as pa

SCHEMA_VERSION: Final = "1"

BOOK: Final = "book"
TRADE: Final = "trade"
RAW: Final = "raw"
KINDS: Final = (BOOK, TRADE, RAW)

SNAPSHOT_ROW: Final = 0
"""``kind`` of a book row holding a whole book (``first_id == last_id == update id``)."""
DELTA_ROW: Final = 1
"""``kind`` of a book row holding absolute new sizes of changed levels (0 deletes)."""
NO_PREV_ID: Final = -1
"""``prev_id`` when the venue sends no previous update id."""

META_VENUE: Final = "venue"
META_SYMBOL: Final = "symbol"
META_TICK: Final = "tick_size"
META_LOT: Final = "lot_size"
META_SOURCE: Final = "source"
META_VERSION: Final = "schema_version"
META_KEYS: Final = (META_VENUE, META_SYMBOL, META_TICK, META_LOT, META_SOURCE, META_VERSION)

_LEVELS = pa.list_(pa.int64())

BOOK_SCHEMA: Final = pa.schema(
    [
        pa.field("recv_ts", pa.int64(), nullable=False),
        pa.field("exch_ts", pa.int64(), nullable=False),
        pa.field("kind", pa.int8(), nullable=False),
        pa.field("first_id", pa.int64(), nullable=False),
        pa.field("last_id", pa.int64(), nullable=False),
        pa.field("prev_id", pa.int64(), nullable=False),
        pa.field("bid_px", _LEVELS, nullable=False),
        pa.field("bid_sz", _LEVELS, nullable=False),
        pa.field("ask_px", _LEVELS, nullable=False),
        pa.field("ask_sz", _LEVELS, nullable=False),
    ]
)
TRADE_SCHEMA: Final = pa.schema(
    [
        pa.field("recv_ts", pa.int64(), nullable=False),
        pa.field("exch_ts", pa.int64(), nullable=False),
        pa.field("trade_id", pa.int64(), nullable=False),
        pa.field("price", pa.int64(), nullable=False),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("aggressor", pa.int8(), nullable=False),
    ]
)
RAW_SCHEMA: Final = pa.schema(
    [
        pa.field("recv_ts", pa.int64(), nullable=False),
        pa.field("stream", pa.string(), nullable=False),
        pa.field("payload", pa.binary(), nullable=False),
    ]
)
SCHEMAS: Final = {BOOK: BOOK_SCHEMA, TRADE: TRADE_SCHEMA, RAW: RAW_SCHEMA}

HOUR_NS: Final = 3_600_000_000_000
DAY_NS: Final = 24 * HOUR_NS

_FILE_RE = re.compile(r"^(\d{2})-(\d+)\.parquet$")


def file_metadata(
    venue: str, symbol: str, tick_size: str, lot_size: str, source: str
) -> dict[bytes, bytes]:
    """The key/value metadata of a book or trade file."""
    values = (venue, symbol, tick_size, lot_size, source, SCHEMA_VERSION)
    return {k.encode(): v.encode() for k, v in zip(META_KEYS, values, strict=True)}


def schema_for(kind: str, metadata: dict[bytes, bytes] | None = None) -> pa.Schema:
    """The schema of ``kind`` files, with ``metadata`` attached.

    Raises:
        ValueError: ``kind`` is not one of :data:`KINDS`.
    """
    try:
        schema = SCHEMAS[kind]
    except KeyError:
        raise ValueError(f"catalog kind {kind!r} is not one of {', '.join(KINDS)}") from None
    return schema.with_metadata(metadata) if metadata else schema


def hour_of(recv_ns: int) -> int:
    """The start of the UTC hour ``recv_ns`` falls in, ns."""
    return recv_ns - recv_ns % HOUR_NS


def date_text(ns: int) -> str:
    """``YYYY-MM-DD`` of a UTC timestamp in ns."""
    return dt.datetime.fromtimestamp(ns // 1_000_000_000, tz=dt.UTC).strftime("%Y-%m-%d")


def hour_text(ns: int) -> str:
    """``YYYY-MM-DDTHH`` of a UTC timestamp in ns, the name of its hour in coverage reports."""
    return dt.datetime.fromtimestamp(ns // 1_000_000_000, tz=dt.UTC).strftime("%Y-%m-%dT%H")


def quote(name: str) -> str:
    """A venue or symbol as it appears in a folder name."""
    return urllib.parse.quote(name, safe="")


def unquote(name: str) -> str:
    """The venue or symbol a folder name stands for."""
    return urllib.parse.unquote(name)


def partition_dir(root: Path, kind: str, venue: str, symbol: str, recv_ns: int) -> Path:
    """The folder of the file holding a row received at ``recv_ns``."""
    return (
        root
        / kind
        / f"venue={quote(venue)}"
        / f"symbol={quote(symbol)}"
        / f"date={date_text(recv_ns)}"
    )


def file_name(first_recv_ns: int) -> str:
    """``<HH>-<first_recv_ns>.parquet`` of a file whose first row was received then."""
    hour = dt.datetime.fromtimestamp(first_recv_ns // 1_000_000_000, tz=dt.UTC).hour
    return f"{hour:02d}-{first_recv_ns}.parquet"


def parse_file_name(name: str) -> tuple[int, int] | None:
    """(hour, first_recv_ns) of a catalog file name, or None for anything else."""
    match = _FILE_RE.match(name)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))

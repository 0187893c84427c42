"""Other tools' capture files, read as one ordered stream of received records.

Every reader yields :class:`CaptureRecord` ``(recv_ns, stream, payload)`` in receive-time order:
the local receive time in integer nanoseconds (converted exactly from the file's decimal text),
the stream the record came on (a combined-stream name, a REST URL, a connection name, or a Tardis
table), and the payload's exact bytes. Formats (../shared/data/README.md):

- ``hftbacktest``: gzip, lines ``<ns> <json>``; day files of one capture are merged by time.
- ``cryptofeed`` v1: ``*.http.N.0`` (``<url> -> <ts>: <body>``) and ``*.ws.N.0`` (line 1 the
  connect, ``<url> <- <ts>: ...`` sent frames, ``<ts>: <json>`` received frames), merged by time.
- ``cryptofeed`` v3: zstd JSON lines (``{"t": "http"|"recv"|..., "ts", "data"}``), grouped by
  connection, so sorted by ``ts`` here; a received frame's stream is the address its connection
  went to (``wss://stream.bybit.com/v5/public/linear``), else the connection's name.
- ``bybit``: Bybit's historical order-book download (``*.data``, or the ``*.data.zip`` it comes
  in): one v5 WebSocket message a line and no receive time, so the message's ``ts`` (ms) stands
  for it; the stream is ``bybit:<topic>``.
- ``tardis``: CSV (``trades``, ``quotes``, ``incremental_book_L2``, ``book_snapshot_N``); each row
  is one record whose stream is ``tardis:<table>`` and whose payload is the row's line.

A line that cannot be read raises :class:`CaptureError` naming the file and the line.
"""

from __future__ import annotations

import gzip
import heapq
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from engine.errors import EngineError

FORMATS = ("hftbacktest", "cryptofeed", "tardis", "bybit")
"""Import sources (``cryptofeed`` covers v1 text pairs and v3 zstd files; ``bybit`` is Bybit's
historical order-book download)."""

SNAPSHOT_STREAM = "rest:depth"
"""Stream of an hftbacktest REST depth snapshot line (the capture does not say its URL)."""


class CaptureError(EngineError, ValueError):
    """A capture file cannot be read; ``path`` and ``line`` say where."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path = path
        self.line = line
        super().__init__(f"{path}:{line}: {message}")


class CaptureRecord(NamedTuple):
    """One received record of a capture."""

    recv_ns: int
    """Local receive time, ns."""
    stream: str
    """Combined-stream name, REST URL, connection name or ``tardis:<table>``."""
    payload: bytes
    """The exact bytes received (a Tardis CSV row for Tardis)."""


def seconds_to_ns(text: str | bytes) -> int:
    """Exact ns of a decimal seconds timestamp such as ``1626992741.06217``.

    Raises:
        ValueError: the text is not a decimal number.
    """
    raw = text.decode() if isinstance(text, bytes) else text
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(f"timestamp {raw!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValueError(f"timestamp {raw!r} is not a decimal number")
    return int(value * 1_000_000_000)


def frame_stream(payload: bytes) -> str:
    """The stream a frame names: a combined-stream name, ``rest:depth`` or a channel."""
    if payload.startswith(b'{"stream":"'):
        return payload[11 : payload.find(b'"', 11)].decode("utf-8", "replace")
    if b'"lastUpdateId"' in payload[:40]:
        return SNAPSHOT_STREAM
    if payload.startswith(b'{"channel":"'):
        return payload[12 : payload.find(b'"', 12)].decode("utf-8", "replace")
    return ""


def _hftbacktest_file(path: Path) -> Iterator[CaptureRecord]:
    number = 0
    try:
        with gzip.open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                line = line.rstrip(b"\r\n")
                if not line:
                    continue
                stamp, _, payload = line.partition(b" ")
                if not stamp.isdigit() or not payload:
                    raise CaptureError(path, number, "expected '<receive ns> <json>'")
                yield CaptureRecord(int(stamp), frame_stream(payload), payload)
    except (OSError, EOFError) as exc:
        raise CaptureError(path, number, f"not a readable gzip file: {exc}") from exc


def read_hftbacktest(paths: Iterable[Path]) -> Iterator[CaptureRecord]:
    """Read hftbacktest ``<ns> <json>`` gzip files, merged by receive time (day files of a capture).

    Raises:
        CaptureError: a line is not ``<ns> <json>`` or a file is not gzip.
    """
    yield from heapq.merge(*(_hftbacktest_file(Path(p)) for p in paths), key=lambda r: r[0])


def _cryptofeed_http(path: Path) -> Iterator[CaptureRecord]:
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        url, sep, rest = line.partition(b" -> ")
        stamp, sep2, body = rest.partition(b": ")
        if not sep or not sep2:
            raise CaptureError(path, number, "expected '<url> -> <ts>: <body>'")
        try:
            yield CaptureRecord(seconds_to_ns(stamp), url.decode(), body)
        except ValueError as exc:
            raise CaptureError(path, number, str(exc)) from None


def _cryptofeed_ws(path: Path) -> Iterator[CaptureRecord]:
    lines = path.read_bytes().splitlines()
    url = ""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if b" <-> " in line[:2000] and number == 1:
            url = line.partition(b" <-> ")[0].decode()
            continue
        if b" <- " in line[:2000].partition(b": ")[0]:
            continue  # a frame we sent
        stamp, sep, frame = line.partition(b": ")
        if not sep:
            raise CaptureError(path, number, "expected '<ts>: <frame>'")
        try:
            yield CaptureRecord(seconds_to_ns(stamp), url, frame)
        except ValueError as exc:
            raise CaptureError(path, number, str(exc)) from None


def _cryptofeed_v3(path: Path) -> list[CaptureRecord]:
    import zstandard

    records: list[CaptureRecord] = []
    addresses: dict[str, str] = {}  # connection -> the address it connected to
    with path.open("rb") as raw:
        text = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw), encoding="utf-8")
        for number, line in enumerate(text, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
                kind = doc.get("t")
                if kind == "connect":
                    addresses[str(doc.get("conn", ""))] = str(doc.get("addr", ""))
                if kind not in ("http", "recv"):
                    continue
                conn = str(doc.get("conn", ""))
                stream = doc["url"] if kind == "http" else addresses.get(conn) or conn
                data = doc["data"]
                payload = data.encode() if isinstance(data, str) else json.dumps(data).encode()
                records.append(CaptureRecord(seconds_to_ns(repr(doc["ts"])), stream, payload))
            except (ValueError, KeyError, TypeError) as exc:
                raise CaptureError(path, number, f"not a cryptofeed v3 record: {exc}") from None
    records.sort(key=lambda r: r[0])
    return records


def read_cryptofeed(paths: Iterable[Path]) -> Iterator[CaptureRecord]:
    """Read cryptofeed captures: v1 ``.http``/``.ws`` files and v3 ``.jsonl.zst``, merged by time.

    Raises:
        CaptureError: a line has none of the format's shapes.
    """
    sources: list[Iterator[CaptureRecord]] = []
    for path in (Path(p) for p in paths):
        name = path.name
        if name.endswith(".zst"):
            sources.append(iter(_cryptofeed_v3(path)))
        elif ".http." in name:
            sources.append(_cryptofeed_http(path))
        elif ".ws." in name:
            sources.append(_cryptofeed_ws(path))
        else:
            raise CaptureError(path, 0, "not a cryptofeed capture (*.http.N.0, *.ws.N.0, *.zst)")
    yield from heapq.merge(*sources, key=lambda r: r[0])


TARDIS_TABLES = ("trades", "quotes", "incremental_book_L2", "book_snapshot")


def tardis_table(header: list[str]) -> str:
    """Which Tardis table a CSV header belongs to (``book_snapshot_<N>`` with its depth).

    Raises:
        ValueError: the header is none of them.
    """
    cols = set(header)
    base = {"exchange", "symbol", "timestamp", "local_timestamp"}
    if not base <= cols:
        raise ValueError(f"not a Tardis CSV header: {','.join(header)}")
    if {"id", "side", "price", "amount"} <= cols:
        return "trades"
    if {"ask_amount", "ask_price", "bid_price", "bid_amount"} <= cols:
        return "quotes"
    if {"is_snapshot", "side", "price", "amount"} <= cols:
        return "incremental_book_L2"
    depth = sum(1 for c in header if c.startswith("asks[") and c.endswith("].price"))
    if depth:
        return f"book_snapshot_{depth}"
    raise ValueError(f"not a Tardis CSV header: {','.join(header)}")


def _tardis_file(path: Path) -> Iterator[CaptureRecord]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        header_line = handle.readline().rstrip(b"\r\n").decode()
        header = header_line.split(",")
        try:
            table = tardis_table(header)
        except ValueError as exc:
            raise CaptureError(path, 1, str(exc)) from None
        local = header.index("local_timestamp")
        stream = f"tardis:{table}"
        prev = -1
        for number, line in enumerate(handle, 2):
            line = line.rstrip(b"\r\n")
            if not line:
                continue
            fields = line.split(b",")
            if len(fields) != len(header) or not fields[local].isdigit():
                raise CaptureError(path, number, f"expected {len(header)} fields: {header_line}")
            recv = int(fields[local]) * 1000  # µs
            if recv < prev:
                raise CaptureError(path, number, "local_timestamp goes back in time")
            prev = recv
            yield CaptureRecord(recv, stream, line)


def tardis_header(path: Path) -> list[str]:
    """The header of a Tardis CSV file."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        return handle.readline().rstrip(b"\r\n").decode().split(",")


def read_tardis(paths: Iterable[Path]) -> Iterator[CaptureRecord]:
    """Tardis CSV files (plain or gzip), merged by ``local_timestamp``.

    Raises:
        CaptureError: a header or a row has the wrong shape.
    """
    yield from heapq.merge(*(_tardis_file(Path(p)) for p in paths), key=lambda r: r[0])


_BYBIT_TS = re.compile(rb'"ts"\s*:\s*(\d{1,16})')
_BYBIT_TOPIC = re.compile(rb'"topic"\s*:\s*"([^"\\]{1,100})"')


def _bybit_lines(path: Path) -> Iterator[bytes]:
    if path.name.endswith(".zip"):
        try:
            with zipfile.ZipFile(path) as archive:
                for name in sorted(archive.namelist()):
                    if not name.endswith("/"):
                        yield from archive.read(name).splitlines()
        except zipfile.BadZipFile as exc:
            raise CaptureError(path, 0, f"not a readable zip file: {exc}") from None
        return
    yield from path.read_bytes().splitlines()


def read_bybit_history(paths: Iterable[Path]) -> Iterator[CaptureRecord]:
    """Bybit historical order-book files (``*.data`` or ``*.data.zip``), file after file.

    Each line is one v5 message; its ``ts`` (ms) is taken as the receive time.

    Raises:
        CaptureError: a line names no ``topic`` or ``ts``.
    """
    for path in (Path(p) for p in paths):
        for number, line in enumerate(_bybit_lines(path), 1):
            line = line.strip()
            if not line:
                continue
            stamp = _BYBIT_TS.search(line)
            topic = _BYBIT_TOPIC.search(line, 0, 200)
            if stamp is None or topic is None:
                raise CaptureError(path, number, "expected a Bybit v5 message with topic and ts")
            stream = "bybit:" + topic.group(1).decode("utf-8", "replace")
            yield CaptureRecord(int(stamp.group(1)) * 1_000_000, stream, line)


def read_capture(source: str, paths: Iterable[Path]) -> Iterator[CaptureRecord]:
    """The records of ``paths`` in the format ``source`` (one of :data:`FORMATS`).

    Raises:
        ValueError: an unknown format.
        CaptureError: a file cannot be read.
    """
    if source == "hftbacktest":
        return read_hftbacktest(paths)
    if source == "cryptofeed":
        return read_cryptofeed(paths)
    if source == "tardis":
        return read_tardis(paths)
    if source == "bybit":
        return read_bybit_history(paths)
    raise ValueError(f"capture format {source!r} is not one of {', '.join(FORMATS)}")

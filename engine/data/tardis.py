"""Tardis CSV rows as catalog rows: trades, quotes, incremental L2 and book snapshots.

Tardis files are already normalized, so no venue sync runs: rows map onto the catalog directly.

- ``trades``: one trade row each; a non-numeric trade id (BitMEX uuids) becomes the row's
  1-based number in the file, and ``side`` is the taker's.
- ``incremental_book_L2``: consecutive rows with the same ``local_timestamp`` and ``is_snapshot``
  form one message; a snapshot message after updates starts a new book (a snapshot row), an
  update message is a delta row. Messages are numbered from 1 (``first_id = last_id``), so the
  rows are continuous by the spot rule.
- ``book_snapshot_<N>`` and ``quotes``: one snapshot row per line (``quotes`` with one level a
  side), numbered the same way.

Instruments are ``(exchange, symbol)`` of the rows (``--venue`` replaces the exchange name);
grids are given or inferred from every price and amount (:mod:`engine.data.grid`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from engine.core.events import BookDelta, BookSnapshot, Side, Trade
from engine.core.instruments import DecimalGrid, Instrument
from engine.data.captures import CaptureRecord
from engine.data.grid import StepScan
from engine.errors import InstrumentError

TardisRow = tuple[Instrument, BookSnapshot | BookDelta | Trade]


class TardisError(ValueError):
    """A Tardis row does not fit its table or grid; the message names the row."""


def _split(rec: CaptureRecord) -> list[str]:
    return rec.payload.decode().split(",")


def tardis_instruments(
    records: Sequence[CaptureRecord],
    headers: dict[str, list[str]],
    *,
    venue: str | None,
    tick: str | None,
    lot: str | None,
) -> tuple[list[Instrument], list[str]]:
    """(instruments, inferred-grid notes) of Tardis records; ``headers`` by stream."""
    scans: dict[tuple[str, str], tuple[StepScan, StepScan]] = {}
    for rec in records:
        header = headers[rec.stream]
        fields = _split(rec)
        key = (venue or fields[0], fields[1])
        price, size = scans.setdefault(key, (StepScan(), StepScan()))
        for name, value in zip(header, fields, strict=True):
            if not value:
                continue
            if name == "price" or name.endswith(("_price", "].price")):
                price.add(value)
            elif name == "amount" or name.endswith(("_amount", "].amount")):
                size.add(value)
    instruments: list[Instrument] = []
    notes: list[str] = []
    for n, ((exchange, symbol), (price, size)) in enumerate(scans.items()):
        tick_size = tick or price.step()
        lot_size = lot or size.step()
        if tick is None:
            notes.append(f"{exchange}:{symbol} tick_size {tick_size} inferred from the prices")
        if lot is None:
            notes.append(f"{exchange}:{symbol} lot_size {lot_size} inferred from the amounts")
        instruments.append(
            Instrument(
                venue=exchange,
                symbol=symbol,
                tick_size=tick_size,
                lot_size=lot_size,
                instrument_id=n,
            )
        )
    return instruments, notes


_EMPTY = np.empty(0, dtype=np.int64)


def _arr(values: list[int]) -> np.ndarray:
    return np.array(values, dtype=np.int64) if values else _EMPTY


class _Converter:
    def __init__(self, instruments: list[Instrument], venue: str | None) -> None:
        self.venue = venue
        self.by_key = {(i.venue, i.symbol): i for i in instruments}
        self.grids = {
            (i.venue, i.symbol): (
                DecimalGrid(i.tick_size, "price"),
                DecimalGrid(i.lot_size, "size"),
            )
            for i in instruments
        }
        self.trade_numbers: dict[str, int] = {}
        self.message_ids: dict[tuple[str, str], int] = {}

    def key(self, fields: list[str]) -> tuple[str, str]:
        return (self.venue or fields[0], fields[1])

    def ticks(self, key: tuple[str, str], price: str, size: str, where: str) -> tuple[int, int]:
        grid_p, grid_s = self.grids[key]
        try:
            return grid_p.to_int(price), grid_s.to_int(size)
        except InstrumentError as exc:
            raise TardisError(f"{where}: {exc}") from None

    def next_id(self, key: tuple[str, str]) -> int:
        n = self.message_ids.get(key, 0) + 1
        self.message_ids[key] = n
        return n


def tardis_rows(
    records: Iterable[CaptureRecord],
    headers: dict[str, list[str]],
    instruments: list[Instrument],
    *,
    venue: str | None = None,
) -> Iterator[TardisRow]:
    """Catalog rows of Tardis records, in order.

    Raises:
        TardisError: a value is off its grid or a side is unknown, naming the row.
    """
    conv = _Converter(instruments, venue)
    pending: list[tuple[CaptureRecord, list[str]]] = []
    for rec in records:
        table = rec.stream.removeprefix("tardis:")
        fields = _split(rec)
        if table == "incremental_book_L2":
            if pending and _message_key(pending[0][1]) != _message_key(fields):
                yield _l2_message(conv, pending, headers[rec.stream])
                pending = []
            pending.append((rec, fields))
            continue
        if pending:
            yield _l2_message(conv, pending, headers[pending[0][0].stream])
            pending = []
        header = headers[rec.stream]
        if table == "trades":
            yield _trade(conv, rec, dict(zip(header, fields, strict=True)))
        else:
            yield _snapshot_row(conv, rec, header, fields, table)
    if pending:
        yield _l2_message(conv, pending, headers[pending[0][0].stream])


def _message_key(fields: list[str]) -> tuple[str, str, str, str]:
    return fields[0], fields[1], fields[3], fields[4]  # exchange, symbol, local ts, is_snapshot


def _trade(conv: _Converter, rec: CaptureRecord, row: dict[str, str]) -> TardisRow:
    key = conv.key([row["exchange"], row["symbol"]])
    inst = conv.by_key[key]
    where = f"{inst.key} trade {row['id']}"
    price, size = conv.ticks(key, row["price"], row["amount"], where)
    number = conv.trade_numbers.get(inst.key, 0) + 1
    conv.trade_numbers[inst.key] = number
    side = row["side"]
    if side not in ("buy", "sell"):
        raise TardisError(f"{where}: side {side!r} is not buy or sell")
    return inst, Trade(
        instrument=inst.instrument_id,
        trade_id=int(row["id"]) if row["id"].isdigit() else number,
        price=price,
        size=size,
        aggressor=Side.BUY if side == "buy" else Side.SELL,
        exch_ts=int(row["timestamp"]) * 1000,
        recv_ts=rec.recv_ns,
    )


def _l2_message(
    conv: _Converter, rows: list[tuple[CaptureRecord, list[str]]], header: list[str]
) -> TardisRow:
    first = dict(zip(header, rows[0][1], strict=True))
    key = conv.key([first["exchange"], first["symbol"]])
    inst = conv.by_key[key]
    levels: dict[str, tuple[list[int], list[int]]] = {"bid": ([], []), "ask": ([], [])}
    for _, fields in rows:
        row = dict(zip(header, fields, strict=True))
        side = row["side"]
        if side not in levels:
            raise TardisError(f"{inst.key} L2 row at {row['local_timestamp']}: side {side!r}")
        price, size = conv.ticks(key, row["price"], row["amount"], f"{inst.key} L2 row")
        levels[side][0].append(price)
        levels[side][1].append(size)
    seq = conv.next_id(key)
    recv = rows[0][0].recv_ns
    exch = int(first["timestamp"]) * 1000
    bid_px, bid_sz = (_arr(v) for v in levels["bid"])
    ask_px, ask_sz = (_arr(v) for v in levels["ask"])
    if first["is_snapshot"] == "true":
        return inst, BookSnapshot(
            instrument=inst.instrument_id,
            update_id=seq,
            bid_px=bid_px,
            bid_sz=bid_sz,
            ask_px=ask_px,
            ask_sz=ask_sz,
            exch_ts=exch,
            recv_ts=recv,
        )
    return inst, BookDelta(
        instrument=inst.instrument_id,
        first_id=seq,
        last_id=seq,
        prev_id=-1,
        bid_px=bid_px,
        bid_sz=bid_sz,
        ask_px=ask_px,
        ask_sz=ask_sz,
        exch_ts=exch,
        recv_ts=recv,
    )


def _snapshot_row(
    conv: _Converter, rec: CaptureRecord, header: list[str], fields: list[str], table: str
) -> TardisRow:
    row = dict(zip(header, fields, strict=True))
    key = conv.key(fields)
    inst = conv.by_key[key]
    sides: dict[str, tuple[list[int], list[int]]] = {"bids": ([], []), "asks": ([], [])}
    if table == "quotes":
        pairs = [
            ("bids", row["bid_price"], row["bid_amount"]),
            ("asks", row["ask_price"], row["ask_amount"]),
        ]
    else:
        depth = int(table.rsplit("_", 1)[1])
        pairs = [
            (side, row[f"{side}[{i}].price"], row[f"{side}[{i}].amount"])
            for side in ("bids", "asks")
            for i in range(depth)
        ]
    for side, price_text, size_text in pairs:
        if not price_text or not size_text:
            continue  # a shallow book leaves the deeper columns empty
        price, size = conv.ticks(key, price_text, size_text, f"{inst.key} {table} row")
        sides[side][0].append(price)
        sides[side][1].append(size)
    seq = conv.next_id(key)
    return inst, BookSnapshot(
        instrument=inst.instrument_id,
        update_id=seq,
        bid_px=_arr(sides["bids"][0]),
        bid_sz=_arr(sides["bids"][1]),
        ask_px=_arr(sides["asks"][0]),
        ask_sz=_arr(sides["asks"][1]),
        exch_ts=int(row["timestamp"]) * 1000,
        recv_ts=rec.recv_ns,
    )

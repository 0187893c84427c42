from __future__ import annotations

import numpy as np
import pytest

from backtest.catalog import (
    Catalog,
    CatalogError,
    CorruptCatalogFile,
    CorruptFileWarning,
)
from engine.core.events import BookDelta, BookSnapshot, Side, Trade
from engine.core.instruments import Instrument
from engine.recorder import schema
from engine.recorder.writer import CatalogWriter

H = schema.HOUR_NS
T0 = 1_723_161_600_000_000_000  # 2024-08-09T00:00:00Z
BTC = Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.01", lot_size="0.00001")
ETH = Instrument(
    venue="binance-usdm", symbol="ETHUSDT", tick_size="0.01", lot_size="0.001", instrument_id=1
)


def arr(*values):
    """An int64 array of the values."""
    return np.array(values, dtype=np.int64)


def snap(inst, recv_ts, update_id):
    """A two-level snapshot of ``inst`` at ``update_id``."""
    return BookSnapshot(
        instrument=inst.instrument_id,
        update_id=update_id,
        bid_px=arr(100, 99),
        bid_sz=arr(1, 2),
        ask_px=arr(101, 102),
        ask_sz=arr(3, 4),
        exch_ts=0,
        recv_ts=recv_ts,
    )


def delta(inst, recv_ts, first, last, prev=-1):
    """A one-level diff."""
    return BookDelta(
        instrument=inst.instrument_id,
        first_id=first,
        last_id=last,
        prev_id=prev,
        bid_px=arr(100),
        bid_sz=arr(last),
        ask_px=arr(),
        ask_sz=arr(),
        exch_ts=recv_ts - 1000,
        recv_ts=recv_ts,
    )


def trade(inst, recv_ts, trade_id):
    """A sell-aggressor trade at 101 ticks."""
    return Trade(
        instrument=inst.instrument_id,
        trade_id=trade_id,
        price=101,
        size=1,
        aggressor=Side.SELL,
        exch_ts=recv_ts - 500,
        recv_ts=recv_ts,
    )


def write(root, events, source="live"):
    """Write the events through a CatalogWriter; returns the completed files."""
    writer = CatalogWriter(root, source=source)
    by_id = {BTC.instrument_id: BTC, ETH.instrument_id: ETH}
    for ev in events:
        inst = by_id[ev.instrument]
        if isinstance(ev, BookSnapshot):
            writer.write_snapshot(inst, ev)
        elif isinstance(ev, BookDelta):
            writer.write_delta(inst, ev)
        else:
            writer.write_trade(inst, ev)
    return writer.close()


def same(a, b):
    """Two events are equal field by field (arrays by value)."""
    assert type(a) is type(b)
    for field in a.__struct_fields__:
        x, y = getattr(a, field), getattr(b, field)
        if isinstance(x, np.ndarray):
            assert x.tolist() == y.tolist(), field
        else:
            assert x == y, field


@pytest.fixture
def events():
    """Two instruments over four hours, the third hour empty."""
    return [
        snap(BTC, T0 + 10, 5),
        snap(ETH, T0 + 11, 50),
        delta(BTC, T0 + 20, 6, 7),
        trade(BTC, T0 + 20, 1),
        delta(ETH, T0 + 20, 51, 52, prev=50),
        trade(ETH, T0 + 25, 2),
        delta(BTC, T0 + H + 5, 8, 9),  # next hour
        trade(BTC, T0 + 3 * H + 1, 3),  # hours 2 missing
    ]


def test_events_merge_in_time_order_across_instruments_and_files(tmp_path, events):
    """Events of two instruments and several files come back in receive-time order."""
    write(tmp_path, events)
    catalog = Catalog(tmp_path)
    got = list(catalog.events([BTC, ETH], T0, T0 + 4 * H))
    order = [events[i] for i in (0, 1, 2, 4, 3, 5, 6, 7)]  # ties: books first, then instruments
    assert len(got) == len(order)
    for a, b in zip(got, order, strict=True):
        same(a, b)


def test_range_bounds_and_instrument_ids(tmp_path, events):
    """The range is half-open and events carry the asked-for dense id."""
    write(tmp_path, events)
    catalog = Catalog(tmp_path)
    other_id = Instrument(
        venue="binance", symbol="BTCUSDT", tick_size="0.010", lot_size="0.00001", instrument_id=7
    )
    got = list(catalog.events([other_id], T0 + 20, T0 + H + 5))
    assert [type(e).__name__ for e in got] == ["BookDelta", "Trade"]
    assert {e.instrument for e in got} == {7}


def test_exchange_time_orders_by_exch_ts(tmp_path, events):
    """time="exch" orders and bounds by the venue time."""
    write(tmp_path, events)
    got = list(Catalog(tmp_path).events([BTC], T0 - 2000, T0 + H, time="exch"))
    # a snapshot with no venue time (0) goes by its receive time; rows of one file keep their
    # recorded order, so the book stays applicable even where venue time steps back
    assert [(type(e).__name__, e.recv_ts) for e in got] == [
        ("Trade", T0 + 20),
        ("BookSnapshot", T0 + 10),
        ("BookDelta", T0 + 20),
        ("BookDelta", T0 + H + 5),
    ]


def test_instruments_list_grid_and_span(tmp_path, events):
    """instruments() names each grid, its span and its file count."""
    write(tmp_path, events)
    found = Catalog(tmp_path).instruments()
    assert [(i.venue, i.symbol) for i in found] == [
        ("binance", "BTCUSDT"),
        ("binance-usdm", "ETHUSDT"),
    ]
    btc = found[0]
    assert (btc.tick_size, btc.lot_size) == ("0.01", "0.00001")
    assert btc.first_ts == T0 + 10
    assert btc.last_ts == T0 + 3 * H + 1
    assert btc.files == 4  # book h0, h1; trade h0, h3
    assert btc.instrument(3).instrument_id == 3


def test_coverage_reports_missing_hours_and_dates(tmp_path, events):
    """Coverage lists the hours and dates with and without data."""
    write(tmp_path, events)
    cov = Catalog(tmp_path).coverage("binance", "BTCUSDT", T0 - 2 * H, T0 + 4 * H)
    assert cov.hours_present == ["2024-08-09T00", "2024-08-09T01", "2024-08-09T03"]
    assert cov.hours_missing == ["2024-08-08T22", "2024-08-08T23", "2024-08-09T02"]
    assert cov.dates_present == ["2024-08-09"]
    assert cov.dates_missing == ["2024-08-08"]
    assert not cov.complete
    assert Catalog(tmp_path).coverage("binance", "BTCUSDT", T0, T0 + 2 * H).complete


def truncate(path):
    """Cut a file in half, as a crash or a full disk would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_a_truncated_file_is_refused_by_name(tmp_path, events):
    """on_corrupt="refuse" raises naming the truncated file."""
    files = write(tmp_path, events)
    victim = next(f for f in files if f.parts[len(tmp_path.parts)] == "trade")
    truncate(victim)
    catalog = Catalog(tmp_path)
    with pytest.raises(CorruptCatalogFile) as info:
        list(catalog.events([BTC], T0, T0 + 4 * H, on_corrupt="refuse"))
    assert info.value.path == victim
    assert str(victim) in str(info.value)


def test_a_truncated_file_is_skipped_with_a_warning(tmp_path, events):
    """on_corrupt="skip" warns, records the file and reads the rest."""
    files = write(tmp_path, events)
    victim = next(f for f in files if f.parts[len(tmp_path.parts)] == "trade")
    truncate(victim)
    catalog = Catalog(tmp_path)
    with pytest.warns(CorruptFileWarning, match=victim.name):
        got = list(catalog.events([BTC], T0, T0 + 4 * H))
    assert [type(e).__name__ for e in got] == ["BookSnapshot", "BookDelta", "BookDelta", "Trade"]
    assert [e.path for e in catalog.skipped] == [victim]


def test_a_grid_mismatch_is_refused(tmp_path, events):
    """Reading with another tick size than recorded is refused."""
    write(tmp_path, events)
    wrong = Instrument(venue="binance", symbol="BTCUSDT", tick_size="0.1", lot_size="0.00001")
    with pytest.raises(CatalogError, match=r"tick_size 0\.01"):
        list(Catalog(tmp_path).events([wrong], T0, T0 + H))


def test_temporaries_are_not_read(tmp_path, events):
    """A temporary left by a crash is not part of the catalog."""
    write(tmp_path, events)
    folder = next((tmp_path / "book").rglob("date=*"))
    (folder / f".00-{T0}.parquet.tmp").write_bytes(b"half a file")
    assert len(list(Catalog(tmp_path).events([BTC], T0, T0 + 4 * H))) == 5


def test_a_missing_root_is_an_error(tmp_path):
    """A catalog folder that does not exist is named."""
    with pytest.raises(CatalogError, match="does not exist"):
        Catalog(tmp_path / "nope")

from __future__ import annotations

import itertools

import pytest

from backtest.catalog import Catalog
from engine.core.events import BookDelta, BookSnapshot, Trade
from engine.data.captures import read_capture
from engine.data.importer import import_capture
from engine.data.replay import capture_lines, catalog_lines
from engine.data.sources import DataToolError, capture_instruments
from engine.data.venues import UnknownVenue, replayer
from tests.engine.data.handmade import clean_lines, write_capture


def direct_lines(source, paths, venue, top=5, **grid):
    """Replay lines straight from a capture."""
    records = list(read_capture(source, paths))
    found = capture_instruments(venue, records, **grid)
    return list(capture_lines(replayer(venue, found.instruments), records, top))


def test_a_handmade_capture_imports_and_replays_the_same(tmp_path):
    """Import then replay from the catalog prints what the capture replays to."""
    path = write_capture(tmp_path / "btcusdt_20240809.gz", clean_lines())
    report = import_capture("hftbacktest", [path], tmp_path / "cat")
    assert report.venue == "binance"
    assert report.instruments == [  # 100.75 and 0.25 are the finest values
        {"venue": "binance", "symbol": "BTCUSDT", "tick_size": "0.01", "lot_size": "0.01"}
    ]
    assert report.book_rows == 4  # the snapshot (with the buffered diff), then 3 diffs
    assert report.trade_rows == 1
    assert any("inferred" in note for note in report.inferred)
    direct = direct_lines("hftbacktest", [path], "binance")
    assert list(catalog_lines(tmp_path / "cat", "binance", 5)) == direct
    assert direct[0].startswith(b'{"venue":"binance","symbol":"BTCUSDT","seq":100,')
    assert b'"bids":[["100.00","1.00"],["99.50","2.00"]]' in direct[0]
    events = list(Catalog(tmp_path / "cat").events([_inst(report)], 0, 1 << 62))
    assert [type(e) for e in events] == [BookSnapshot, BookDelta, Trade, BookDelta, BookDelta]


def _inst(report):
    from engine.core.instruments import Instrument

    doc = report.instruments[0]
    return Instrument(
        venue=doc["venue"],
        symbol=doc["symbol"],
        tick_size=doc["tick_size"],
        lot_size=doc["lot_size"],
    )


def test_given_grids_win_over_inference(tmp_path):
    """--tick/--lot are used as given and nothing is said to be inferred."""
    path = write_capture(tmp_path / "c.gz", clean_lines())
    report = import_capture("hftbacktest", [path], tmp_path / "cat", tick="0.05", lot="0.0001")
    assert report.instruments[0]["tick_size"] == "0.05"
    assert report.inferred == []


def test_a_symbol_can_carry_its_own_grid(tmp_path):
    """--symbol SYMBOL:TICK:LOT gives one symbol its grid."""
    path = write_capture(tmp_path / "c.gz", clean_lines())
    report = import_capture(
        "hftbacktest", [path], tmp_path / "cat", symbols=["btcusdt:0.05:0.0005"]
    )
    assert report.instruments[0] == {
        "venue": "binance", "symbol": "BTCUSDT", "tick_size": "0.05", "lot_size": "0.0005"
    }  # fmt: skip
    with pytest.raises(DataToolError, match="--tick 'x'"):
        import_capture("hftbacktest", [path], tmp_path / "cat", symbols=["BTCUSDT:x:1"])


def test_a_grid_the_data_does_not_fit_is_named(tmp_path):
    """Prices off a given tick are reported as malformed, not rounded."""
    path = write_capture(tmp_path / "c.gz", clean_lines())
    report = import_capture("hftbacktest", [path], tmp_path / "cat", tick="1", lot="0.001")
    assert report.malformed > 0


def test_unknown_symbols_and_venues_are_named(tmp_path):
    """A symbol not in the capture, or a venue with no replayer, is an error naming it."""
    path = write_capture(tmp_path / "c.gz", clean_lines())
    with pytest.raises(DataToolError, match="ETHUSDT is not in the capture"):
        import_capture("hftbacktest", [path], tmp_path / "cat", symbols=["ETHUSDT"])
    with pytest.raises(UnknownVenue, match="no replayer for venue 'nowhere'"):
        import_capture("hftbacktest", [path], tmp_path / "cat", venue="nowhere")
    with pytest.raises(DataToolError, match="needs --symbol and a grid"):
        import_capture("hftbacktest", [path], tmp_path / "cat", venue="okx")


@pytest.mark.shared_data
def test_the_real_spot_pair_imports_and_replays_like_the_capture(shared_data, tmp_path):
    """Binance spot BTCUSDT, both day files: catalog replay equals the direct replay."""
    from engine.venues.binance.protocol import use_compiled_readers

    use_compiled_readers()
    spot = shared_data / "hftbacktest" / "spot"
    paths = [spot / "btcusdt_20240808.gz", spot / "btcusdt_20240809.gz"]
    report = import_capture("hftbacktest", paths, tmp_path / "cat")
    assert report.records == 99_574
    assert report.resyncs == {}
    assert report.malformed == 0
    assert report.trade_rows == 19_904
    assert report.instruments[0]["tick_size"] == "0.01"
    dates = {p.split("date=")[1].split("/")[0] for p in report.files}
    assert dates == {"2024-08-08", "2024-08-09"}  # rolled at the hour (and the day)
    direct = direct_lines("hftbacktest", paths, "binance", top=20)
    assert len(direct) == report.book_rows
    assert list(catalog_lines(tmp_path / "cat", "binance", 20)) == direct
    cov = Catalog(tmp_path / "cat").coverage(
        "binance", "BTCUSDT", 1_723_158_000_000_000_000, 1_723_168_800_000_000_000
    )
    assert cov.hours_present == ["2024-08-08T23", "2024-08-09T00"]
    assert cov.hours_missing == ["2024-08-09T01"]


@pytest.mark.shared_data
def test_futures_captures_import_with_the_futures_rules(shared_data, tmp_path):
    """USD-M (hftbacktest) and COIN-M (cryptofeed) import with no resync."""
    usdm = shared_data / "hftbacktest" / "usdm"
    report = import_capture(
        "hftbacktest", [usdm / "ethusdt_20240718.gz", usdm / "ethusdt_20240719.gz"], tmp_path / "a"
    )
    assert report.venue == "binance-usdm"
    assert report.resyncs == {}
    assert report.book_rows > 8000
    cf = shared_data / "cryptofeed"
    report = import_capture(
        "cryptofeed",
        [cf / "BINANCE_DELIVERY.http.0.0", cf / "BINANCE_DELIVERY.ws.1.0"],
        tmp_path / "b",
    )
    assert report.venue == "binance-coinm"
    assert report.resyncs == {}
    assert len(report.instruments) == 10
    assert {i.symbol for i in Catalog(tmp_path / "b").instruments()} >= {"BTCUSD_211231"}


@pytest.mark.shared_data
def test_tardis_files_import(shared_data, tmp_path):
    """Tardis trades and incremental L2 rows land as trade, snapshot and delta rows."""
    tardis = shared_data / "nautilus_trader" / "tardis"
    report = import_capture("tardis", [tardis / "trades.csv"], tmp_path / "t")
    assert report.trade_rows == 9_999
    assert report.instruments[0]["venue"] == "binance-futures"
    report = import_capture(
        "tardis", [tardis / "deribit_incremental_book_L2_BTC-PERPETUAL.csv"], tmp_path / "l2"
    )
    assert report.book_rows == 1  # all 15 rows are one snapshot message


@pytest.mark.shared_data
def test_a_plugged_in_venue_imports_from_its_rebuilt_books(shared_data, tmp_path):
    """OKX through its own replayer: the catalog replays to the capture's own lines."""
    paths = [shared_data / "cryptofeed" / "OKX.ws.1.0"]
    grid = {"symbols": ["BTC-USDT"], "tick": "0.1", "lot": "0.00000001"}
    report = import_capture("cryptofeed", paths, tmp_path / "cat", venue="okx", **grid)
    assert report.book_rows > 50
    direct = direct_lines("cryptofeed", paths, "okx", top=25, **grid)
    assert list(catalog_lines(tmp_path / "cat", "okx", 25)) == direct


@pytest.mark.shared_data
def test_tardis_snapshots_and_quotes_become_snapshot_rows(shared_data, tmp_path):
    """book_snapshot_N rows keep N levels a side; quotes keep the top of the book."""
    tardis = shared_data / "nautilus_trader" / "tardis"
    report = import_capture(
        "tardis", [tardis / "binance-futures_book_snapshot_5_BTCUSDT.csv"], tmp_path / "s"
    )
    assert report.book_rows == 10
    inst = _inst(report)
    (first, *_) = Catalog(tmp_path / "s").events([inst], 0, 1 << 62)
    assert isinstance(first, BookSnapshot)
    assert len(first.bid_px) == len(first.ask_px) == 5
    assert first.bid_px[0] < first.ask_px[0]
    report = import_capture("tardis", [tardis / "quotes.csv"], tmp_path / "q", venue="binance-usdm")
    assert report.book_rows == 9_999
    assert report.instruments[0]["venue"] == "binance-usdm"


@pytest.mark.shared_data
def test_cryptofeed_v3_records_come_in_time_order(shared_data):
    """The zstd JSON-lines capture is sorted across its connections; frames are strings."""
    records = list(
        read_capture("cryptofeed", [shared_data / "cryptofeed-v3" / "COINBASE.jsonl.zst"])
    )
    assert all(a.recv_ns <= b.recv_ns for a, b in itertools.pairwise(records))
    assert any(r.stream.startswith("https://") for r in records)  # the REST products answer
    assert sum(b'"l2_data"' in r.payload[:80] for r in records) > 700

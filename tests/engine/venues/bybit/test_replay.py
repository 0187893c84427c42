"""The Bybit replayer behind ``hft-tui data``: the real captures replayed, imported and validated.

The cryptofeed v3 capture carries a linear and a spot socket with the same symbols: each
category's replayer takes its own socket's frames only. Importing into the catalog and replaying
the catalog prints the same lines as replaying the capture itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.instruments import Instrument
from engine.data.captures import read_capture
from engine.data.importer import import_capture
from engine.data.replay import capture_lines, capture_updates, catalog_lines
from engine.data.validate import validate_path
from engine.data.venues import replayer
from engine.venues.binance.protocol import use_compiled_readers
from engine.venues.bybit.replay import BybitReplay, category_of
from tests.engine.venues.bybit.captures import XRPUSDT, BybitSession

pytestmark = pytest.mark.shared_data

_SYMBOLS = {
    "linear": ["BTCUSDT", "ETHUSDT", "SOLUSDT", "DOGEUSDT"],
    "spot": ["BTCUSDT", "ETHUSDT"],
}


@pytest.fixture(autouse=True, scope="module")
def _compiled() -> None:
    use_compiled_readers()


def _specs(instruments: list[Instrument]) -> list[str]:
    return [f"{i.symbol}:{i.tick_size}:{i.lot_size}" for i in instruments]


def _v3(shared: Path) -> Path:
    return shared / "cryptofeed-v3" / "BYBIT.jsonl.zst"


def _zip(shared: Path) -> Path:
    return shared / "nautilus_trader" / "bybit" / "xrpusdt-ob500.data.zip"


@pytest.mark.parametrize("category", ["linear", "spot"])
def test_each_category_replays_its_own_socket_without_a_gap(shared_data: Path, category: str):
    """2148 book messages over 6 books: linear 1598 of them, spot 550, no resync, never crossed."""
    instruments = BybitSession(shared_data).instruments(category, _SYMBOLS[category])
    rep = replayer(f"bybit-{category}", instruments)
    assert isinstance(rep, BybitReplay)
    records = list(read_capture("cryptofeed", [_v3(shared_data)]))
    updates = 0
    for update in capture_updates(rep, records):
        updates += 1
        assert not update.book.is_crossed()
        assert update.seq == rep.syncs[update.instrument.instrument_id].update_id
    assert updates == rep.stats.applied == {"linear": 1598, "spot": 550}[category]
    assert not rep.stats.resyncs
    assert rep.stats.malformed == 0
    assert rep.stats.trades > 0
    assert all(sync.snapshots >= 1 for sync in rep.syncs.values())


def test_the_other_categorys_socket_is_not_taken(shared_data: Path):
    """Linear frames to the linear replayer; a stream naming no socket is taken."""
    rep = BybitReplay(BybitSession(shared_data).instruments("linear", ["BTCUSDT"]))
    assert rep.accepts_stream("wss://stream.bybit.com/v5/public/linear")
    assert not rep.accepts_stream("wss://stream.bybit.com/v5/public/spot")
    assert rep.accepts_stream("bybit:orderbook.500.XRPUSDT")  # a stream that does not say


def test_a_replay_takes_one_bybit_venue():
    """No instruments, or a venue that is not Bybit, is refused by name."""
    with pytest.raises(ValueError, match="one venue"):
        BybitReplay([])
    with pytest.raises(ValueError, match="not a Bybit venue"):
        category_of("okx")
    assert category_of("bybit") == "linear"


@pytest.mark.parametrize("category", ["linear", "spot"])
def test_catalog_replay_equals_the_capture_replay(shared_data: Path, tmp_path: Path, category: str):
    """Import into the catalog, replay the catalog: the same lines as the capture."""
    venue = f"bybit-{category}"
    instruments = BybitSession(shared_data).instruments(category, _SYMBOLS[category])
    path = _v3(shared_data)
    records = list(read_capture("cryptofeed", [path]))
    direct = list(capture_lines(replayer(venue, instruments), records, 5))
    report = import_capture(
        "cryptofeed", [path], tmp_path / "cat", venue=venue, symbols=_specs(instruments)
    )
    assert report.book_rows == len(direct)
    assert not report.resyncs
    assert list(catalog_lines(tmp_path / "cat", venue, 5)) == direct
    checked = validate_path([tmp_path / "cat"])  # spot's books go quiet for over 1 s at times
    assert {p.kind for p in checked.problems} <= {"time_gap"}


def test_the_historical_download_replays_imports_and_validates(shared_data: Path, tmp_path: Path):
    """1 snapshot and 49 deltas, u 20254869 to 20254918; the message's ts stands for receipt."""
    path = _zip(shared_data)
    records = list(read_capture("bybit", [path]))
    assert len(records) == 50
    assert records[0].stream == "bybit:orderbook.500.XRPUSDT"
    assert records[0].recv_ns == 1733011200691 * 1_000_000
    direct = list(capture_lines(replayer("bybit-linear", [XRPUSDT]), records, 3))
    assert len(direct) == 50
    assert b'"seq":20254869' in direct[0]
    assert b'"seq":20254918' in direct[-1]
    report = import_capture(
        "bybit", [path], tmp_path / "cat", venue="bybit-linear", symbols=_specs([XRPUSDT])
    )
    assert report.book_rows == 50
    assert list(catalog_lines(tmp_path / "cat", "bybit-linear", 3)) == direct
    checked = validate_path([path], venue="bybit-linear", symbols=_specs([XRPUSDT]))
    assert checked.ok
    assert validate_path([tmp_path / "cat"]).ok


def test_validate_finds_nothing_wrong_in_the_v3_capture(shared_data: Path):
    """The linear socket: no gap, duplicate, crossed book or bad size."""
    instruments = BybitSession(shared_data).instruments("linear", _SYMBOLS["linear"])
    report = validate_path([_v3(shared_data)], venue="bybit-linear", symbols=_specs(instruments))
    assert report.ok, report.problems

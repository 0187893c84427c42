"""The catalog as a backtest source: the same run as from the capture, gaps and corrupt files."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from backtest.capture import CaptureSource
from backtest.catalog import CorruptFileWarning
from backtest.catalog_source import CatalogSource
from backtest.errors import CorruptDataError, DataRangeError
from backtest.runner import run_backtest
from engine.core.events import BookDelta, BookSnapshot, Trade
from engine.recorder.writer import CatalogWriter
from tests.backtest.runs import S, btc_capture, short_config

pytestmark = pytest.mark.shared_data


@pytest.fixture(autouse=True)
def _quiet() -> None:
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CaptureSource]:
    """The first 150 s of the BTCUSDT capture written to a catalog."""
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"captured exchange data not found at {SHARED_DATA}")
    source = CaptureSource([btc_capture(SHARED_DATA)])
    root = tmp_path_factory.mktemp("catalog")
    first, _ = source.span()
    writer = CatalogWriter(root, source="hftbacktest")
    inst = source.instruments[0]
    for _, event in source.events(first + 150 * S, "recv"):
        if isinstance(event, BookSnapshot):
            writer.write_snapshot(inst, event)
        elif isinstance(event, BookDelta):
            writer.write_delta(inst, event)
        elif isinstance(event, Trade):
            writer.write_trade(inst, event)
    writer.close()
    return root, source


def test_a_run_from_the_catalog_equals_the_run_from_the_capture(catalog):
    """Same events, same orders, same fills."""
    root, capture = catalog
    config = short_config(capture, seconds=120)
    from_capture = run_backtest(config, capture)
    from_catalog = run_backtest(config, CatalogSource(root, ["binance:BTCUSDT"], "refuse"))
    assert from_catalog.book_events == from_capture.book_events
    assert [b.fill for b in from_catalog.fills] == [b.fill for b in from_capture.fills]
    assert len(from_catalog.fills) > 10


def test_hours_outside_the_catalog_are_reported_before_the_run(catalog):
    """A range starting two hours early names the missing hours and the gap before the data."""
    root, capture = catalog
    first, _ = capture.span()
    source = CatalogSource(root, ["BTCUSDT"], "refuse")
    config = short_config(capture, start_ns=first - 2 * 3600 * S)
    with pytest.raises(DataRangeError, match="binance:BTCUSDT before 2024-08-08T23:54:14"):
        run_backtest(config, source)
    with pytest.raises(DataRangeError, match="ETHUSDT is not in the catalog"):
        CatalogSource(root, ["ETHUSDT"], "refuse")


def test_a_corrupt_file_refuses_the_run_or_is_skipped_by_name(catalog, tmp_path: Path):
    """``refuse`` names the file; ``skip`` warns with its name and runs on the rest."""
    root, capture = catalog
    book = next((root / "book").rglob("*.parquet"))
    bad = book.with_name(f"{book.name.split('-')[0]}-{int(book.stem.split('-')[1]) + 1}.parquet")
    bad.write_bytes(b"PAR1 this is not parquet")
    try:
        config = short_config(capture, seconds=120)
        with pytest.raises(CorruptDataError, match=bad.name):
            run_backtest(config, CatalogSource(root, [], "refuse"))
        with pytest.warns(CorruptFileWarning, match=bad.name):
            result = run_backtest(config, CatalogSource(root, [], "skip"))
        assert result.book_events > 1000
    finally:
        bad.unlink()

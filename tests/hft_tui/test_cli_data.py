from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from backtest.catalog import Catalog
from hft_tui.cli import cli
from tests.conftest import REPO
from tests.engine.data.handmade import clean_lines, faulty_lines, write_capture

runner = CliRunner()


def test_import_validate_and_replay_through_the_cli(tmp_path):
    """`data import` writes the catalog and says which grids it inferred; replay prints lines."""
    capture = write_capture(tmp_path / "btcusdt_20240809.gz", clean_lines())
    catalog = tmp_path / "cat"
    result = runner.invoke(
        cli, ["data", "import", "--from", "hftbacktest", "--catalog", str(catalog), str(capture)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["book_rows"] == 4
    assert "tick_size 0.01 inferred" in result.stderr
    direct = runner.invoke(
        cli,
        [
            "data",
            "replay",
            "--source",
            "hftbacktest",
            "--venue",
            "binance",
            "--top",
            "2",
            str(capture),
        ],
    )
    assert direct.exit_code == 0, direct.output
    from_catalog = runner.invoke(
        cli,
        ["data", "replay", "--source", "catalog", "--venue", "binance", "--top", "2", str(catalog)],
    )
    assert from_catalog.exit_code == 0, from_catalog.output
    assert from_catalog.stdout == direct.stdout
    first = json.loads(direct.stdout.splitlines()[0])
    assert first == {
        "venue": "binance",
        "symbol": "BTCUSDT",
        "seq": 100,
        "ts_recv": 1723161600002000000,
        "bids": [["100.00", "1.00"], ["99.50", "2.00"]],
        "asks": [["100.50", "1.50"], ["101.00", "3.00"]],
    }
    valid = runner.invoke(cli, ["data", "validate", str(catalog)])
    assert valid.exit_code == 0, valid.output
    assert json.loads(valid.stdout)["ok"] is True


def test_validate_reports_problems_as_json(tmp_path):
    """A faulty capture's report lists every problem."""
    capture = write_capture(tmp_path / "f.gz", faulty_lines())
    result = runner.invoke(cli, ["data", "validate", str(capture)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    assert set(doc["problem_counts"]) == {
        "duplicate",
        "time_gap",
        "gap",
        "bad_size",
        "out_of_order",
    }


def test_bad_options_are_named(tmp_path):
    """An unknown format, a missing file, a missing grid: one line, exit code 1 or 2."""
    capture = write_capture(tmp_path / "c.gz", clean_lines())
    result = runner.invoke(
        cli, ["data", "import", "--from", "zipline", "--catalog", str(tmp_path), str(capture)]
    )
    assert result.exit_code == 2
    assert "--from 'zipline' is not one of" in result.stderr
    result = runner.invoke(
        cli, ["data", "import", "--from", "hftbacktest", "--catalog", str(tmp_path), "nope.gz"]
    )
    assert result.exit_code == 2
    assert "no such capture file: nope.gz" in result.stderr
    result = runner.invoke(
        cli, ["data", "replay", "--source", "hftbacktest", "--venue", "okx", str(capture)]
    )
    assert result.exit_code == 1
    assert "needs --symbol and a grid" in result.stderr


@pytest.mark.integration
def test_record_writes_the_local_venue_into_the_catalog(tmp_path):
    """hft-tui record against the built-in local venue for a few seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HFT__")}
    env["HFT__ENGINE__STATE_DIR"] = str(tmp_path / "state")
    env["HFT__SIM__DEPTH_INTERVAL_MS"] = "20"
    catalog = tmp_path / "cat"
    done = subprocess.run(
        [sys.executable, "-m", "hft_tui", "record", "--catalog", str(catalog), "--duration", "6"],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    stats = json.loads(done.stdout.decode()[done.stdout.decode().index("{\n") :])
    assert stats["dropped"] == 0
    assert stats["files_written"] >= 3
    cat = Catalog(catalog)
    assert {f.kind for f in cat.files()} == {"book", "trade", "raw"}
    (inst,) = cat.instruments()
    assert (inst.venue, inst.symbol) == ("sim", "BTCUSDT")

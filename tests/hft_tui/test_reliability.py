"""The reliability table: rows render as aligned columns and survive the JSON round trip."""

from __future__ import annotations

from hft_tui.reliability import FaultRow, load_rows, render_table, write_rows


def _row(**changes) -> FaultRow:
    doc = {
        "fault": "sequence gap",
        "detected_by": "feed: gap counter",
        "detected_s": 0.01,
        "recovered_s": 0.25,
        "orders_lost": 0,
        "data_lost": 0,
        "outcome": "passed",
    }
    doc.update(changes)
    return FaultRow(**doc)


def test_table_has_a_header_a_rule_and_one_line_per_row():
    """Every row is one line under the header, with seconds and counts as text."""
    table = render_table([_row(), _row(fault="oversized frame", recovered_s=None, data_lost=None)])
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["fault", "detected", "in"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert "0.25 s" in lines[2]
    assert lines[3].startswith("oversized frame")
    assert " - " in lines[3]  # not recovered
    assert " ? " in lines[3]  # not measured


def test_rows_round_trip_through_the_report_file(tmp_path):
    """What the suite writes, the command reads back unchanged; no file means no rows."""
    path = tmp_path / "rows.json"
    assert load_rows(path) == []
    rows = [_row(), _row(fault="429 then 418")]
    write_rows(path, rows)
    assert load_rows(path) == rows

"""Disk fault: the recorder's catalog folder cannot be written, then can again.

The engine trades on: orders, fills and position equal the venue's and the journal (on another
disk) is untouched. The recorder counts and alerts the failed writes, keeps absorbing the feed
in its queue, and writes again once the folder is usable. Market data taken from the queue into
a file that could not be written is lost, counted as ``rows_lost``; that is the table's
"data lost" for this fault, the one row where it is allowed (recorded data, never trading data).
"""

from __future__ import annotations

import asyncio

import pytest

from tests.reliability.conftest import until

pytestmark = pytest.mark.integration


@pytest.fixture
def desk_env(tmp_path):
    """The recorder on, its catalog under a path whose parent is a file: every write fails."""
    (tmp_path / "disk").write_text("a file where the catalog folder should be\n")
    return {
        "HFT__RECORDER__ENABLED": "true",
        "HFT__RECORDER__ROOT": str(tmp_path / "disk" / "catalog"),
    }


async def test_recorder_target_unwritable_then_back(desk, fault, tmp_path):
    """Writes fail and are alerted, trading goes on; the folder back, writing resumes."""
    engine = desk.engine
    recorder = engine.recorder
    assert recorder is not None
    recorder.writer.row_group_rows = 20  # hand rows to the disk every few frames
    bid, _ = desk.touch()
    cid = desk.place(side="buy", size="0.001", price=desk.price(bid - 2000))
    fault.inject("recorder target unwritable (catalog folder blocked)")
    await until(lambda: recorder.stats().write_errors > 0, "a failed catalog write")
    fault.detected("recorder: write error counted, alerted, retried")
    assert "disk" in recorder.stats().last_error
    await until(lambda: any("recorder" in a.source for a in engine.oms.alerts), "an alert", 5)
    taker = desk.place(side="buy", size="0.001", type="market")
    await desk.settled("orders to work while the disk is bad")
    (tmp_path / "disk").unlink()
    errors = recorder.stats().write_errors
    await until(lambda: recorder.stats().open_files > 0, "writing to resume")
    await asyncio.sleep(1.5)  # past the writer's pause after a failure
    assert recorder.stats().write_errors <= errors + 1
    fault.recovered()
    stats = recorder.stats()
    assert stats.running
    assert stats.dropped == 0  # the queue absorbed the feed throughout
    await desk.settled()
    assert engine.oms.orders[cid].is_open
    assert not engine.oms.orders[taker].is_open
    fault.orders_lost, fault.data_lost = len(desk.mismatches()), stats.rows_lost
    assert fault.orders_lost == 0

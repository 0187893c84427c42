"""HealthScreen: the recorder's line, from the ``recorder`` part of ``GET /status``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hft_tui.control_desk import ControlDesk
from tests.hft_tui.pilot import show_mode, text_of, wait_until


class RecordingDesk(ControlDesk):
    """A control plane whose engine records into the catalog, with drops and an error."""

    def status(self) -> dict[str, Any]:
        """The usual document plus the recorder's stats."""
        doc = super().status()
        doc["recorder"] = {
            "files_written": 12,
            "rows_written": 34_567,
            "dropped": 89,
            "queue_depth": 10,
            "queue_capacity": 100_000,
            "write_errors": 2,
            "last_error": "disk full",
        }
        return doc


@pytest.fixture
def control_desk() -> ControlDesk:
    """The recording control plane."""
    return RecordingDesk()


async def test_the_recorder_line_shows_files_rows_drops_and_errors(app, publisher, control):
    """Files, rows, drops and queue on one line; errors with the last one on the next."""
    async with app.run_test() as pilot:
        screen = await show_mode(pilot, "h", "health")
        await wait_until(pilot, lambda: "recorder" in text_of(screen, "#health"), "the recorder")
        lines = text_of(screen, "#health").splitlines()
        (line,) = [x for x in lines if x.split()[:2] == ["recorder", "12"]]
        assert line.split()[1:] == [
            "12", "files", "34.5k", "rows", "dropped", "89", "queue", "10/100k"
        ]  # fmt: skip
        (errors,) = [x for x in lines if x.strip().startswith("write errors")]
        assert errors.split()[2:] == ["2", "disk", "full"]

from __future__ import annotations

import json

import pytest

from engine.core.clock import SimClock
from engine.risk.circuit_breaker import (
    UNCLEAN_STOP,
    UNREADABLE_STATE,
    BreakerStateError,
    CircuitBreaker,
)


def test_first_start_trades_and_a_clean_stop_is_remembered(tmp_path):
    """A fresh state folder trades; after a clean stop the next start trades too."""
    breaker = CircuitBreaker(tmp_path / "s", SimClock())
    assert breaker.open(pid=100) is False
    assert not breaker.tripped
    breaker.close()
    again = CircuitBreaker(tmp_path / "s", SimClock())
    assert again.open(pid=101) is False
    assert not again.tripped


def test_unclean_stop_starts_halted(tmp_path):
    """A previous run that never closed makes the next start halted with the unclean-stop reason."""
    CircuitBreaker(tmp_path, SimClock()).open(pid=100)  # never closed: a crash
    clock = SimClock(5_000)
    breaker = CircuitBreaker(tmp_path, clock)
    assert breaker.open(pid=200) is True
    assert breaker.tripped
    assert breaker.reason == UNCLEAN_STOP
    assert breaker.since_ns == 5_000


def test_trip_is_idempotent_persisted_and_survives_restart(tmp_path):
    """The first trip's reason and time stay; the state file says so before trip returns."""
    clock = SimClock(1_000)
    breaker = CircuitBreaker(tmp_path, clock)
    breaker.open(pid=1)
    assert breaker.trip("kill switch (ui)") is True
    clock.advance(10)
    assert breaker.trip("daily loss") is False
    on_disk = json.loads((tmp_path / "breaker.json").read_text())
    assert on_disk["tripped"] is True
    assert on_disk["reason"] == "kill switch (ui)"
    assert on_disk["since_ns"] == 1_000
    breaker.close()
    again = CircuitBreaker(tmp_path, clock)
    again.open(pid=2)
    assert again.reason == "kill switch (ui)"


def test_reset_re_enables_and_only_when_tripped(tmp_path):
    """Reset clears a trip (persisted) and reports False when nothing was tripped."""
    breaker = CircuitBreaker(tmp_path, SimClock())
    breaker.open(pid=1)
    assert breaker.reset("op") is False
    breaker.trip("kill switch (ui)")
    assert breaker.reset("op") is True
    assert not breaker.tripped
    assert json.loads((tmp_path / "breaker.json").read_text())["tripped"] is False


def test_state_file_is_owner_only(tmp_path):
    """The breaker's file is created 0600 in a 0700 folder."""
    breaker = CircuitBreaker(tmp_path / "s", SimClock())
    breaker.open(pid=1)
    assert (tmp_path / "s" / "breaker.json").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "s").stat().st_mode & 0o777 == 0o700


def test_corrupt_state_file_starts_halted_and_is_kept(tmp_path):
    """A corrupt breaker.json is kept aside for inspection and the engine starts halted."""
    (tmp_path / "breaker.json").write_text("{not json")
    breaker = CircuitBreaker(tmp_path, SimClock(7))
    breaker.open(pid=1)
    assert breaker.tripped
    assert breaker.reason == UNREADABLE_STATE
    assert (tmp_path / "breaker.json.corrupt-7").read_text() == "{not json"


def test_unreadable_state_folder_is_an_error_naming_the_file(tmp_path):
    """A state path that cannot be read at all stops start-up with the file named."""
    (tmp_path / "breaker.json").mkdir()  # a folder where the file should be
    with pytest.raises(BreakerStateError, match=r"breaker\.json"):
        CircuitBreaker(tmp_path, SimClock()).open(pid=1)

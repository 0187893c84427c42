"""Segment names, instance records, liveness and the sweep after a crash."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid

import pytest

from engine.errors import InstanceRunning, SegmentError
from engine.ipc.ring import Ring
from engine.ipc.segments import (
    SHM_DIR,
    InstanceInfo,
    create_segment,
    list_instances,
    pid_alive,
    publish_instance,
    read_instance,
    remove_instance,
    runtime_dir,
    segment_name,
    sweep_stale,
    unlink_segment,
)
from engine.ipc.state_page import StatePage


@pytest.fixture
def instance():
    """A unique instance name; its segments are removed afterwards whatever the test did."""
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    for role in ("events", "commands", "engine", "book-0", "book-1"):
        unlink_segment(segment_name(name, role))
    unlink_segment(segment_name(f"{name}-x", "events"))


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def info_for(instance: str, pid: int, segments: list[str]) -> InstanceInfo:
    """An instance record as an engine would publish it."""
    return InstanceInfo(
        instance=instance,
        pid=pid,
        started_ns=1,
        control_url="http://127.0.0.1:1",
        symbols=["BTCUSDT"],
        segments=segments,
    )


def test_segment_name_is_per_user_and_instance():
    """Names carry the uid, the instance and the role, with no slash."""
    assert segment_name("paper-1", "book-3") == f"hft-{os.getuid()}-paper-1-book-3"


@pytest.mark.parametrize(
    ("instance", "role"),
    [("", "events"), ("a/b", "events"), ("x" * 33, "events"), ("a", "Events"), ("a", "book-x")],
)
def test_segment_name_rejects_bad_names(instance, role):
    """Instance names outside the config's pattern and unknown role shapes are ValueErrors."""
    with pytest.raises(ValueError, match="must"):
        segment_name(instance, role)


def test_runtime_dir_is_private_and_under_xdg_runtime_dir(runtime):
    """The runtime directory is created under $XDG_RUNTIME_DIR with mode 0700."""
    path = runtime_dir()
    assert path == runtime
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_runtime_dir_tightens_a_loose_mode(runtime):
    """An existing runtime directory with a loose mode is narrowed back to 0700."""
    runtime.mkdir(mode=0o755)
    runtime.chmod(0o755)
    assert stat.S_IMODE(runtime_dir().stat().st_mode) == 0o700


def test_runtime_dir_refuses_a_symlink(runtime, tmp_path):
    """A symlink in place of the runtime directory is refused rather than followed."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    runtime.symlink_to(target)
    with pytest.raises(SegmentError, match="refusing"):
        runtime_dir()


def test_published_record_reads_back_and_is_owner_only(runtime, instance):
    """publish_instance writes a 0600 record that read_instance returns unchanged."""
    info = info_for(instance, os.getpid(), [segment_name(instance, "events")])
    path = publish_instance(info)
    assert path == runtime / f"{instance}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_instance(instance) == info
    assert [p.name for p in runtime.iterdir()] == [f"{instance}.json"]  # no temp file left


def test_read_instance_without_a_record_is_none(runtime, instance):
    """No record means None, not an error."""
    assert read_instance(instance) is None


def test_an_unreadable_record_is_a_segment_error_naming_the_file(runtime, instance):
    """A record that is not valid JSON raises SegmentError with its path."""
    runtime_dir()
    (runtime / f"{instance}.json").write_text("{not json")
    with pytest.raises(SegmentError, match=f"{instance}.json"):
        read_instance(instance)


def test_remove_instance_is_idempotent(runtime, instance):
    """Removing a record twice is harmless."""
    publish_instance(info_for(instance, os.getpid(), []))
    remove_instance(instance)
    remove_instance(instance)
    assert read_instance(instance) is None


def test_list_instances_keeps_only_live_engines(runtime, instance):
    """list_instances returns records whose pid runs and skips dead or unreadable ones."""
    publish_instance(info_for(instance, os.getpid(), []))
    publish_instance(info_for(f"{instance}-x", dead_pid(), []))
    (runtime / "garbage.json").write_text("[]")
    assert [i.instance for i in list_instances()] == [instance]


def test_pid_alive_for_this_process_and_not_for_a_reaped_one():
    """This process is alive; an exited and reaped child, pid 0 and negatives are not."""
    assert pid_alive(os.getpid())
    assert not pid_alive(dead_pid())
    assert not pid_alive(0)
    assert not pid_alive(-1)


def test_a_zombie_is_not_alive():
    """A child that exited but was not reaped yet counts as dead."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # wait for the exit, leave it unreaped
    try:
        assert not pid_alive(proc.pid)
    finally:
        proc.wait()


def test_sweep_after_a_crash_removes_segments_and_record(runtime, instance):
    """A record with a dead pid: its segments and the record are removed and reported."""
    events = Ring.create(segment_name(instance, "events"), 4096)
    page = StatePage.create(segment_name(instance, "book-0"), 1024)
    names = [events.name, page.name]
    events.close()
    page.close()
    publish_instance(info_for(instance, dead_pid(), names))
    assert sweep_stale(instance) == sorted(names)
    assert not any((SHM_DIR / name).exists() for name in names)
    assert read_instance(instance) is None


def test_sweep_refuses_a_live_instance_and_touches_nothing(runtime, instance):
    """A record whose pid runs raises InstanceRunning and leaves segments and record alone."""
    with Ring.create(segment_name(instance, "events"), 4096) as ring:
        publish_instance(info_for(instance, os.getpid(), [ring.name]))
        with pytest.raises(InstanceRunning) as caught:
            sweep_stale(instance)
        assert caught.value.pid == os.getpid()
        assert (SHM_DIR / ring.name).exists()
        assert read_instance(instance) is not None


def test_sweep_without_a_record_removes_only_this_instances_leftovers(runtime, instance):
    """With no record, segments named for the instance go; another instance's stay."""
    ours = segment_name(instance, "commands")
    theirs = segment_name(f"{instance}-x", "events")  # a longer name sharing our prefix
    create_segment(ours, 4096).close()
    create_segment(theirs, 4096).close()
    assert sweep_stale(instance) == [ours]
    assert not (SHM_DIR / ours).exists()
    assert (SHM_DIR / theirs).exists()


def test_sweep_with_nothing_left_is_a_no_op(runtime, instance):
    """Sweeping an instance that left nothing returns an empty list."""
    assert sweep_stale(instance) == []


def test_sweep_ignores_foreign_names_in_a_record(runtime, instance, segment):
    """Names in a record that this instance could not have made are never unlinked."""
    create_segment(segment, 4096).close()
    publish_instance(info_for(instance, dead_pid(), [segment]))
    assert sweep_stale(instance) == []
    assert (SHM_DIR / segment).exists()


def test_unlink_segment_reports_whether_it_removed_something(segment):
    """unlink_segment is True when it removed the segment, False when there was none."""
    create_segment(segment, 64).close()
    assert unlink_segment(segment) is True
    assert unlink_segment(segment) is False


@pytest.mark.parametrize("name", ["", "a/b", "../etc", "x" * 201])
def test_segment_names_with_slashes_or_no_length_are_refused(name):
    """Segment names that could escape /dev/shm or are empty are ValueErrors."""
    with pytest.raises(ValueError, match="segment name"):
        unlink_segment(name)

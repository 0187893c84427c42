import json

import pytest

from engine.oms.ids import ClientOrderIds, OrderIdStateError


def test_ids_count_up_from_one(tmp_path):
    """A fresh instance issues <instance>-1, <instance>-2, ... and reserves a block on disk."""
    ids = ClientOrderIds("mm-1", tmp_path / "ids.json")
    assert [ids.next_id() for _ in range(3)] == ["mm-1-1", "mm-1-2", "mm-1-3"]
    assert json.loads((tmp_path / "ids.json").read_text()) == {"instance": "mm-1", "reserved": 1000}


def test_restart_issues_strictly_greater_ids(tmp_path):
    """A new object on the same file never reissues an id, even after an unclean stop."""
    path = tmp_path / "ids.json"
    seen: list[int] = []
    for _ in range(4):
        ids = ClientOrderIds("eng", path, block=7)
        for _ in range(10):
            counter = ids.counter_of(ids.next_id())
            assert counter is not None
            seen.append(counter)
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)
    assert seen[10] > seen[9]


def test_reservation_happens_before_the_block_is_used(tmp_path):
    """The file always covers every id issued so far."""
    path = tmp_path / "ids.json"
    ids = ClientOrderIds("eng", path, block=3)
    for _ in range(8):
        counter = ids.counter_of(ids.next_id())
        assert counter is not None
        assert json.loads(path.read_text())["reserved"] >= counter
    assert ids.last_counter == 8


def test_missing_directory_is_created(tmp_path):
    """The state file's directory is created on the first reservation."""
    ids = ClientOrderIds("eng", tmp_path / "state" / "ids.json")
    assert ids.next_id() == "eng-1"
    assert (tmp_path / "state" / "ids.json").exists()


@pytest.mark.parametrize(
    "content", ["{not json", '{"instance": "eng"}', '{"instance": "eng", "reserved": -1}']
)
def test_corrupt_file_is_an_error_naming_it(tmp_path, content):
    """A corrupt id file stops start-up with an error naming the file."""
    path = tmp_path / "ids.json"
    path.write_text(content)
    with pytest.raises(OrderIdStateError, match="corrupt client order id state") as info:
        ClientOrderIds("eng", path)
    assert str(path) in str(info.value)


def test_file_of_another_instance_is_refused(tmp_path):
    """An id file written by another instance is not silently shared."""
    path = tmp_path / "ids.json"
    ClientOrderIds("one", path).next_id()
    with pytest.raises(OrderIdStateError, match="instance 'one', not 'two'"):
        ClientOrderIds("two", path)


@pytest.mark.parametrize("name", ["", "has space", "dot.ted", "x" * 33])
def test_invalid_instance_name_is_refused(tmp_path, name):
    """Instance names follow the config's pattern."""
    with pytest.raises(ValueError, match="instance name"):
        ClientOrderIds(name, tmp_path / "ids.json")


def test_counter_of_reads_only_own_ids(tmp_path):
    """counter_of parses this instance's ids and returns None for any other."""
    ids = ClientOrderIds("mm-1", tmp_path / "ids.json")
    assert ids.counter_of("mm-1-42") == 42
    assert ids.counter_of("mm-2-42") is None
    assert ids.counter_of("mm-1-x") is None
    assert ids.counter_of("mm") is None


def test_the_state_file_is_owner_only(tmp_path):
    """The id high-water mark is private to the engine's user (0600), like the journal."""
    path = tmp_path / "state" / "order_ids.json"
    ClientOrderIds("inst", path).next_id()
    assert path.stat().st_mode & 0o777 == 0o600

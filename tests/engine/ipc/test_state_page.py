"""Seqlocked state pages: latest value wins, readers never see a half-written payload."""

from __future__ import annotations

import os
import stat
import struct
import uuid

import pytest

from engine.errors import IpcError, SegmentError
from engine.ipc.protocol import BookView, decode_book, encode_view
from engine.ipc.ring import Ring
from engine.ipc.segments import SHM_DIR
from engine.ipc.state_page import StatePage, TornRead


@pytest.fixture
def page(segment):
    """A 4 KiB page, owned by the test."""
    p = StatePage.create(segment, 4096)
    yield p
    p.close()


def test_read_is_none_until_the_first_write(page):
    """A page nobody wrote reads as None and has version 0."""
    assert page.read() is None
    assert page.version == 0


def test_the_latest_write_wins(page):
    """Each write replaces the value; the version counts completed writes."""
    page.write(b"first value")
    page.write(b"second")
    assert page.read() == b"second"
    assert page.version == 2


def test_an_empty_payload_is_a_value_not_absence(page):
    """Writing zero bytes reads back as b"" rather than None."""
    page.write(b"")
    assert page.read() == b""
    assert page.version == 1


def test_a_payload_larger_than_the_page_is_refused(page):
    """A payload over the page size is a ValueError and the old value stays."""
    page.write(b"kept")
    with pytest.raises(ValueError, match="exceeds"):
        page.write(b"x" * 4097)
    page.write(b"y" * 4096)  # exactly the page size fits
    assert page.read() == b"y" * 4096
    assert page.version == 2


def test_a_reader_attached_elsewhere_sees_the_writes(page):
    """An attached page reads what the owner writes, book views included."""
    view = BookView(
        instrument=0,
        symbol="BTCUSDT",
        tick_size="0.01",
        lot_size="0.00001",
        state="live",
        bids=[(6_500_000, 12), (6_499_999, 3)],
        asks=[(6_500_001, 7)],
        update_id=42,
        update_count=1000,
        exch_ts=1,
        recv_ts=2,
    )
    with StatePage.attach(page.name) as reader:
        assert reader.read() is None
        page.write(encode_view(view))
        payload = reader.read()
        assert payload is not None
        assert decode_book(payload) == view
        assert reader.version == 1
        assert reader.capacity == 4096


def test_attach_to_a_missing_page_is_a_segment_error():
    """Attaching to a name that does not exist raises SegmentError naming it."""
    name = f"hft-test-{uuid.uuid4().hex}"
    with pytest.raises(SegmentError, match=name):
        StatePage.attach(name)


def test_attach_to_a_ring_is_refused(segment):
    """A ring's segment is not a state page: bad magic."""
    with Ring.create(segment, 4096), pytest.raises(SegmentError, match="bad magic"):
        StatePage.attach(segment)


def test_page_is_owner_only(segment):
    """The page's segment file is mode 0600 whatever the umask."""
    old = os.umask(0)
    try:
        with StatePage.create(segment, 128):
            mode = stat.S_IMODE((SHM_DIR / segment).stat().st_mode)
    finally:
        os.umask(old)
    assert mode == 0o600


def test_torn_read_is_an_ipc_error():
    """TornRead belongs to the IPC error family and names the page."""
    err = TornRead("hft-x", 10)
    assert isinstance(err, IpcError)
    assert "hft-x" in str(err)


#: counter u64 | body length u32 | fill byte u8; then ``body length`` copies of the fill byte
STAMP = struct.Struct("<QIB")

WRITER_HAMMERS = """
import struct, sys
from engine.ipc.state_page import StatePage
STAMP = struct.Struct("<QIB")
page = StatePage.attach(sys.argv[1])
for counter in range(1, int(sys.argv[2]) + 1):
    length = 500 + (counter * 7919) % 3500
    fill = counter % 251
    page.write(STAMP.pack(counter, length, fill) + bytes([fill]) * length)
"""


@pytest.mark.integration
def test_readers_never_see_a_torn_payload_while_a_writer_hammers(page, python_child):
    """Under a writer process rewriting non-stop, every read returns one whole write, in order."""
    writes = 200_000
    writer = python_child(WRITER_HAMMERS, page.name, str(writes))
    reads = 0
    last_counter = 0
    problems: list[str] = []
    while writer.poll() is None or reads == 0:
        try:
            data = page.read()
        except TornRead:
            continue  # the writer never paused long enough; readers simply try again later
        if data is None:
            continue
        counter, length, fill = STAMP.unpack_from(data)
        body = data[STAMP.size :]
        if len(body) != length or body.count(fill) != length or fill != counter % 251:
            problems.append(f"write {counter}: inconsistent payload")
        if counter < last_counter:
            problems.append(f"write {counter} read after write {last_counter}")
        last_counter = counter
        reads += 1
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert problems == []
    assert reads > 0
    final = page.read()
    assert final is not None
    assert STAMP.unpack_from(final)[0] == writes
    assert page.version == writes

"""Fuzzing the config loader, the journal reader and the IPC frame decoder.

- config: TOML files and ``HFT__`` overrides built from valid ones with keys and values
  changed: a config, or :class:`~engine.errors.ConfigError` naming the file or variable;
- journal: any bytes on disk, and valid journals with bytes changed or cut: replay never
  raises and yields only records that were written, each problem reported;
- IPC: any bytes as a ring record or a state page: a record or view, or
  :class:`~engine.ipc.protocol.UnreadableFrame` saying which and why.
"""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.config import default_config_path, load_config
from engine.errors import ConfigError, IpcError
from engine.ipc.protocol import (
    RECORD_SIZE,
    BookView,
    UnreadableFrame,
    decode_book,
    decode_engine,
    decode_trading,
    encode_view,
    pack,
    unpack,
)
from engine.oms.journal import Journal, JournalCorrupt, replay
from tests.reliability.fuzzing import byte_mutation

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ---- config --------------------------------------------------------------------------------

_DEFAULT = tomllib.loads(default_config_path().read_text())
_KEYS = [
    (section, key)
    for section, table in _DEFAULT.items()
    if isinstance(table, dict)
    for key, value in table.items()
    if not isinstance(value, dict)
]
toml_value = st.one_of(
    st.integers(min_value=-(2**65), max_value=2**65).map(str),
    st.floats(allow_nan=True).map(lambda f: repr(f).replace("inf", "inf").replace("nan", "nan")),
    st.booleans().map(lambda b: str(b).lower()),
    st.text(max_size=10).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
    st.sampled_from(['""', "[]", "{}", '"0.00000001"', '"-1"', "0", "-1", '"not-a-number"']),
)


@st.composite
def config_text(draw: st.DrawFn) -> str:
    """A TOML file setting a few known (or misspelt) keys to values of any type."""
    lines: dict[str, list[str]] = {}
    for _ in range(draw(st.integers(1, 4))):
        section, key = draw(st.sampled_from(_KEYS))
        if draw(st.booleans()):
            key = key + draw(st.sampled_from(["_", "x", "s"]))
        lines.setdefault(section, []).append(f"{key} = {draw(toml_value)}")
    text = "".join(f"[{s}]\n" + "\n".join(body) + "\n" for s, body in lines.items())
    if draw(st.booleans()):
        text = draw(byte_mutation(text.encode())).decode("utf-8", "replace")
    return text


@FUZZ
@given(text=config_text())
def test_config_files_load_or_fail_naming_the_file(tmp_path_factory, text):
    """Any file: a valid config, or one ConfigError whose message starts with the file's path."""
    path = tmp_path_factory.mktemp("cfg") / "engine.toml"
    path.write_text(text)
    message = str(path)
    try:
        load_config(path, {})
    except ConfigError as exc:
        message = str(exc)
    assert message.startswith(str(path)), message


@FUZZ
@given(
    pairs=st.lists(st.tuples(st.sampled_from(_KEYS), st.text(max_size=12)), min_size=1, max_size=3)
)
def test_environment_overrides_load_or_fail_naming_the_variable(pairs):
    """Any HFT__SECTION__KEY values: a valid config, or a ConfigError naming the variable."""
    environ = {f"HFT__{s.upper()}__{k.upper()}": v.replace("\x00", "") for (s, k), v in pairs}
    message = next(iter(environ))
    try:
        load_config(None, environ)
    except ConfigError as exc:
        message = str(exc)
    assert any(name in message for name in environ), message


# ---- journal -------------------------------------------------------------------------------

_PAYLOADS = [b"", b"a", b"order 1 sent", bytes(range(256)), b"x" * 1000]


@pytest.fixture(scope="module")
def journal_bytes(tmp_path_factory):
    """One day's journal holding the five payloads, as bytes."""
    folder = tmp_path_factory.mktemp("journal")
    with Journal(folder, "fz") as journal:
        for n, payload in enumerate(_PAYLOADS):
            journal.append(1 + n % 2, payload, 1_700_000_000_000_000_000 + n)
        assert journal.path is not None
        path = journal.path
    return path.name, path.read_bytes()


@FUZZ
@given(data=st.data())
def test_a_damaged_journal_replays_only_records_that_were_written(
    tmp_path_factory, journal_bytes, data
):
    """Bytes changed, cut or inserted: replay never raises, yields only true records, reports."""
    name, good = journal_bytes
    damaged = data.draw(st.one_of(byte_mutation(good), st.binary(max_size=200)))
    folder = tmp_path_factory.mktemp("damaged")
    (folder / name).write_bytes(damaged)
    problems: list[JournalCorrupt] = []
    got = [(r.kind, r.ts_ns, r.payload) for r in replay(folder, "fz", problems)]
    written = {(1 + n % 2, 1_700_000_000_000_000_000 + n, p) for n, p in enumerate(_PAYLOADS)}
    assert set(got) <= written
    if damaged != good:
        assert problems or len(got) < len(_PAYLOADS) or damaged.startswith(good)
    for problem in problems:
        assert str(problem).startswith(str(folder / name))


# ---- IPC -----------------------------------------------------------------------------------

_BOOK = encode_view(
    BookView(
        instrument=0,
        symbol="BTCUSDT",
        tick_size="0.01",
        lot_size="0.00001",
        state="live",
        bids=[(6500000, 10)],
        asks=[(6500001, 20)],
        update_id=5,
        update_count=1,
        exch_ts=1,
        recv_ts=2,
    )
)


@FUZZ
@given(raw=st.one_of(st.binary(max_size=200), byte_mutation(_BOOK)))
def test_state_pages_decode_or_fail_as_unreadable(raw):
    """Any page bytes: a view, or UnreadableFrame naming the page, never a msgspec error."""
    for decode, what in ((decode_book, "book"), (decode_engine, "engine"), (decode_trading, "")):
        error: Exception | None = None
        try:
            decode(raw)
        except UnreadableFrame as exc:
            error = exc
        assert error is None or (what in str(error) and isinstance(error, IpcError))


@FUZZ
@given(raw=st.binary(max_size=2 * RECORD_SIZE))
def test_ring_records_decode_or_fail_as_unreadable(raw):
    """A record is exactly 64 bytes; anything else is UnreadableFrame giving its length."""
    if len(raw) == RECORD_SIZE:
        assert unpack(raw) == unpack(pack(*unpack(raw)))
    else:
        with pytest.raises(UnreadableFrame, match=f"{len(raw)} bytes"):
            unpack(raw)

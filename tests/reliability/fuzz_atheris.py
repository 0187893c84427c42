"""Coverage-guided fuzzing (atheris) of the Binance depth parser and the journal reader, by hand.

Not collected by pytest (the name does not start with ``test_``); run one target at a time::

    uv run --with atheris python tests/reliability/fuzz_atheris.py depth -max_total_time=60
    uv run --with atheris python tests/reliability/fuzz_atheris.py journal -max_total_time=60

Any further arguments go to libFuzzer. The seeds are the first frames and the snapshot of the
captured BTCUSDT session (or its synthetic stand-in) for ``depth``, and a journal of five records
for ``journal``. A target passes an input when:

* ``depth``: :meth:`BinanceSpotParser.parse_frame` and ``parse_snapshot`` return, or raise
  :class:`~engine.errors.MalformedMessage` with a message;
* ``journal``: :func:`engine.oms.journal.replay` over a file of those bytes never raises, and
  every problem it reports names the file.

Anything else is a crash: libFuzzer stops and writes the input to ``crash-<hash>``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

try:
    import atheris
except ImportError:
    sys.exit(
        "atheris is not installed here: uv run --with atheris python "
        "tests/reliability/fuzz_atheris.py {depth,journal} [libFuzzer options]"
    )

with atheris.instrument_imports():
    from engine.bench.captures import BTCUSDT, spot_session
    from engine.errors import MalformedMessage
    from engine.oms.journal import Journal, JournalCorrupt, replay
    from engine.venues.binance.protocol import BinanceSpotParser

INSTANCE = "fz"


def _depth_target(corpus: Path, scratch: Path) -> Callable[[bytes], None]:
    session = spot_session(limit=20)
    seeds = [session.snapshot, *session.depth[:20], *session.trades[:20]]
    for n, seed in enumerate(seeds):
        (corpus / f"seed-{n}").write_bytes(seed)
    parser = BinanceSpotParser([BTCUSDT], "binance")

    def one(data: bytes) -> None:
        for parse in (
            lambda raw: parser.parse_frame(raw, 1),
            lambda raw: parser.parse_snapshot(raw, BTCUSDT, 1),
        ):
            try:
                parse(data)
            except MalformedMessage as exc:
                if not str(exc):
                    raise AssertionError(
                        f"MalformedMessage without a message for {data!r}"
                    ) from None

    return one


def _journal_target(corpus: Path, scratch: Path) -> Callable[[bytes], None]:
    good_dir = scratch / "written"
    with Journal(good_dir, INSTANCE) as journal:
        for n, payload in enumerate([b"", b"a", b"order 1 sent", bytes(range(256)), b"x" * 100]):
            journal.append(1 + n % 2, payload, 1_700_000_000_000_000_000 + n)
        assert journal.path is not None
        path = journal.path
    (corpus / "seed-journal").write_bytes(path.read_bytes())
    folder = scratch / "replayed"
    folder.mkdir()
    target = folder / path.name

    def one(data: bytes) -> None:
        target.write_bytes(data)
        problems: list[JournalCorrupt] = []
        for _ in replay(folder, INSTANCE, problems):
            pass
        for problem in problems:
            if not str(problem).startswith(str(target)):
                raise AssertionError(f"a journal problem that does not name the file: {problem}")

    return one


TARGETS = {"depth": _depth_target, "journal": _journal_target}


def main() -> None:
    """``fuzz_atheris.py TARGET [libFuzzer options...]``.

    libFuzzer ends its process without unwinding, so the fuzzing runs in a child process and
    this one removes the scratch folder (corpus, journals) afterwards.
    """
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        target, scratch = sys.argv[2], Path(sys.argv[3])
        corpus = scratch / "corpus"
        corpus.mkdir()
        one = TARGETS[target](corpus, scratch)
        atheris.Setup([sys.argv[0], *sys.argv[4:], str(corpus)], one)
        atheris.Fuzz()
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: fuzz_atheris.py {{{','.join(TARGETS)}}} [libFuzzer options]")
    scratch = Path(tempfile.mkdtemp(prefix=f"hft-fuzz-{sys.argv[1]}-"))
    try:
        child = [sys.executable, __file__, "--child", sys.argv[1], str(scratch), *sys.argv[2:]]
        code = subprocess.call(child)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(code)


if __name__ == "__main__":
    main()

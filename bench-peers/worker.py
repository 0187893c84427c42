"""The peers' worker: runs the large benchmark peers in their own environment, answers JSON.

Started by ``engine.bench.peers`` as ``uv run --locked --project bench-peers python worker.py``.
One JSON request per line on stdin, one JSON answer per line on stdout (``{"ok": true, ...}``
or ``{"ok": false, "error": ...}``); progress and peers' chatter go to stderr. It imports
nothing from the engine: the input comes as files and plain numbers, so both sides measure the
same bytes.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable
from importlib import metadata
from typing import Any

PEERS = ("hftbacktest", "nautilus_trader", "numpy", "numba", "orjson", "order-book",
         "sortedcontainers")  # fmt: skip


def _versions(_: dict[str, Any]) -> dict[str, Any]:
    found = {"python": sys.version.split()[0]}
    for dist in PEERS:
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return {"versions": found}


def _lazy(module: str, name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An op in a sibling module, imported on first use (each peer loads only when raced)."""

    def op(request: dict[str, Any]) -> dict[str, Any]:
        found: Callable[[dict[str, Any]], dict[str, Any]] = getattr(
            importlib.import_module(module), name
        )
        return found(request)

    return op


def _ops() -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    return {
        "hello": lambda _: {"pid": os.getpid()},
        "versions": _versions,
        "book_load": _lazy("peer_book", "load"),
        "book_rep": _lazy("peer_book", "rep"),
        "backtest_hftbacktest": _lazy("peer_backtest", "hftbacktest"),
        "backtest_nautilus": _lazy("peer_backtest", "nautilus"),
    }


def main() -> None:
    """Answer requests until stdin closes."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    ops = _ops()
    out = sys.stdout
    sys.stdout = sys.stderr  # the peers' prints must not mix with the answers
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            op = ops[request["op"]]
            answer = {"ok": True, **op(request)}
        except Exception as exc:  # every failure is an answer the caller reports
            traceback.print_exc(file=sys.stderr)
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()

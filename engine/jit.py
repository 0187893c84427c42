"""Compiling the numba kernels off the engine's critical path, then switching to them.

A fresh clone has no numba cache, and compiling every kernel takes seconds (numbers in
``python -m engine.jit``'s report). The engine does not wait for that:

1. :func:`start_background_compile` starts ``python -m engine.jit`` in a separate, lower-priority
   process, which compiles every kernel (or finds it in numba's on-disk cache) and so fills the
   cache. Meanwhile books run on their pure-Python backend and the Binance parser on its msgspec
   path, both correct from the first message, and neither imports numba.
2. When :meth:`JitHandle.poll` says the process is done, :func:`activate` loads the kernels from
   the cache into this process (about 1.5 s with numba's import, logged) and switches every live
   :class:`~engine.book.order_book.OrderBook` and every parser to them in place, state intact.
   :func:`load_compiled` can do the loading first in a worker thread, so the loop pauses only
   for the switch (milliseconds); :func:`upgrade_when_compiled` runs that sequence as one task.
3. If the process fails, :meth:`JitHandle.poll` logs it loudly once and the engine stays on the
   pure-Python paths.

Each kernel module declares ``SIGNATURES``, one argument-type signature per kernel; kernels are
compiled for exactly that and then refuse to compile for anything else, so no call can start a
compile in the middle of trading. Outside the engine (tests, benchmarks, tools) the books' and
the parser's ``warm_up()`` load the kernels synchronously; in a process that has started a
background compile they return at once, as :func:`activate` will do the work.

``python -m engine.jit`` compiles everything in the foreground and prints one JSON report (per
kernel: seconds, whether it came from the cache); CI and benchmarks use it to warm the cache.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from engine.errors import EngineError

log = logging.getLogger("engine.jit")

KERNEL_MODULES = (
    "engine.book.ladder_kernels",
    "engine.venues.binance.kernels",
    "engine.sim.mirror_kernels",
)
"""Every module holding compiled kernels, each with its ``SIGNATURES``."""

_POLL_INTERVAL_S = 0.25
_ERROR_TAIL = 4000  # characters of the compile process's stderr kept in JitHandle.error
_deferred = False
_active = False


class KernelLoadError(EngineError, RuntimeError):
    """The compiled kernels could not be compiled or loaded; the pure-Python paths stay in use."""


@dataclass(frozen=True)
class KernelLoad:
    """How one kernel became ready in this process."""

    module: str
    """The kernel's module, e.g. ``engine.book.ladder_kernels``."""
    kernel: str
    """The kernel's name in its module."""
    seconds: float
    """Wall time spent compiling or loading it."""
    from_cache: bool
    """True when numba's on-disk cache had it; False when it was compiled here."""


def deferred() -> bool:
    """True from :func:`start_background_compile` until :func:`activate` or the compile's stop.

    The books' and the parser's ``warm_up()`` do nothing meanwhile, so nothing compiles in this
    process while the background process does. A failed background compile leaves this True:
    the engine stays on the pure-Python paths rather than compile on its event loop.
    """
    return _deferred


def active() -> bool:
    """True once :func:`activate` has switched this process to the compiled kernels."""
    return _active


def load_kernels(module_name: str) -> list[KernelLoad]:
    """Compile, or load from numba's cache, every kernel of one module for its one signature.

    Afterwards each kernel refuses other argument types (numba raises ``TypeError``) instead of
    compiling again. Kernels already loaded in this process are skipped.

    Raises:
        KernelLoadError: the module cannot be imported or a kernel does not compile.
    """
    try:
        module = importlib.import_module(module_name)
        signatures: dict[str, tuple[Any, ...]] = module.SIGNATURES
    except Exception as exc:
        raise KernelLoadError(f"cannot import kernels from {module_name}: {exc!r}") from exc
    loads = []
    for name, signature in signatures.items():
        dispatcher = getattr(module, name)
        if not hasattr(dispatcher, "disable_compile"):
            raise KernelLoadError(
                f"{module_name}.{name} is a plain Python function: is NUMBA_DISABLE_JIT set?"
            )
        if tuple(signature) in dispatcher.overloads:
            continue
        started = time.perf_counter()
        try:
            dispatcher.compile(signature)
        except Exception as exc:
            raise KernelLoadError(f"{module_name}.{name} did not compile: {exc}") from exc
        dispatcher.disable_compile()
        hits = dispatcher.stats.cache_hits
        loads.append(
            KernelLoad(
                module=module_name,
                kernel=name,
                seconds=round(time.perf_counter() - started, 4),
                from_cache=any(hits.values()),
            )
        )
    return loads


def load_compiled() -> list[KernelLoad]:
    """Compile, or load from the cache, the kernels of every module in :data:`KERNEL_MODULES`.

    Switches nothing, so it may run in a worker thread while the event loop goes on (the
    pure-Python paths never touch numba); :func:`activate` then only switches.

    Raises:
        KernelLoadError: a module cannot be imported or a kernel does not compile.
    """
    loads: list[KernelLoad] = []
    for module_name in KERNEL_MODULES:
        loads += load_kernels(module_name)
    import numpy.ma  # noqa: F401 - numba's first array argument imports it (70 ms): not on the loop

    return loads


def activate() -> None:
    """Load the compiled kernels into this process and switch every live book and parser.

    Meant to run once, in the engine's loop thread, after :meth:`JitHandle.poll` returned True:
    the kernels then come from the cache the background process filled. Books keep their levels,
    ``update_id`` and ``update_count``; parsers switch for their next frame. The pause it caused
    is logged (loading takes most of it, unless :func:`load_compiled` ran before in a worker
    thread). A failure is logged as an error and leaves everything on the pure-Python paths; it
    is never raised.
    """
    global _deferred, _active
    from engine.book import order_book
    from engine.venues.binance import protocol

    started = time.perf_counter()
    try:
        loads = load_compiled()
        books = order_book.use_compiled()
        protocol.use_compiled_readers()
    except KernelLoadError:
        log.exception("COMPILED KERNELS UNAVAILABLE: staying on the pure-Python book and parser")
        return
    _deferred, _active = False, True
    _log_loads(loads, "compiled kernels active", time.perf_counter() - started, books_moved=books)


def _log_loads(loads: list[KernelLoad], event: str, seconds: float, **extra: object) -> None:
    """Log how kernels became ready; a warning when some were compiled here, not loaded."""
    extra |= {"seconds": round(seconds, 3), "kernels_loaded": len(loads)}
    compiled_here = [f"{load.module}.{load.kernel}" for load in loads if not load.from_cache]
    if compiled_here:
        extra["compiled_here"] = ",".join(compiled_here)
        log.warning(
            f"{event}; some kernels were not in numba's cache and compiled here", extra=extra
        )
    else:
        log.info(event, extra=extra)


class JitHandle:
    """The background compile process started by :func:`start_background_compile`.

    Attributes:
        error: None, or what went wrong (exit status and the end of the process's stderr).
        report: the process's JSON report once it succeeded (see :func:`main`), else None.
    """

    def __init__(
        self, process: subprocess.Popen[bytes] | None, output: IO[bytes] | None = None
    ) -> None:
        self._process = process
        self._output = output
        self._started = time.monotonic()
        self._ready = process is None
        self.error: str | None = None
        self.report: dict[str, Any] | None = None

    @property
    def pid(self) -> int | None:
        """The compile process's id; None when nothing needed compiling."""
        return self._process.pid if self._process is not None else None

    def poll(self) -> bool:
        """True once the process finished successfully; never blocks.

        A failed process sets :attr:`error` and is logged as an error, once; poll() then keeps
        returning False.
        """
        if self._ready or self.error is not None or self._process is None:
            return self._ready
        code = self._process.poll()
        if code is None:
            return False
        text = self._read_output()
        if code == 0:
            self._ready = True
            self.report = _last_json(text)
            log.info(
                "background compile finished",
                extra={"seconds": round(time.monotonic() - self._started, 1), "pid": self.pid},
            )
        else:
            self.error = f"compile process exited with status {code}: {text[-_ERROR_TAIL:]}"
            log.error(
                "BACKGROUND COMPILE FAILED: the engine keeps running on the pure-Python book "
                "and parser",
                extra={"pid": self.pid, "status": code, "output": text[-_ERROR_TAIL:]},
            )
        return self._ready

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the process ends (tools and tests); returns :meth:`poll`'s answer."""
        if self._process is not None and not self._ready and self.error is None:
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                return False
        return self.poll()

    def stop(self) -> None:
        """End the process if it still runs (the engine is stopping); no compile is pending then."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            _stand_down()
        if self._output is not None:
            self._output.close()
            self._output = None

    def _read_output(self) -> str:
        if self._output is None:
            return ""
        self._output.seek(0)
        text = self._output.read().decode("utf-8", "replace")
        self._output.close()
        self._output = None
        return text


def start_background_compile(*, cache_dir: str | os.PathLike[str] | None = None) -> JitHandle:
    """Start compiling every kernel in a separate process; returns at once.

    From now until :func:`activate`, ``warm_up()`` calls in this process do nothing. When books
    and parsers here already run compiled code (after ``warm_up()``, say), no process is started
    and the handle is ready at once.

    Args:
        cache_dir: numba's cache folder for the process (``NUMBA_CACHE_DIR``); by default the
            process inherits this one's environment. Only meaningful when this process uses the
            same folder, as it then loads from it.
    """
    global _deferred, _active
    if not _active:
        from engine.book import order_book
        from engine.venues.binance import protocol

        _active = order_book.compiled() and protocol.compiled_readers()  # e.g. after warm_up()
    if _active:
        return JitHandle(None)
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = os.fspath(cache_dir)
    output = tempfile.TemporaryFile()  # noqa: SIM115 - owned by the handle, closed when read
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "engine.jit", "--background", str(os.getpid())],
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    _deferred = True
    log.info("background compile started", extra={"pid": process.pid})
    return JitHandle(process, output)


async def upgrade_when_compiled(handle: JitHandle) -> bool:
    """Wait for a background compile, load its kernels in a worker thread, then :func:`activate`.

    One task for the engine to run beside its others, started right after
    :func:`start_background_compile`; the loop never pauses for numba's import or the cache
    loading, only for the switch itself. Cancelling the task stops the compile process.

    Returns:
        True when the compiled kernels are active, False when the engine stays on the
        pure-Python paths (the failure was logged).
    """
    try:
        while not handle.poll():
            if handle.error is not None:
                return False
            await asyncio.sleep(_POLL_INTERVAL_S)
        started = time.perf_counter()
        loads = await asyncio.to_thread(load_compiled)
    except KernelLoadError:
        log.exception("COMPILED KERNELS UNAVAILABLE: staying on the pure-Python book and parser")
        return False
    except asyncio.CancelledError:
        _stand_down()
        raise
    finally:
        handle.stop()
    _log_loads(loads, "kernels loaded off the loop", time.perf_counter() - started)
    activate()
    return _active


def _stand_down() -> None:
    """No background compile is pending any more: ``warm_up()`` works normally again."""
    global _deferred
    if not _active:
        _deferred = False


def _last_json(text: str) -> dict[str, Any] | None:
    """The last line of ``text`` that is a JSON object, if any."""
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            return doc if isinstance(doc, dict) else None
    return None


def _exit_with_parent(parent: int) -> None:
    """End this process when ``parent`` is gone: no compile outlives the engine that wanted it."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(3)


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.jit``: compile (or load) every kernel and print a JSON report.

    The report's keys: ``seconds`` (total), ``compiled`` and ``from_cache`` (kernel counts) and
    ``kernels`` (one :class:`KernelLoad` each). Exit status 0 on success, 1 on failure.
    """
    parser = argparse.ArgumentParser(prog="python -m engine.jit", description=__doc__)
    parser.add_argument(
        "--background",
        type=int,
        metavar="PID",
        help="run as the background compile of engine process PID: lower priority, exit with it",
    )
    args = parser.parse_args(argv)
    if args.background is not None:
        os.nice(10)
        threading.Thread(target=_exit_with_parent, args=(args.background,), daemon=True).start()
    started = time.perf_counter()
    try:
        loads = load_compiled()
    except KernelLoadError as exc:
        sys.stderr.write(f"engine.jit: {exc}\n")
        return 1
    report = {
        "seconds": round(time.perf_counter() - started, 3),
        "compiled": sum(not load.from_cache for load in loads),
        "from_cache": sum(load.from_cache for load in loads),
        "kernels": [asdict(load) for load in loads],
    }
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Secrets and access: fake keys never show anywhere, the control plane is closed, files private.

One engine process runs for the module on the built-in local venue, the market maker trading and
the recorder on, with recognisable fake credentials in its environment. It is driven through
the control plane (good and bad tokens, orders, a kill and a reset) and a UI attached to it, then
every log, journal, state and catalog file, shared-memory segment, HTTP answer and screen is
searched for the fake values.
"""

from __future__ import annotations

import ast
import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from engine.control.http import ControlPlane
from engine.core.config import load_config
from engine.errors import ConfigError
from engine.ipc.segments import SHM_DIR, read_instance, runtime_dir, segment_name
from engine.strategy.registry import user_strategy_class
from engine.strategy.reload import ReloadError

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
FAKE = {
    "HFT_SIM_API_KEY": "FAKEKEYsecuritytest" + "K" * 45,
    "HFT_SIM_API_SECRET": "FAKESECRETsecuritytest" + "S" * 42,
    "HFT_CONTROL_TOKEN": "FAKETOKENsecuritytest0123456789",
    "HFT_REDIS_PASSWORD": "FAKEREDISPWsecuritytest",
}
NEEDLES = [v.encode() for v in FAKE.values()] + [b"FAKEKEY", b"FAKESECRET", b"FAKETOKEN"]
TOKEN = FAKE["HFT_CONTROL_TOKEN"]
OPEN_ENDPOINTS = {("POST", "/kill"), ("POST", "/orders/cancel-all")}
"""Mutating endpoints that need no token on purpose: halting and pulling orders."""


def _request(url: str, method: str = "GET", body: bytes | None = None, token: str | None = None):
    req = urllib.request.Request(url, data=body, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Running:
    """The engine under test and where it keeps things."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.instance = f"sec{os.getpid()}{int(time.time()) % 100000}"
        self.state = folder / "state"
        self.log = folder / "engine.log"
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.answers: dict[str, bytes] = {}


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """The engine, driven through its control plane; stopped (SIGTERM) at the end."""
    folder = tmp_path_factory.mktemp("security")
    run = Running(folder)
    config = folder / "engine.toml"
    config.write_text(
        "[control]\nport = 0\n[sim]\nevents_per_second = 400.0\ndepth_interval_ms = 20\n"
        '[recorder]\nenabled = true\nroll = "1m"\n'
        '[strategies.mm]\nkind = "market_maker"\nsymbol = "BTCUSDT"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HFT__", "HFT_"))}
    env |= FAKE | {"HFT__ENGINE__INSTANCE": run.instance, "HFT__ENGINE__STATE_DIR": str(run.state)}
    with run.log.open("wb") as log:
        run.proc = subprocess.Popen(
            [sys.executable, "-m", "engine", "--config", str(config), "--log-format", "json"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        run.url = _wait_ready(run)
        _drive(run)
        yield run
    finally:
        if run.proc.poll() is None:
            run.proc.send_signal(signal.SIGTERM)
            run.proc.wait(timeout=30)


def _wait_ready(run: Running) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert run.proc is not None
        assert run.proc.poll() is None, run.log.read_text()[-2000:]
        info = read_instance(run.instance)
        if info is not None and info.control_url:
            code, body = _request(info.control_url + "/status")
            status = json.loads(body) if code == 200 else {}
            gateway = status.get("gateway") or {}
            if status.get("books", {}).get("BTCUSDT", {}).get("state") == "live" and gateway.get(
                "healthy"
            ):
                return info.control_url
        time.sleep(0.1)
    raise AssertionError("the engine did not become ready")


def _drive(run: Running) -> None:
    """Orders, refusals with bad tokens, a kill and a reset: the paths that handle secrets."""
    url = run.url
    order = json.dumps(
        {"symbol": "BTCUSDT", "side": "buy", "size": "0.001", "type": "market"}
    ).encode()
    assert _request(url + "/orders", "POST", order, TOKEN)[0] == 201
    assert _request(url + "/orders", "POST", order, "FAKETOKEN-wrong")[0] == 401
    assert _request(url + "/reset", "POST", b"", FAKE["HFT_SIM_API_SECRET"])[0] == 401
    assert _request(url + "/kill", "POST")[0] == 200
    assert _request(url + "/reset", "POST", b"", TOKEN)[0] == 200
    time.sleep(2.0)  # the market maker quotes, the recorder writes
    for path in ("/status", "/metrics", "/orders?all=1", "/positions", "/risk/limits"):
        run.answers[path] = _request(url + path)[1]
    run.answers["/strategies"] = _request(url + "/strategies", token=TOKEN)[1]
    run.answers["/health"] = _request(url + "/health")[1]


def _found(data: bytes) -> list[bytes]:
    return [n for n in NEEDLES if n in data]


def _file_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data += gzip.decompress(data)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        data += str(pq.read_table(path).to_pylist()).encode()
    return data


async def test_fake_keys_appear_on_no_screen(running):
    """Every screen of a UI attached to the engine, captured as SVG: no key, token or secret."""
    from engine.core.clock import LiveClock
    from hft_tui.app import TradingApp, UiSettings
    from hft_tui.launcher import AttachedSession

    app = TradingApp(AttachedSession(running.instance), UiSettings(ansi=False), LiveClock())
    shots: dict[str, str] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(1.0)
        for key in ("t", "o", "p", "r", "a", "h"):
            await pilot.press(key)
            await pilot.pause(0.3)
            shots[key] = app.export_screenshot()
        await pilot.press("q")
    assert all(len(svg) > 1000 for svg in shots.values())
    assert not {k: _found(svg.encode()) for k, svg in shots.items() if _found(svg.encode())}


def test_control_plane_listens_on_loopback_by_default(running):
    """The default config binds 127.0.0.1, and the running engine's URL is on it."""
    assert load_config(None, {}).control.host == "127.0.0.1"
    assert running.url.startswith("http://127.0.0.1:")


def _mutating_routes() -> list[tuple[str, str]]:
    """Every non-GET route the control plane serves, read from its own router."""

    class _Everything:
        trading = "running"
        strategy_control = None

        def metrics(self) -> bytes:
            return b""

        def place_order(self) -> None:
            return None

    app = ControlPlane(_Everything(), "127.0.0.1", 0)._app()  # type: ignore[arg-type]
    routes = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter") or ""
        if route.method not in ("GET", "HEAD"):
            routes.add((route.method, path))
    return sorted(routes)


def test_every_mutating_endpoint_but_kill_and_cancel_all_needs_the_token(running):
    """No token, a wrong token, or the wrong scheme: 401 everywhere; the token never echoed."""
    routes = _mutating_routes()
    assert len(routes) >= 8, routes
    guarded = [r for r in routes if r not in OPEN_ENDPOINTS]
    for method, path in guarded:
        url = running.url + path.replace("{name}", "mm").replace("{client_order_id}", "x-1")
        for token in (None, "FAKETOKEN-wrong", TOKEN[:-1]):
            code, body = _request(url, method, b"{}", token)
            assert code == 401, (method, path, token, code, body)
            assert TOKEN.encode() not in body
        req = urllib.request.Request(url, data=b"{}", method=method)
        req.add_header("Authorization", f"Basic {TOKEN}")
        try:
            urllib.request.urlopen(req, timeout=5)
            code = 200
        except urllib.error.HTTPError as exc:
            code = exc.code
        assert code == 401, (method, path, "basic scheme")


def test_token_comparison_is_constant_time():
    """The control plane compares tokens with hmac.compare_digest and never with ==."""
    source = (REPO / "engine" / "control" / "http.py").read_text()
    tree = ast.parse(source)
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "compare_digest"
    ]
    assert calls, "no hmac.compare_digest in engine/control/http.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
        ):
            names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            assert not names & {"token", "value", "secret"}, ast.unparse(node)


def test_request_bodies_over_the_limit_are_refused(running):
    """A 2 MiB order document gets 413 (aiohttp's 1 MiB limit), even with the token."""
    big = b'{"symbol":"' + b"x" * (2 << 20) + b'"}'
    code, _ = _request(running.url + "/orders", "POST", big, TOKEN)
    assert code == 413


def test_bodies_that_are_not_utf8_are_refused_as_bad_requests(running):
    """Invalid UTF-8 inside a JSON string: 400 naming the problem, never a 500."""
    for method, path, body in (
        ("POST", "/orders", b'{"symbol":"\x80BTCUSDT","side":"buy","size":"0.001"}'),
        ("PUT", "/risk/limits", b'{"max_drawdown":"\x801000"}'),
        ("PUT", "/strategies/mm/params", b'{"half_spread_ticks":"\x80"}'),
    ):
        code, answer = _request(running.url + path, method, body, TOKEN)
        assert code == 400, (path, code, answer)
        assert b"utf-8" in answer.lower(), answer


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_segments_journal_and_state_files_are_owner_only(running):
    """Shared memory, journal files and every state file: 0600; their folders 0700."""
    segments = list(SHM_DIR.glob(segment_name(running.instance, "events")[:-6] + "*"))
    journal = list((running.state / "journal").glob("*.journal*"))
    assert segments
    assert journal
    loose = {str(p): oct(_mode(p)) for p in segments + journal if _mode(p) & 0o077}
    state_files = [p for p in running.state.rglob("*") if p.is_file()]
    loose |= {str(p): oct(_mode(p)) for p in state_files if _mode(p) & 0o077}
    folders = [running.state / "journal", runtime_dir()]
    loose |= {str(p): oct(_mode(p)) for p in folders if _mode(p) & 0o077}
    assert not loose


NOBODY = 65534


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a probe as another user")
def test_another_local_user_cannot_attach_read_or_inject(running):
    """A process of user nobody can open no segment or journal file, for reading or writing."""
    targets = list(SHM_DIR.glob(segment_name(running.instance, "events")[:-6] + "*"))
    targets += list((running.state / "journal").glob("*.journal*"))
    probe = (
        "import sys\n"
        "opened = []\n"
        "for path in sys.argv[1:]:\n"
        "    for mode in ('rb', 'r+b'):\n"
        "        try:\n"
        "            open(path, mode).close()\n"
        "            opened.append(path + ' ' + mode)\n"
        "        except PermissionError:\n"
        "            pass\n"
        "print(len(opened), *opened)\n"
    )
    out = subprocess.run(
        ["/usr/bin/python3", "-c", probe, *map(str, targets)],
        user=NOBODY,
        group=NOBODY,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.split()[0] == "0", out.stdout


def test_strategy_files_load_only_from_configured_directories(tmp_path):
    """Outside the [strategy] paths nothing loads: not by name, path, nor through a link."""
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "evil.py").write_text("raise SystemExit('loaded')\n")
    with pytest.raises(ReloadError, match="not found in the \\[strategy\\] paths"):
        user_strategy_class("evil:Evil", [str(allowed)])
    (allowed / "evil.py").symlink_to(outside / "evil.py")
    with pytest.raises(ReloadError, match="outside"):
        user_strategy_class("evil:Evil", [str(allowed)])
    for kind in ("../outside/evil:Evil", f"{outside}/evil:Evil", "outside.evil:Evil"):
        env = {
            "HFT__STRATEGIES__X__KIND": kind,
            "HFT__STRATEGIES__X__SYMBOL": "BTCUSDT",
            "HFT__STRATEGY__PATHS": json.dumps([str(allowed)]),
        }
        with pytest.raises(ConfigError):
            load_config(None, env)


def test_fake_keys_appear_in_no_log_journal_state_catalog_or_answer(running):
    """Logs, journal, state files, catalog, instance record, shm pages and HTTP: never a key.

    Runs last: it stops the engine (SIGUSR1 kill, then SIGTERM) so the recorder closes its files.
    """
    running.proc.send_signal(signal.SIGUSR1)  # a kill from a signal: one more logged path
    time.sleep(0.5)
    segments = list(SHM_DIR.glob(segment_name(running.instance, "events")[:-6] + "*"))
    assert segments, "no shared-memory segments to search"
    pages = {str(p): p.read_bytes() for p in segments}
    record = runtime_dir() / f"{running.instance}.json"
    pages[str(record)] = record.read_bytes()
    running.proc.send_signal(signal.SIGTERM)
    running.proc.wait(timeout=30)
    files = [p for p in running.folder.rglob("*") if p.is_file() and p.name != "engine.toml"]
    assert any(p.suffix == ".parquet" for p in files), "the recorder wrote no catalog file"
    assert any(".journal" in p.name for p in files), "no journal file"
    leaks = {str(p): _found(_file_bytes(p)) for p in files}
    leaks |= {where: _found(data) for where, data in pages.items()}
    leaks |= {path: _found(body) for path, body in running.answers.items()}
    assert running.log.stat().st_size > 1000, "the engine logged almost nothing"
    assert not {where: found for where, found in leaks.items() if found}

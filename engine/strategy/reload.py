"""Hot reload: a running strategy's source read again, checked, and swapped in without a restart.

```
source file ─► compile (SyntaxError: file, line) ─► run in a fresh module (error: file, line)
            ─► find the class ─► check it (a Strategy, its callbacks, accepts the params in force)
            ─► new instance ─► runner.replace: old one stopped, its orders canceled, new one flat
```

Any refusal raises :class:`ReloadError` naming the file and line, and the running version stays
exactly as it was: nothing is swapped and no order is touched. The new module is built fresh, like
``importlib.reload`` but atomic: ``sys.modules`` gets it only once the class passed every check.

Where the source comes from: the file of the running class's module, so a package strategy
(``engine.strategy.market_maker``) and one from a user directory reload the same way. Strategies
from a user directory are first loaded with :func:`load_strategy_file`; the config key proposed
for that directory is ``engine.strategy_dir`` with ``[strategies.<name>] source = "file.py:Class"``.

The new instance starts **flat**: its own position is zero. The account's position built by the
old instance stays in the engine's portfolio and at the venue; it is not handed over.
"""

from __future__ import annotations

import ast
import logging
import sys
import traceback
import types
from pathlib import Path
from typing import Any

import msgspec

from engine.errors import EngineError
from engine.strategy.base import Params, ParamsError, Strategy, decode_params
from engine.strategy.runner import StrategyRunner

log = logging.getLogger("engine.strategy")

CALLBACKS = (
    "on_start",
    "on_book",
    "on_trade",
    "on_fill",
    "on_order",
    "on_timer",
    "on_params",
    "on_stop",
)
USER_PACKAGE = "hft_user_strategies"
"""Modules loaded from a user directory live under this name in ``sys.modules``."""


class ReloadError(EngineError, ValueError):
    """Raised when a strategy's new source is refused; names the file and line."""

    def __init__(self, path: str, line: int, detail: str) -> None:
        self.path = path
        self.line = line
        self.detail = detail
        super().__init__(f"{path}:{line}: {detail}; the running version stays")


def load_strategy_file(path: Path, class_name: str, module_name: str = "") -> type[Strategy[Any]]:
    """Load and check a strategy class from a source file (a user directory's, or a package's).

    Args:
        path: the Python source file.
        class_name: the strategy class defined in it.
        module_name: the module's name; ``hft_user_strategies.<stem>`` by default.

    Raises:
        ReloadError: the file cannot be read, does not compile, fails when run, or its class is
            missing or is not a usable strategy.
    """
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReloadError(where, 0, f"cannot read the strategy source ({exc.strerror})") from None
    try:
        code = compile(text, where, "exec", dont_inherit=True)
        tree = ast.parse(text, where)
    except SyntaxError as exc:
        raise ReloadError(where, exc.lineno or 0, f"syntax error: {exc.msg}") from None
    name = module_name or f"{USER_PACKAGE}.{path.stem}"
    module = types.ModuleType(name)
    module.__file__ = where
    previous = sys.modules.get(name)
    sys.modules[name] = module  # dataclasses and typing look their module up while it runs
    try:
        exec(code, module.__dict__)  # noqa: S102 - the operator's own strategy source
    except Exception as exc:
        _restore(name, previous)
        line = _line_in(exc, where)
        raise ReloadError(where, line, f"{type(exc).__name__} when loaded: {exc}") from None
    try:
        cls = _check_class(module, class_name, tree, where)
    except ReloadError:
        _restore(name, previous)
        raise
    return cls


def _restore(name: str, previous: types.ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous


def _line_in(exc: BaseException, where: str) -> int:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == where]
    return frames[-1].lineno or 0 if frames else 0


def _class_line(tree: ast.Module, class_name: str) -> int:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return node.lineno
    return 1


def _check_class(
    module: types.ModuleType, class_name: str, tree: ast.Module, where: str
) -> type[Strategy[Any]]:
    line = _class_line(tree, class_name)
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ReloadError(where, line, f"class {class_name} is missing")
    if not isinstance(cls, type) or not issubclass(cls, Strategy):
        raise ReloadError(where, line, f"{class_name} is not a Strategy subclass")
    for callback in CALLBACKS:
        if not callable(getattr(cls, callback, None)):
            raise ReloadError(where, line, f"{class_name}.{callback} is not a method")
    params_type = getattr(cls, "params_type", None)
    if not isinstance(params_type, type) or not issubclass(params_type, Params):
        raise ReloadError(where, line, f"{class_name}.params_type is not a Params class")
    return cls


class StrategyReloader:
    """Reloads the runner's strategies from their source files.

    Args:
        runner: the runner whose strategies are swapped.
    """

    def __init__(self, runner: StrategyRunner) -> None:
        self.runner = runner

    def source_of(self, name: str) -> Path:
        """The source file of the running strategy ``name``.

        Raises:
            KeyError: no strategy of that name.
            ReloadError: its class has no source file (defined in a shell, built in code).
        """
        cls = type(self.runner.strategy(name))
        module = sys.modules.get(cls.__module__)
        file = getattr(module, "__file__", None)
        if not file:
            raise ReloadError(cls.__module__, 0, f"{cls.__name__} has no source file to reload")
        return Path(file)

    def reload(self, name: str) -> Strategy[Any]:
        """Read the strategy's source again and swap the new version in, flat.

        The old instance is stopped in order and its open orders are canceled; the new one keeps
        the old one's parameters (checked against its own ``Params``) and starts with no position.

        Returns:
            The new instance, running.

        Raises:
            KeyError: no strategy of that name.
            ReloadError: the new source is refused (file and line); the running version stays.
        """
        old = self.runner.strategy(name)
        old_cls = type(old)
        path = self.source_of(name)
        cls = load_strategy_file(path, old_cls.__name__, old_cls.__module__)
        missing = [
            cb
            for cb in CALLBACKS
            if cb in vars(old_cls) and getattr(cls, cb) is getattr(Strategy, cb)
        ]
        if missing:
            raise ReloadError(
                str(path),
                _class_line(ast.parse(path.read_text(encoding="utf-8")), cls.__name__),
                f"{cls.__name__} no longer defines {', '.join(missing)} (the running one does)",
            )
        try:
            params = decode_params(cls.params_type, msgspec.to_builtins(old.params), name)
            new = cls(name, params)
        except ParamsError as exc:
            raise ReloadError(str(path), 0, f"the parameters in force are refused: {exc}") from None
        except Exception as exc:
            line = _line_in(exc, str(path))
            raise ReloadError(str(path), line, f"{type(exc).__name__} when built: {exc}") from None
        self.runner.replace(new, "reloaded")
        log.warning(
            "strategy reloaded; started flat",
            extra={"strategy": name, "source": str(path), "class": cls.__name__},
        )
        return new

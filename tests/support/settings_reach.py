"""Which settings models a Lambda function's code reads: `python -m tests.support.settings_reach <dir> [app.handler]`.

Meant for a fresh interpreter whose environment is exactly what the template gives that function
(tests/unit/test_settings_per_function.py): importing the handler there proves that everything read at import time
is set. The models read later, by requests, are found by following the code from the handler module: every function,
class, closure and container it references, through the global names and attributes its bytecode loads (a module
attribute counts when the module is referenced and the attribute name is loaded in the same code), and every
`taskapp` module a function imports lazily. Only taskapp's and the handler's own code is followed.

The roots are what the handler module itself defines or holds: its handler, its route functions and its resolver
with the guards and error handlers `build_api` gave it, so a public route's resolver, built without the revocation
guard, does not count the guard's settings. This over-approximates a little (an attribute of the same name on
another object counts too) and never misses a model that reachable code names, so a function's template variables
must cover it. It cannot see code reached only through getattr() with a computed name; taskapp has none.

`python -m tests.support.settings_reach serve` answers many functions from one process: it imports the third-party
packages every handler loads (none of them reads a setting of ours), then forks one child per request, whose
environment is set to exactly the function's before any taskapp module is imported. A fresh interpreter per function
spent ~1.5 s of CPU each, mostly importing those packages again: 59 functions were a fifth of the unit suite.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import sys
import traceback
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OWN_MODULES = ("taskapp", "app")


def _own(module_name: object) -> bool:
    name = str(module_name or "")
    return any(name == own or name.startswith(f"{own}.") for own in OWN_MODULES)


def _code_names(code: types.CodeType) -> set[str]:
    """Global and attribute names the code loads, nested functions, lambdas and comprehensions included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _module_attributes(module: types.ModuleType, names: set[str]) -> Iterator[Any]:
    """What code naming these attributes can reach through an own module (submodules of a package included)."""
    for attr in names:
        if not hasattr(module, attr) and hasattr(module, "__path__"):
            if importlib.util.find_spec(f"{module.__name__}.{attr}") is None:
                continue
            importlib.import_module(f"{module.__name__}.{attr}")  # `from taskapp import x` inside a function
        if hasattr(module, attr):
            value = getattr(module, attr)
            if isinstance(value, types.ModuleType):
                if _own(value.__name__):
                    yield from _module_attributes(value, names - {attr})
                continue
            yield value


def _referenced(function: types.FunctionType) -> Iterator[Any]:
    names = _code_names(function.__code__)
    scope = function.__globals__
    cells = []
    for cell in function.__closure__ or ():
        try:
            cells.append(cell.cell_contents)
        except ValueError:  # an empty cell: a closure variable not assigned yet
            continue
    lazily_imported = [importlib.import_module(name) for name in names if name.split(".")[0] == "taskapp"]
    for value in [*(scope[name] for name in names if name in scope), *cells, *lazily_imported]:
        if isinstance(value, types.ModuleType):
            if _own(value.__name__):
                yield from _module_attributes(value, names)
            continue
        yield value
    yield from function.__defaults__ or ()
    yield from (function.__kwdefaults__ or {}).values()


def _children(value: Any) -> Iterator[Any]:  # noqa: PLR0911 - one branch per kind of object
    if isinstance(value, types.FunctionType):
        if _own(value.__module__):
            yield from _referenced(value)
        if hasattr(value, "__wrapped__"):
            yield value.__wrapped__
        return
    if isinstance(value, staticmethod | classmethod | types.MethodType):
        yield value.__func__
        return
    if isinstance(value, property):
        yield from (value.fget, value.fset, value.fdel)
        return
    if isinstance(value, functools.partial):
        yield value.func
        yield from value.args
        yield from value.keywords.values()
        return
    if isinstance(value, dict):
        yield from value.values()
        return
    if isinstance(value, list | tuple | set | frozenset):
        yield from value
        return
    if isinstance(value, type):
        if _own(value.__module__):
            yield from vars(value).values()
        return
    if hasattr(value, "__wrapped__") and callable(value):  # functools.cache and friends
        yield value.__wrapped__
        return
    if _own(type(value).__module__):  # an instance of taskapp's own classes: its class and its attributes
        yield type(value)
        yield from _instance_attributes(value)


def _instance_attributes(value: Any) -> Iterator[Any]:
    attributes = list(getattr(value, "__dict__", {}).values())
    for cls in type(value).__mro__:  # slotted classes keep their attributes outside __dict__
        slots = vars(cls).get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if hasattr(value, slot):
                attributes.append(getattr(value, slot))
    yield from attributes
    # One step into the library objects an own instance keeps in a collection: the resolver's Route records hold
    # each route's own middlewares (a create route's idempotency guard), which nothing else refers to.
    for attribute in attributes:
        if isinstance(attribute, list | tuple):
            for item in attribute:
                if not _own(type(item).__module__) and hasattr(item, "__dict__") and not isinstance(item, type):
                    yield from vars(item).values()


def models_read(code_dir: Path, handler: str = "app.handler") -> set[type]:
    sys.path[:0] = [str(code_dir)]
    from taskapp import settings

    module_name, _, entry_point = handler.rpartition(".")
    handler_module = importlib.import_module(module_name)
    accessors = {id(accessor): model for accessor, model in settings.ACCESSORS.items()}
    found: set[type] = set()
    seen: set[int] = set()
    # Roots: what the handler module defines or holds (the handler, route functions, the resolver and its guards),
    # not the helpers it imported: those ran at import (build_api) or are reached from the roots' code.
    pending: list[Any] = [getattr(handler_module, entry_point)] + [
        value
        for value in vars(handler_module).values()
        if not (isinstance(value, types.FunctionType | type) and value.__module__ != handler_module.__name__)
    ]
    while pending:
        value = pending.pop()
        if id(value) in seen or isinstance(value, str | bytes | int | float | bool | types.ModuleType | type(None)):
            continue
        seen.add(id(value))
        if id(value) in accessors:
            found.add(accessors[id(value)])
            continue
        pending.extend(_children(value))
    # Read while modules loaded: at the handler's import, or by the lazy imports followed above.
    found |= {model for accessor, model in settings.ACCESSORS.items() if accessor.cache_info().currsize}  # type: ignore[attr-defined]
    return found


def report_of(code_dir: Path, handler: str = "app.handler") -> dict[str, list[str]]:
    """Settings model name -> its variables, for every model the function's code reads."""
    found = models_read(code_dir.resolve(), handler)
    from taskapp.settings import env_names

    return {model.__name__: list(env_names(model)) for model in sorted(found, key=lambda m: m.__name__)}


# Loaded by `serve` before it forks: what the handlers import from outside taskapp, never taskapp itself.
PRELOADED = (
    "pydantic",
    "aws_lambda_powertools",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
    "botocore.session",
    "boto3",
    "pynamodb.models",
    "redis",
    "jwt",
)


def _answer_in_child(request: dict[str, Any], write_fd: int) -> None:
    """In the forked child: the function's environment, then its report (or the failure) on the pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # what the handler prints must not reach the parent's protocol on stdout
    try:
        os.environ.clear()
        os.environ.update(request["env"])
        answer: dict[str, Any] = {"report": report_of(Path(request["code_dir"]), request["handler"])}
    except BaseException:  # noqa: BLE001 - every failure is the answer, the parent asserts on it
        answer = {"error": traceback.format_exc()[-3000:]}
    with os.fdopen(write_fd, "w") as pipe:
        pipe.write(json.dumps(answer))


def serve() -> int:
    """One request per line on stdin, `{"code_dir", "handler", "env"}`; one JSON line per answer on stdout,
    `{"report": {...}}` or `{"error": "<traceback>"}`. Ends at the end of stdin."""
    assert not any(name == "taskapp" or name.startswith("taskapp.") for name in sys.modules), "taskapp preloaded"
    for name in PRELOADED:
        importlib.import_module(name)
    for line in sys.stdin:
        request = json.loads(line)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _answer_in_child(request, write_fd)
            os._exit(0)
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            answer = pipe.read()
        _, status = os.waitpid(pid, 0)
        sys.stdout.write((answer or json.dumps({"error": f"the child ended with status {status}"})) + "\n")
        sys.stdout.flush()
    return 0


def main(argv: list[str]) -> int:
    if argv[1:2] == ["serve"]:
        return serve()
    print(json.dumps(report_of(Path(argv[1]), *argv[2:3])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

"""Cold start: pause CPython's cyclic garbage collector while a handler module loads, then freeze what it loaded.

Importing a handler creates ~60,000 objects that live as long as the execution environment (modules, classes,
pydantic and botocore schemas). With the collector on, CPython runs ~150 collections over them during the import,
and they find nothing to free: for get_task 47 ms of a 525 ms import on a loaded 2-core machine, the one full
collection freeing 0 objects (benchmarks/perf_budget.md has the idle figures). So each handler imports this module
first, which turns the collector off, and calls `ready()` once its module is loaded (`taskapp.api.lambda_handler`
does it for the API functions): `gc.freeze()` moves everything loaded so far into the permanent generation, so
later collections never scan it either, and the collector is back on before the first request. This is CPython's
documented pattern for long-lived start-up state (gc.freeze), not a deferral: no collection work is postponed.

Only inside a Lambda execution environment (`AWS_LAMBDA_FUNCTION_NAME` is set by Lambda and MiniStack): tests,
the local API server and tools that import taskapp keep the interpreter's default behaviour.
"""

from __future__ import annotations

import gc

from taskapp.settings import runtime_settings

_paused = False


def pause() -> None:
    """Turn the collector off until `ready()`; a no-op outside Lambda or when something else already turned it off."""
    global _paused  # noqa: PLW0603 - one flag per interpreter, like the collector itself
    if runtime_settings().aws_lambda_function_name and gc.isenabled():
        gc.disable()
        _paused = True


def ready() -> None:
    """The handler module is loaded: keep its objects out of every later collection and turn the collector on."""
    global _paused  # noqa: PLW0603
    if _paused:
        gc.freeze()
        gc.enable()
        _paused = False


pause()

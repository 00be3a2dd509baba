"""Import each function's handler in-process, as a Lambda runtime would, and forget them all on a code change."""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from infra.local_api.template import FunctionSpec

Handler = Callable[[dict[str, Any], Any], Any]
# Shared-layer packages whose modules are dropped on reload so the next request imports the new code.
RELOADED_PACKAGES = ("taskapp",)


def module_name_for(spec: FunctionSpec) -> str:
    """Every function's module is called app: give each a unique name (same scheme as tests/support)."""
    module = spec.handler.rsplit(".", 1)[0]
    return f"functions_{spec.folder}_{module.replace('.', '_')}"


def add_layers_to_path(layer_dirs: Iterable[Path]) -> None:
    """Put each layer's source folder on sys.path, as Lambda does with /opt/python."""
    for layer in layer_dirs:
        if str(layer) not in sys.path:
            sys.path.insert(0, str(layer))


class HandlerLoader:
    """Loads handlers lazily (first request = cold start) and caches them (later requests = warm)."""

    def __init__(self, reloaded_packages: tuple[str, ...] = RELOADED_PACKAGES) -> None:
        self._lock = threading.Lock()
        self._reloaded_packages = reloaded_packages
        self._loaded: set[str] = set()

    def load(self, spec: FunctionSpec) -> Handler:
        module_path, _, attribute = spec.handler.rpartition(".")
        name = module_name_for(spec)
        with self._lock:
            module = sys.modules.get(name) or self._import(name, spec.code_dir / f"{module_path.replace('.', '/')}.py")
            self._loaded.add(name)
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise LookupError(f"{spec.logical_id}: {spec.handler} is not a callable in {spec.code_dir}")
        return handler

    @staticmethod
    def _import(name: str, file: Path) -> ModuleType:
        import_spec = importlib.util.spec_from_file_location(name, file)
        if import_spec is None or import_spec.loader is None:
            raise LookupError(f"cannot import {file}")
        module = importlib.util.module_from_spec(import_spec)
        sys.modules[name] = module
        try:
            import_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module

    def forget_all(self) -> None:
        """Drop the function modules this loader imported and the shared layer's packages: the next request is a
        cold start on the new code."""
        with self._lock:
            for name in list(sys.modules):
                if name in self._loaded or name.split(".", 1)[0] in self._reloaded_packages:
                    del sys.modules[name]
            self._loaded.clear()

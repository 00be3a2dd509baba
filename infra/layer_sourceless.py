"""Ship the shared layer's third-party packages as bytecode alone: one file per module instead of two.

Why: every new execution environment unpacks the layer first, and MiniStack does it inside its own process, one
interpreter for every API request it serves: 2,922 files took 1.2-2.4 CPU-s a worker there (issue 17), so a burst
that starts ten workers held up every other request for tens of seconds. Each module shipped as its .py plus
__pycache__/*.pyc is two files, and the .py is never read by the import, since infra/build.sh compiles the build
to unchecked-hash bytecode. Moved to the module's own place (`module.pyc`), the bytecode imports without its
source (CPython's sourceless loader), and the layer shrinks to ~1,600 files.

The project's own package keeps its source beside its bytecode, so a traceback from our code shows its lines;
a library's traceback still names the file and the line number. Type stubs (.pyi, py.typed) go too: nothing
imports them at run time.

    python -m infra.layer_sourceless .aws-sam/build/SharedLayer/python taskapp
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

TYPE_STUBS = ("*.pyi", "py.typed")


@dataclass(frozen=True)
class Trimmed:
    """What `make_sourceless` changed, for the build's log."""

    modules: int
    stubs: int


class MissingBytecode(RuntimeError):
    """A module has no compiled bytecode: dropping its source would drop the module."""


def _kept(path: Path, site_dir: Path, keep_source: Collection[str]) -> bool:
    return path.relative_to(site_dir).parts[0] in keep_source


def make_sourceless(site_dir: Path, keep_source: Collection[str]) -> Trimmed:
    """Replace each module under `site_dir` with its compiled bytecode, except in the top-level packages named
    by `keep_source`; remove the type stubs there too. Compile first (compileall): a module with no
    __pycache__ bytecode of this interpreter raises MissingBytecode before anything is removed."""
    sources = sorted(
        path
        for path in site_dir.rglob("*.py")
        if "__pycache__" not in path.parts and not _kept(path, site_dir, keep_source)
    )
    compiled = {source: Path(importlib.util.cache_from_source(str(source))) for source in sources}
    missing = [str(source.relative_to(site_dir)) for source, cached in compiled.items() if not cached.is_file()]
    if missing:
        raise MissingBytecode(f"{len(missing)} modules have no bytecode to ship, e.g. {missing[:3]}: compile first")
    for source, cached in compiled.items():
        cached.replace(source.with_suffix(".pyc"))
        source.unlink()
    stubs = [
        path
        for pattern in TYPE_STUBS
        for path in site_dir.rglob(pattern)
        if path.is_file() and not _kept(path, site_dir, keep_source)
    ]
    for stub in stubs:
        stub.unlink()
    for cache_dir in sorted(site_dir.rglob("__pycache__"), reverse=True):
        if cache_dir.is_dir() and not any(cache_dir.iterdir()):
            cache_dir.rmdir()
    return Trimmed(modules=len(sources), stubs=len(stubs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site_dir", type=Path, help="the layer's python/ folder, after compileall")
    parser.add_argument("keep_source", nargs="*", help="top-level packages that keep their source")
    args = parser.parse_args(argv)
    trimmed = make_sourceless(args.site_dir, args.keep_source)
    print(f"{trimmed.modules} modules shipped as bytecode alone, {trimmed.stubs} type stubs removed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

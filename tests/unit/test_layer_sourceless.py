"""infra/layer_sourceless.py: the layer's libraries ship as bytecode alone, and still import."""

from __future__ import annotations

import compileall
import py_compile
import subprocess
import sys
from pathlib import Path

import pytest

from infra.layer_sourceless import MissingBytecode, make_sourceless


def _site(root: Path) -> Path:
    site = root / "python"
    (site / "library" / "nested").mkdir(parents=True)
    (site / "library" / "__init__.py").write_text("from library.nested.deep import ANSWER\n")
    (site / "library" / "nested" / "__init__.py").write_text("")
    (site / "library" / "nested" / "deep.py").write_text("ANSWER = 42\n")
    (site / "library" / "__init__.pyi").write_text("ANSWER: int\n")
    (site / "library" / "py.typed").write_text("")
    (site / "library" / "data.json").write_text("{}")
    (site / "taskapp").mkdir()
    (site / "taskapp" / "__init__.py").write_text("from library import ANSWER\n")
    (site / "taskapp" / "py.typed").write_text("")
    return site


def _compile(site: Path) -> None:
    assert compileall.compile_dir(str(site), quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


def test_libraries_keep_one_bytecode_file_per_module_and_the_kept_package_its_source(tmp_path: Path) -> None:
    site = _site(tmp_path)
    _compile(site)

    trimmed = make_sourceless(site, ["taskapp"])

    assert (trimmed.modules, trimmed.stubs) == (3, 2)
    library = sorted(str(p.relative_to(site)) for p in (site / "library").rglob("*"))
    assert library == [
        "library/__init__.pyc",
        "library/data.json",
        "library/nested",
        "library/nested/__init__.pyc",
        "library/nested/deep.pyc",
    ]
    assert (site / "taskapp" / "__init__.py").is_file()
    assert (site / "taskapp" / "py.typed").is_file()
    assert list((site / "taskapp" / "__pycache__").iterdir())


def test_the_sourceless_modules_import(tmp_path: Path) -> None:
    site = _site(tmp_path)
    _compile(site)
    make_sourceless(site, ["taskapp"])

    probe = "import taskapp, library.nested.deep as d; print(taskapp.ANSWER, d.__file__.endswith('deep.pyc'))"
    run = subprocess.run(
        [sys.executable, "-S", "-B", "-c", probe], cwd=site, capture_output=True, text=True, check=False
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["42", "True"]


def test_nothing_is_removed_when_a_module_was_never_compiled(tmp_path: Path) -> None:
    site = _site(tmp_path)

    with pytest.raises(MissingBytecode, match="3 modules have no bytecode"):
        make_sourceless(site, ["taskapp"])

    assert (site / "library" / "nested" / "deep.py").is_file()
    assert (site / "library" / "__init__.pyi").is_file()

"""`sam build` output is what `sam local start-api` / `sam local invoke` would run: proved without Docker.

Reuses .aws-sam/build when it is newer than every source file (make deploy just built it), else runs
infra/build.sh (`sam build --cached`, then the bytecode that ships with it). Checks are static (files, AST,
template, bytecode headers): the clean-interpreter import of the artifacts is tests/integration's job.
"""

from __future__ import annotations

import ast
import json
from functools import cache
from pathlib import Path

import pytest

from infra.local_api.template import SamTemplate
from infra.sam_template import RUNTIME_PROVIDED
from tests.support.build import BUILD_DIR, ensure_built

ROOT = Path(__file__).resolve().parents[2]
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "route"}


@cache
def built() -> SamTemplate:
    return SamTemplate(ensure_built())


def _module_ast(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _top_level_names(module: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _registered_routes(module: ast.Module) -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) for each `@app.<method>("/path/<param>")` decorator in the handler module, and the
    greedy OPTIONS route of a CORS preflight handler."""
    routes = set()
    for node in ast.walk(module):
        # `handler = preflight_handler()` (taskapp.api): the one OPTIONS answer of every path, no resolver routes.
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "preflight_handler":
            routes.add(("OPTIONS", "/{proxy+}"))
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
                continue
            method = decorator.func.attr
            if method not in HTTP_METHODS or not decorator.args or not isinstance(decorator.args[0], ast.Constant):
                continue
            path = str(decorator.args[0].value).replace("<", "{").replace(">", "}")
            routes.add((method.upper(), path))
    return routes


def _settings_env_names() -> set[str]:
    """Every variable a settings model of taskapp/settings.py reads."""
    from taskapp import settings

    return {name for model in settings.ACCESSORS.values() for name in settings.env_names(model)}


def test_every_function_code_uri_and_handler_resolve_in_the_build() -> None:
    template = built()
    assert template.functions, "no functions in the built template"
    for spec in template.functions.values():
        assert spec.code_dir.is_dir(), f"{spec.logical_id}: CodeUri {spec.code_dir} was not built"
        module_path, _, attribute = spec.handler.rpartition(".")
        module_file = spec.code_dir / f"{module_path.replace('.', '/')}.py"
        assert module_file.is_file(), f"{spec.logical_id}: handler module {module_file} missing"
        assert attribute in _top_level_names(_module_ast(module_file)), f"{spec.logical_id}: no {spec.handler}"


def test_layer_is_built_with_the_package_and_its_dependencies_and_every_function_uses_it() -> None:
    template = built()
    layers = [
        logical_id
        for logical_id, resource in template.resources.items()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
    ]
    assert layers == ["SharedLayer"]
    python_dir = template.root / str(template.resources["SharedLayer"]["Properties"]["ContentUri"]) / "python"
    assert (python_dir / "taskapp" / "api.py").is_file()
    requirements = (ROOT / "layers" / "shared" / "requirements.txt").read_text().splitlines()
    for line in requirements:
        name = line.split("==")[0].split("[")[0].strip()
        if not name or name.startswith("#"):
            continue
        dist = name.replace("-", "_").lower()
        assert any(p.name.lower().startswith(f"{dist}-") for p in python_dir.glob("*.dist-info")), (
            f"{name} not in layer"
        )
    global_layers = template.function_globals.get("Layers") or []
    for logical_id, resource in template.resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        layers_used = (resource.get("Properties") or {}).get("Layers") or global_layers
        assert {"Ref": "SharedLayer"} in layers_used, f"{logical_id} does not reference SharedLayer"


def test_every_setting_the_code_reads_is_set_by_the_template() -> None:
    """Per function, tests/unit/test_settings_per_function.py proves the source template sets exactly what the code
    reads; here the built template must give every function those same variables, and every setting is set somewhere."""
    template = built()
    source = SamTemplate(ROOT / "template.yaml")
    for spec in template.functions.values():
        assert set(spec.environment) == set(source.function(spec.logical_id).environment), (
            f"{spec.logical_id}: the build's variables differ from template.yaml's"
        )
    set_somewhere = {name for spec in template.functions.values() for name in spec.environment}
    missing = _settings_env_names() - set_somewhere - RUNTIME_PROVIDED
    assert not missing, f"Settings reads {sorted(missing)} but the template never sets them"


def test_every_route_maps_to_a_handler_that_registers_it() -> None:
    template = built()
    assert template.routes
    for route in template.routes:
        spec = template.function(route.logical_id)
        registered = _registered_routes(_module_ast(spec.code_dir / "app.py"))
        assert (route.method, route.resource) in registered, (
            f"{route.logical_id}: template routes {route.method} {route.resource}, handler registers {registered}"
        )


def test_openapi_spec_ships_with_its_function() -> None:
    spec = built().function("OpenApiFunction")
    assert json.loads((spec.code_dir / "openapi.json").read_text())["paths"]


@pytest.mark.parametrize("env_file", ["env.json", "env.local.json"])
def test_env_files_only_name_variables_the_template_declares(env_file: str) -> None:
    """`sam local --env-vars` silently ignores undeclared names: a typo there would never take effect."""
    template = SamTemplate(ROOT / "template.yaml")
    declared = {name for spec in template.functions.values() for name in spec.environment}
    data = json.loads((ROOT / env_file).read_text())
    for scope, variables in data.items():
        assert scope == "Parameters" or scope in template.functions, f"{env_file}: unknown function {scope}"
        assert set(variables) <= declared, f"{env_file}: {sorted(set(variables) - declared)} are not declared"
    if env_file == "env.json":
        endpoints = " ".join(str(v) for v in data["Parameters"].values())
        assert "127.0.0.1" not in endpoints, "a container cannot reach the host's 127.0.0.1: use host.docker.internal"


LAYER_SITE = BUILD_DIR / "SharedLayer" / "python"
# infra/build.sh keeps these packages' source beside their bytecode (infra/layer_sourceless.py); the rest of
# the layer ships bytecode alone.
LAYER_PACKAGES_WITH_SOURCE = ("taskapp",)


def _unchecked_hash_header(pyc: Path) -> tuple[bool, bytes]:
    """Whether `pyc` is unchecked-hash bytecode of this interpreter, and the source hash it carries."""
    import importlib.util

    header = pyc.read_bytes()[:16]
    flags = int.from_bytes(header[4:8], "little")
    return header[:4] == importlib.util.MAGIC_NUMBER and flags == 0b01, header[8:16]


def _built_python_files() -> list[Path]:
    built()
    return sorted(path for path in BUILD_DIR.rglob("*.py") if "__pycache__" not in path.parts)


def test_every_built_module_with_source_ships_bytecode_compiled_from_that_very_source() -> None:
    """Lambda's code folders are read-only: a module without bytecode is compiled again on every cold start, and
    unchecked-hash bytecode is never revalidated, so a .pyc of an older source would run instead of the new one."""
    import importlib.util

    sources = _built_python_files()
    assert len(sources) > 100, f"only {len(sources)} modules with source in {BUILD_DIR}: is the code missing?"
    missing, stale, checked = [], [], []
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.is_file():
            missing.append(source)
            continue
        unchecked, source_hash = _unchecked_hash_header(cached)
        if not unchecked:
            checked.append(source)  # not the magic of this runtime, or a timestamp/checked-hash .pyc
        elif source_hash != importlib.util.source_hash(source.read_bytes()):
            stale.append(source)
    relative = lambda paths: [str(p.relative_to(BUILD_DIR)) for p in paths[:5]]  # noqa: E731
    assert not missing, f"{len(missing)} modules ship without bytecode, e.g. {relative(missing)}"
    assert not checked, f"{len(checked)} .pyc are not unchecked-hash bytecode of this Python, e.g. {relative(checked)}"
    assert not stale, f"{len(stale)} .pyc were compiled from another source, e.g. {relative(stale)}"


def test_the_layers_libraries_ship_bytecode_alone_compiled_by_this_python() -> None:
    """One file per library module, not two (every new worker unpacks the layer: infra/layer_sourceless.py), and
    each of them bytecode the runtime's Python imports without a source."""
    built()
    outside_kept = lambda path: path.relative_to(LAYER_SITE).parts[0] not in LAYER_PACKAGES_WITH_SOURCE  # noqa: E731
    sourceless = sorted(path for path in LAYER_SITE.rglob("*.pyc") if "__pycache__" not in path.parts)
    assert len(sourceless) > 500, f"only {len(sourceless)} sourceless modules in {LAYER_SITE}: is the layer missing?"
    assert all(outside_kept(path) for path in sourceless), "a package meant to keep its source ships bytecode alone"
    left = [path for path in LAYER_SITE.rglob("*") if outside_kept(path) and path.suffix in (".py", ".pyi")]
    assert not left, f"{len(left)} library sources or stubs still ship, e.g. {left[:3]}"
    caches = [path for path in LAYER_SITE.rglob("__pycache__") if outside_kept(path)]
    assert not caches, f"library __pycache__ folders still ship, e.g. {caches[:3]}"
    wrong = [path for path in sourceless if not _unchecked_hash_header(path)[0]]
    assert not wrong, f"{len(wrong)} .pyc are not this Python's bytecode, e.g. {wrong[:3]}"

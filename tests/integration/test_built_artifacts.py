"""The built artifacts carry their own dependencies: each handler imports with only its folder and its layers.

MiniStack runs functions on its own interpreter, where boto3 and friends are importable anyway, so a dependency
missing from `.aws-sam/build` would go unnoticed until a real deploy. Here each handler is imported in an isolated
interpreter (`-I -S`: no site-packages, no PYTHON* variables, no current directory) whose path is only the built
function folder plus its built layers' `python/` folders, with the function's environment from the built template.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.api_client import load_template
from tests.support.build import BUILD_DIR, ensure_built
from tests.support.lambda_events import ROOT

pytestmark = pytest.mark.integration

# Runs inside the clean interpreter: import the handler, then list every loaded module that came from
# anywhere but the standard library, the function folder or its layers, and every module of the artifacts that
# had no shipped bytecode (so was compiled from source, as it would be on every cold start in Lambda).
IMPORT_PROBE = """
import gc, importlib, json, os, sys
handler_path, allowed = sys.argv[1], sys.argv[2:]
stdlib = [entry for entry in sys.path if entry]
leaks = [entry for entry in stdlib if "site-packages" in entry or "dist-packages" in entry]
sys.path[:0] = allowed
module_name, _, attribute = handler_path.rpartition(".")
handler = getattr(importlib.import_module(module_name), attribute)
roots = tuple(allowed + stdlib)
files = {getattr(module, "__file__", None) for module in list(sys.modules.values())}
outside = sorted(file for file in files if file and not file.startswith(roots))
sources = [module for module in list(sys.modules.values()) if (getattr(module, "__file__", None) or "").endswith(".py")]
compiled = sorted(
    module.__file__ for module in sources
    if module.__file__.startswith(tuple(allowed)) and not os.path.isfile(getattr(module, "__cached__", None) or "")
)
print(json.dumps({"callable": callable(handler), "outside": outside, "site_paths": leaks, "compiled": compiled,
                  "version": list(sys.version_info[:2]), "gc_enabled": gc.isenabled(),
                  "gc_frozen": gc.get_freeze_count()}))
"""


@dataclass(frozen=True)
class BuiltFunction:
    name: str
    handler: str
    runtime: str
    code_dir: Path
    layer_dirs: list[Path]
    environment: dict[str, str]


def _function_names(template: dict[str, Any]) -> list[str]:
    resources = template["Resources"]
    return sorted(name for name, res in resources.items() if res["Type"] == "AWS::Serverless::Function")


@pytest.fixture(scope="module")
def built_template() -> dict[str, Any]:
    """The build infra/deploy.sh made, rebuilt first when it is missing or older than a source file."""
    return load_template(ensure_built())


def _resolve(value: Any, template: dict[str, Any]) -> str:
    """Environment values as the function would see them: parameters take their defaults, resources a name."""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, dict) and "Ref" in value:
        name = value["Ref"]
        parameter = template.get("Parameters", {}).get(name)
        if parameter is not None:
            return str(parameter.get("Default", ""))
        return f"{name}-artifact-check"
    return "artifact-check"


def _built_function(template: dict[str, Any], name: str) -> BuiltFunction:
    defaults = template.get("Globals", {}).get("Function", {})
    properties = template["Resources"][name]["Properties"]
    variables = {
        **defaults.get("Environment", {}).get("Variables", {}),
        **properties.get("Environment", {}).get("Variables", {}),
    }
    layer_dirs = []
    for layer in [*defaults.get("Layers", []), *properties.get("Layers", [])]:
        assert isinstance(layer, dict) and "Ref" in layer, f"{name}: layer {layer} is not a layer of this template"
        layer_dirs.append(BUILD_DIR / template["Resources"][layer["Ref"]]["Properties"]["ContentUri"] / "python")
    return BuiltFunction(
        name=name,
        handler=properties.get("Handler", defaults.get("Handler", "")),
        runtime=properties.get("Runtime", defaults.get("Runtime", "")),
        code_dir=BUILD_DIR / properties["CodeUri"],
        layer_dirs=layer_dirs,
        environment={key: _resolve(value, template) for key, value in variables.items()},
    )


def _interpreter_for(runtime: str) -> str:
    """The runner's own interpreter when it is the runtime's version (compiled wheels are version-specific)."""
    wanted = runtime.removeprefix("python")
    if f"{sys.version_info.major}.{sys.version_info.minor}" == wanted:
        return sys.executable
    return f"python{wanted}"


def _import_in_clean_interpreter(function: BuiltFunction, path: list[Path]) -> subprocess.CompletedProcess[str]:
    environment = {
        **function.environment,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [
            _interpreter_for(function.runtime),
            "-I",
            "-S",
            "-B",  # Lambda's code folders are read-only: no bytecode is written, the shipped one is used
            "-c",
            IMPORT_PROBE,
            function.handler,
            *map(str, path),
        ],
        cwd=function.code_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_function_of_the_template_was_built(built_template: dict[str, Any]) -> None:
    source_functions = _function_names(load_template())
    assert source_functions, "template.yaml declares no functions"
    assert _function_names(built_template) == source_functions
    for name in source_functions:
        assert (BUILD_DIR / name).is_dir(), f"{name} has no build folder"


@pytest.mark.parametrize("name", _function_names(load_template()))
def test_handler_imports_with_only_its_built_folder_and_layers(built_template: dict[str, Any], name: str) -> None:
    function = _built_function(built_template, name)
    assert function.layer_dirs, f"{name} has no layer: where would its dependencies come from?"
    for folder in [function.code_dir, *function.layer_dirs]:
        assert folder.is_dir(), f"{name}: {folder} is missing from the build"

    result = _import_in_clean_interpreter(function, [function.code_dir, *function.layer_dirs])

    assert result.returncode == 0, f"{name} ({function.handler}) does not import:\n{result.stderr[-4000:]}"
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["site_paths"] == [], "the clean interpreter still sees a site-packages folder"
    assert report["version"] == [int(part) for part in function.runtime.removeprefix("python").split(".")]
    assert report["callable"] is True, f"{function.handler} is not callable"
    assert report["outside"] == [], f"{name} imported modules from outside its artifacts: {report['outside']}"
    assert report["compiled"] == [], f"{name} compiled modules the build shipped without bytecode: {report['compiled']}"
    # AWS_LAMBDA_FUNCTION_NAME is set, as in Lambda: the cold-start pause of the collector ended (taskapp.coldstart).
    assert report["gc_enabled"] is True, f"{name} left the garbage collector off after loading"
    assert report["gc_frozen"] > 0, f"{name} did not freeze its loaded modules"


def test_the_check_catches_a_missing_dependency(built_template: dict[str, Any]) -> None:
    """Control: without its layer the same import must fail, or the test above proves nothing."""
    function = _built_function(built_template, "GetTaskFunction")

    result = _import_in_clean_interpreter(function, [function.code_dir])

    assert result.returncode != 0
    assert "ModuleNotFoundError" in result.stderr


BOTOCORE_SERVICES_FILE = ROOT / "infra" / "layer-botocore-services.txt"
CLIENTS_PROBE = """
import json, sys
sys.path[:0] = sys.argv[2:]
import botocore.session
session = botocore.session.get_session()
for service in json.loads(sys.argv[1]):
    session.create_client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
print(json.dumps(sorted(session.get_available_services())))
"""


def test_the_layer_keeps_exactly_the_botocore_models_its_functions_call(built_template: dict[str, Any]) -> None:
    """infra/build.sh trims botocore's ~440 service models to this list: a client for each must still build from
    the layer alone, and nothing else may be left (or the trimming stopped working and every cold start pays)."""
    wanted = sorted(
        line.split("#")[0].strip()
        for line in BOTOCORE_SERVICES_FILE.read_text().splitlines()
        if line.split("#")[0].strip()
    )
    assert "dynamodb" in wanted
    function = _built_function(built_template, "GetTaskFunction")

    result = subprocess.run(
        [_interpreter_for(function.runtime), "-I", "-S", "-B", "-c", CLIENTS_PROBE, json.dumps(wanted)]
        + [str(path) for path in function.layer_dirs],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, f"a client of {wanted} does not build from the layer:\n{result.stderr[-3000:]}"
    assert json.loads(result.stdout.strip().splitlines()[-1]) == wanted

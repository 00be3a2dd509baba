"""The one reader of SAM templates for infra/: YAML with CloudFormation's short-form tags, parameter defaults and
overrides, the intrinsic functions the tools need (Ref, Fn::Sub, Fn::Join, Fn::If over the template's
Conditions), and the functions with their events and environment.

The event-source bridge (`infra/bridge/template.py`) and the local API (`infra/local_api/template.py`) build on
it. An unknown Ref has one behaviour for both: a name the resolver was not given a value for raises
TemplateError naming it, because a typo must not become a topic, a queue or an env var. A resource has no value
before it is deployed: the local API gives each resource its logical id as a stand-in (an env file then names the
real table), and the bridge, which needs physical names, gives none, so a resource Ref there is an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = ROOT / "template.yaml"
SERVERLESS_FUNCTION = "AWS::Serverless::Function"

# What the pseudo parameters are when no stack says otherwise (local runs, tests).
LOCAL_PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "000000000000",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "taskapp-local",
}


# Set by the Lambda runtime (or MiniStack / LocalStack) in every function, never by the template.
RUNTIME_PROVIDED = frozenset(
    {"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_LAMBDA_FUNCTION_NAME", "LAMBDA_TASK_ROOT"}
)


class TemplateError(ValueError):
    """The template says something the tools cannot resolve or serve as written."""


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt, !Sub ...) as {"Ref": ...}-style mappings."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """yaml.load's own steps with our SafeLoader subclass (spelled out so scanners see no unsafe yaml.load)."""
    loader = _CfnLoader(path.read_text())
    try:
        return dict(loader.get_single_data() or {})
    finally:
        loader.dispose()


def default_parameters(template: Mapping[str, Any]) -> dict[str, str]:
    """Parameter defaults, so a template can be inspected without a deployed stack (tests, dry runs)."""
    return {
        name: str(spec["Default"]) for name, spec in (template.get("Parameters") or {}).items() if "Default" in spec
    }


def serverless_functions(template: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(logical id, Properties) of every `AWS::Serverless::Function`, in template order."""
    for logical_id, resource in (template.get("Resources") or {}).items():
        if isinstance(resource, Mapping) and resource.get("Type") == SERVERLESS_FUNCTION:
            yield logical_id, resource.get("Properties") or {}


class _NoValue:
    """`!Ref AWS::NoValue`: the property, list element or env var is left out."""


NO_VALUE = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class Resolver:
    """Resolves Ref, Fn::Sub, Fn::Join, Fn::If, Fn::Select and Fn::Split against the values it is given; other
    mappings are walked."""

    def __init__(
        self,
        parameters: Mapping[str, str],
        pseudo: Mapping[str, str] | None = None,
        *,
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        self._values = {**(pseudo or {}), **parameters}
        self._conditions = dict(conditions or {})

    def resolve(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            if len(value) == 1:
                ((key, argument),) = value.items()
                intrinsic = self._intrinsics.get(key)
                if intrinsic is not None:
                    return intrinsic(argument)
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        return value

    @cached_property
    def _intrinsics(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": lambda name: self.lookup(str(name)),
            "Fn::Sub": self._sub,
            "Fn::Join": self._join,
            "Fn::If": self._if,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
        }

    def _select(self, spec: Any) -> Any:
        index, items = spec
        return self.resolve(items)[int(self.resolve(index))]

    def _split(self, spec: Any) -> list[str]:
        delimiter, text = spec
        return str(self.resolve(text)).split(str(delimiter))

    def _if(self, spec: Any) -> Any:
        name, when_true, when_false = spec
        return self.resolve(when_true if self.condition(str(name)) else when_false)

    def text(self, value: Any) -> str:
        """`resolve`, as an env var holds it: what is still a mapping (!GetAtt ...) becomes its JSON."""
        resolved = self.resolve(value)
        if isinstance(resolved, dict | list):
            return json.dumps(resolved)
        return str(resolved)

    def lookup(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name not in self._values:
            raise TemplateError(f"cannot resolve Ref {name!r}: no parameter, pseudo parameter or resource value")
        return self._values[name]

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            raise TemplateError(f"unknown condition {name!r}")
        return self._evaluate(self._conditions[name])

    def _evaluate(self, spec: Any) -> bool:
        if isinstance(spec, Mapping) and len(spec) == 1:
            ((key, argument),) = spec.items()
            if key == "Condition":
                return self.condition(str(argument))
            if key == "Fn::Equals":
                left, right = (self.resolve(item) for item in argument)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._evaluate(argument[0])
            if key == "Fn::And":
                return all(self._evaluate(item) for item in argument)
            if key == "Fn::Or":
                return any(self._evaluate(item) for item in argument)
        if isinstance(spec, bool):
            return spec
        raise TemplateError(f"cannot evaluate condition {spec!r}")

    def _sub(self, spec: Any) -> str:
        if isinstance(spec, list):
            text, extra = spec[0], {key: str(self.resolve(item)) for key, item in spec[1].items()}
        else:
            text, extra = spec, {}

        def variable(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                return extra[name]
            if "." in name:  # ${Resource.Attribute}: a GetAtt, known only once deployed
                resource = name.split(".", 1)[0]
                return f"{self.lookup(resource)}.{name.split('.', 1)[1]}"
            return str(self.lookup(name))

        return _SUB_VARIABLE.sub(variable, str(text))

    def _join(self, spec: Any) -> str:
        delimiter, items = spec
        resolved = self.resolve(items)
        if isinstance(resolved, str):  # !Join [",", !Ref SomeList]: a CommaDelimitedList parameter
            return resolved.replace(",", str(delimiter))
        return str(delimiter).join(str(item) for item in resolved)


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # module.attribute, e.g. app.handler
    environment: dict[str, Any]  # raw template values (Globals merged), resolved by SamTemplate.environment_for
    events: dict[str, Any] = field(default_factory=dict, compare=False)  # raw `Events`

    @property
    def folder(self) -> str:
        return self.code_dir.name


class SamTemplate:
    """A read-only view of a SAM template with SAM's Globals merged into each function."""

    def __init__(self, path: Path = TEMPLATE_PATH) -> None:
        self.path = path
        self.root = path.parent
        self.raw = load_template(path)
        self.resources: dict[str, Any] = self.raw.get("Resources", {})

    @cached_property
    def function_globals(self) -> dict[str, Any]:
        return dict((self.raw.get("Globals") or {}).get("Function") or {})

    @cached_property
    def parameter_defaults(self) -> dict[str, str]:
        return default_parameters(self.raw)

    @cached_property
    def functions(self) -> dict[str, FunctionSpec]:
        specs = {}
        for logical_id, props in serverless_functions(self.raw):
            env = dict(((self.function_globals.get("Environment") or {}).get("Variables")) or {})
            env.update(((props.get("Environment") or {}).get("Variables")) or {})
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                code_dir=(self.root / str(props["CodeUri"])).resolve(),
                handler=str(props.get("Handler") or self.function_globals.get("Handler", "app.handler")),
                environment=env,
                events=dict(props.get("Events") or {}),
            )
        return specs

    def function(self, name: str) -> FunctionSpec:
        """Look a function up by logical id (CreateTaskFunction) or by folder name (create_task)."""
        if name in self.functions:
            return self.functions[name]
        for spec in self.functions.values():
            if spec.folder == name:
                return spec
        raise LookupError(f"no function {name!r} in {self.path.name} (logical ids: {', '.join(self.functions)})")

    def local_resolver(self, parameters: Mapping[str, str] | None = None) -> Resolver:
        """Parameter defaults (then `parameters`), local pseudo parameters, each resource standing for its id."""
        stand_ins = {logical_id: logical_id for logical_id in self.resources}
        return Resolver(
            {**stand_ins, **self.parameter_defaults, **(parameters or {})},
            LOCAL_PSEUDO_PARAMETERS,
            conditions=self.raw.get("Conditions"),
        )

    def environment_for(
        self,
        function: FunctionSpec,
        parameters: dict[str, str] | None = None,
        env_vars: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        """The function's env vars resolved locally, then an env.json-style file applied like `sam local`.

        env_vars uses SAM's `--env-vars` format: {"Parameters": {VAR: value}} for every function and
        {"<LogicalId>": {VAR: value}} for one; only variables the template declares are overridden, as in SAM.
        """
        resolver = self.local_resolver(parameters)
        resolved = {}
        for name, value in function.environment.items():
            if resolver.resolve(value) is not NO_VALUE:
                resolved[name] = resolver.text(value)
        for scope in ("Parameters", function.logical_id):
            for name, value in ((env_vars or {}).get(scope) or {}).items():
                if name in resolved:
                    resolved[name] = str(value)
        return resolved

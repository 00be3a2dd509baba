"""What the local gateway needs from template.yaml: routes, functions, their env vars, the authorizer and layers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !GetAtt, !Sub ...) as {"Ref": ...}-style mappings."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    key = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
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
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


@dataclass(frozen=True)
class Route:
    """One API event of a function: METHOD + resource path, as API Gateway matches it."""

    method: str
    resource: str
    function: str  # folder name under functions/ (kept for the test client's callers)
    authorized: bool
    pattern: re.Pattern[str] = field(compare=False)
    logical_id: str = ""

    @staticmethod
    def compile(resource: str) -> re.Pattern[str]:
        # {name} matches one segment, {name+} (greedy proxy) the rest of the path.
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", resource)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # module.attribute, e.g. app.handler
    environment: dict[str, Any]  # raw template values, resolved by SamTemplate.environment_for

    @property
    def folder(self) -> str:
        return self.code_dir.name


@dataclass(frozen=True)
class GatewayResponseSpec:
    """One customised gateway response: status (None keeps the type's own), mapping template, static headers."""

    status: int | None
    template: str | None
    headers: dict[str, str]

    @staticmethod
    def of(props: dict[str, Any], headers: dict[str, str]) -> GatewayResponseSpec:
        status = props.get("StatusCode")
        template = (props.get("ResponseTemplates") or {}).get("application/json")
        # Header values are mapping expressions; only static ones ('1') can be answered without a request.
        static = {
            name: value[1:-1] for name, value in headers.items() if len(value) >= 2 and value[0] == value[-1] == "'"
        }
        return GatewayResponseSpec(int(status) if status is not None else None, template, static)


class SamTemplate:
    """A read-only view of template.yaml with SAM's Globals merged into each function."""

    def __init__(self, path: Path = TEMPLATE_PATH) -> None:
        self.path = path
        self.root = path.parent
        self.raw = load_template(path)
        self.resources: dict[str, Any] = self.raw.get("Resources", {})

    @cached_property
    def function_globals(self) -> dict[str, Any]:
        return dict((self.raw.get("Globals") or {}).get("Function") or {})

    @cached_property
    def functions(self) -> dict[str, FunctionSpec]:
        specs = {}
        for logical_id, resource in self.resources.items():
            if resource.get("Type") != "AWS::Serverless::Function":
                continue
            props = resource.get("Properties") or {}
            env = dict(((self.function_globals.get("Environment") or {}).get("Variables")) or {})
            env.update(((props.get("Environment") or {}).get("Variables")) or {})
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                code_dir=(self.root / str(props["CodeUri"])).resolve(),
                handler=str(props.get("Handler") or self.function_globals.get("Handler", "app.handler")),
                environment=env,
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

    @cached_property
    def routes(self) -> tuple[Route, ...]:
        routes = []
        for logical_id, resource in self.resources.items():
            if resource.get("Type") != "AWS::Serverless::Function":
                continue
            for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
                if event.get("Type") != "Api":
                    continue
                props = event["Properties"]
                opted_out = (props.get("Auth") or {}).get("Authorizer") == "NONE"
                authorized = not opted_out and self.default_authorizer is not None
                routes.append(
                    Route(
                        method=str(props["Method"]).upper(),
                        resource=str(props["Path"]),
                        function=self.functions[logical_id].folder,
                        authorized=authorized,
                        pattern=Route.compile(str(props["Path"])),
                        logical_id=logical_id,
                    )
                )
        return tuple(routes)

    @cached_property
    def api(self) -> dict[str, Any]:
        return next(
            (r.get("Properties") or {} for r in self.resources.values() if r.get("Type") == "AWS::Serverless::Api"),
            {},
        )

    @cached_property
    def default_authorizer(self) -> str | None:
        return (self.api.get("Auth") or {}).get("DefaultAuthorizer")

    @cached_property
    def authorizer_function(self) -> FunctionSpec | None:
        """The TOKEN authorizer's function, from `FunctionArn: !GetAtt Fn.Arn`."""
        if not self.default_authorizer:
            return None
        spec = self.api["Auth"]["Authorizers"][self.default_authorizer]
        return self.functions[spec["FunctionArn"]["Fn::GetAtt"][0]]

    @cached_property
    def authorizer_header(self) -> str:
        if not self.default_authorizer:
            return "Authorization"
        identity = self.api["Auth"]["Authorizers"][self.default_authorizer].get("Identity") or {}
        return str(identity.get("Header", "Authorization"))

    @cached_property
    def binary_media_types(self) -> tuple[str, ...]:
        return tuple(str(t).replace("~1", "/") for t in self.api.get("BinaryMediaTypes") or ())

    @cached_property
    def gateway_responses(self) -> dict[str, GatewayResponseSpec]:
        """The API's customised gateway responses by type (UNAUTHORIZED, DEFAULT_4XX, ...).

        Both spellings count: SAM's `GatewayResponses` of the Api and `AWS::ApiGateway::GatewayResponse` resources
        (which win, as the later PUT does in API Gateway). Conditions are ignored: the local gateway answers like
        the stack that has them.
        """
        specs: dict[str, GatewayResponseSpec] = {}
        for kind, spec in (self.api.get("GatewayResponses") or {}).items():
            headers = ((spec.get("ResponseParameters") or {}).get("Headers")) or {}
            specs[str(kind)] = GatewayResponseSpec.of(spec, {str(k): str(v) for k, v in headers.items()})
        prefix = "gatewayresponse.header."
        for resource in self.resources.values():
            if resource.get("Type") != "AWS::ApiGateway::GatewayResponse":
                continue
            props = resource.get("Properties") or {}
            parameters = props.get("ResponseParameters") or {}
            headers = {k[len(prefix) :]: str(v) for k, v in parameters.items() if str(k).startswith(prefix)}
            specs[str(props["ResponseType"])] = GatewayResponseSpec.of(props, headers)
        return specs

    @cached_property
    def layer_dirs(self) -> tuple[Path, ...]:
        """Source folders of the template's layers: the local gateway puts them on sys.path like /opt/python."""
        return tuple(
            (self.root / str(r["Properties"]["ContentUri"])).resolve()
            for r in self.resources.values()
            if r.get("Type") == "AWS::Serverless::LayerVersion"
        )

    @cached_property
    def parameter_defaults(self) -> dict[str, str]:
        return {
            name: str(spec["Default"]) for name, spec in (self.raw.get("Parameters") or {}).items() if "Default" in spec
        }

    def environment_for(
        self,
        function: FunctionSpec,
        parameters: dict[str, str] | None = None,
        env_vars: dict[str, Any] | None = None,
    ) -> dict[str, str]:
        """The function's env vars with !Ref resolved, then an env.json-style file applied like `sam local`.

        env_vars uses SAM's `--env-vars` format: {"Parameters": {VAR: value}} for every function and
        {"<LogicalId>": {VAR: value}} for one; only variables the template declares are overridden, as in SAM.
        """
        params = {
            **self.parameter_defaults,
            "AWS::Region": "us-east-1",
            "AWS::StackName": "taskapp-local",
            **(parameters or {}),
        }
        resolved = {name: self._resolve(value, params) for name, value in function.environment.items()}
        for scope in ("Parameters", function.logical_id):
            for name, value in ((env_vars or {}).get(scope) or {}).items():
                if name in resolved:
                    resolved[name] = str(value)
        return resolved

    def _resolve(self, value: Any, params: dict[str, str]) -> str:
        """Ref, Fn::Sub and Fn::Join over parameters: the intrinsics the template's environment uses."""
        if isinstance(value, dict) and "Ref" in value:
            ref = str(value["Ref"])
            return params.get(ref, ref)  # a resource's Ref stands for its logical id until an env file names it
        if isinstance(value, dict) and "Fn::Sub" in value:
            text, extra = value["Fn::Sub"], {}
            if isinstance(text, list):
                text, extra = text[0], {key: self._resolve(item, params) for key, item in text[1].items()}
            names = {**params, **extra}
            return re.sub(r"\$\{([^}!]+)\}", lambda match: names.get(match.group(1), match.group(0)), str(text))
        if isinstance(value, dict) and "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            if isinstance(items, dict):  # !Join [",", !Ref SomeList]: a CommaDelimitedList parameter
                return self._resolve(items, params).replace(",", delimiter)
            return str(delimiter).join(self._resolve(item, params) for item in items)
        if isinstance(value, dict):
            return json.dumps(value)
        return str(value)

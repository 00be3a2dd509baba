"""What the local gateway needs from template.yaml: routes, functions, their env vars, the authorizer and layers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from infra import sam_template
from infra.sam_template import ROOT, TEMPLATE_PATH, FunctionSpec, load_template

__all__ = ["ROOT", "TEMPLATE_PATH", "FunctionSpec", "Route", "SamTemplate", "load_template"]


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


# The web origins `make local-api` serves: Vite's dev server (`make web-dev`). env.local.json gives the functions
# the same WEB_ORIGINS, so the gateway's own answers and the functions' name the same origin.
LOCAL_WEB_ORIGINS = "http://localhost:5173,http://127.0.0.1:5173"
LOCAL_WEB_PARAMETERS = {"WebCdn": "false", "WebOrigins": LOCAL_WEB_ORIGINS}


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


class SamTemplate(sam_template.SamTemplate):
    """The shared template reader plus what API Gateway reads: routes, the authorizer, media types, layers."""

    @cached_property
    def routes(self) -> tuple[Route, ...]:
        routes = []
        for logical_id, spec in self.functions.items():
            for event in spec.events.values():
                if event.get("Type") != "Api":
                    continue
                props = event["Properties"]
                opted_out = (props.get("Auth") or {}).get("Authorizer") == "NONE"
                authorized = not opted_out and self.default_authorizer is not None
                routes.append(
                    Route(
                        method=str(props["Method"]).upper(),
                        resource=str(props["Path"]),
                        function=spec.folder,
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
        # Header values may be intrinsics (the CORS origin): resolved as a local stack deploys them.
        resolver = self.local_resolver(LOCAL_WEB_PARAMETERS)

        def resolved(headers: dict[str, Any]) -> dict[str, str]:
            values = resolver.resolve(headers)
            return {str(k): str(v) for k, v in values.items()}

        for kind, spec in (self.api.get("GatewayResponses") or {}).items():
            headers = ((spec.get("ResponseParameters") or {}).get("Headers")) or {}
            specs[str(kind)] = GatewayResponseSpec.of(spec, resolved(headers))
        prefix = "gatewayresponse.header."
        for resource in self.resources.values():
            if resource.get("Type") != "AWS::ApiGateway::GatewayResponse":
                continue
            props = resource.get("Properties") or {}
            parameters = props.get("ResponseParameters") or {}
            headers = resolved({k[len(prefix) :]: v for k, v in parameters.items() if str(k).startswith(prefix)})
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

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

    def gateway_response(self, kind: str) -> tuple[int, str] | None:
        """(status, body) of a GatewayResponses entry such as UNAUTHORIZED, as the template customises it."""
        spec = (self.api.get("GatewayResponses") or {}).get(kind)
        if not spec:
            return None
        body = (spec.get("ResponseTemplates") or {}).get("application/json", "")
        return int(spec.get("StatusCode", 500)), str(body)

    @cached_property
    def layer_dirs(self) -> tuple[Path, ...]:
        """Source folders of the template's layers: the local gateway puts them on sys.path like /opt/python."""
        return tuple(
            (self.root / str(r["Properties"]["ContentUri"])).resolve()
            for r in self.resources.values()
            if r.get("Type") == "AWS::Serverless::LayerVersion"
        )

"""Serve template.yaml's REST API in-process: the same route table, authorizer and proxy events as API Gateway.

`LocalGateway` is the one router and event builder used by the HTTP dev server (`make local-api`) and by the
test client in tests/support/api_client.py, so what a unit test sees is what the dev server serves.
"""

from infra.local_api.gateway import GatewayResponse, HttpRequest, LocalGateway, build_proxy_event
from infra.local_api.template import FunctionSpec, Route, SamTemplate, load_template

__all__ = [
    "FunctionSpec",
    "GatewayResponse",
    "HttpRequest",
    "LocalGateway",
    "Route",
    "SamTemplate",
    "build_proxy_event",
    "load_template",
]

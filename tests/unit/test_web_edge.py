"""The browser edge (issue 14): CORS for the configured web origins only, security headers on every answer, the
one preflight function, gateway responses that carry the same headers, and the web app's upload.

Resolvers are built here after WEB_ORIGINS is set: `lambda_handler` reads the CORS settings once, when a function's
module is imported (the functions the shared test client loaded keep the origins of their import).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from infra import web_upload
from infra.local_api import HttpRequest, LocalGateway, SamTemplate
from infra.local_api.template import LOCAL_WEB_ORIGINS
from infra.sam_template import Resolver
from taskapp import api, settings
from taskapp.errors import ValidationFailed
from tests.support.api_client import ApiClient, load_template
from tests.support.lambda_events import FakeLambdaContext, api_event

ROOT = Path(__file__).resolve().parents[2]
WEB = "https://app.example.com"
DEV = "http://localhost:5173"


@pytest.fixture
def origins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WEB_ORIGINS", f"{WEB}, {DEV}/")
    settings.clear_cache()
    yield
    monkeypatch.delenv("WEB_ORIGINS")
    settings.clear_cache()


def _context(name: str) -> Any:
    return FakeLambdaContext(name)


def _handler(*, fail: bool = False) -> Any:
    app = api.build_api(authenticated=False, storage=False)

    @app.get("/ping")
    def ping() -> api.Response[Any]:
        if fail:
            raise ValidationFailed("nope")
        return api.Response(status_code=200, content_type="application/json", body={"ok": True})

    return api.lambda_handler(app)


def _headers(result: dict[str, Any]) -> dict[str, str]:
    merged = {name: str(value) for name, value in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        merged[name] = str(values[-1])
    return merged


def _call(
    handler: Any, method: str = "GET", path: str = "/ping", origin: str | None = None, **kw: Any
) -> dict[str, Any]:
    headers = {"Origin": origin} if origin else {}
    result: dict[str, Any] = handler(api_event(method, path, headers=headers, **kw), _context("edge"))
    return result


def test_origins_are_exact_and_never_a_wildcard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_ORIGINS", " https://a.example/ ,*,, http://b.example:8080")
    assert settings.load(settings.CorsSettings).origins == ("https://a.example", "http://b.example:8080")
    monkeypatch.setenv("WEB_ORIGINS", "")
    settings.clear_cache()
    assert api.cors_config() is None


@pytest.mark.usefixtures("origins")
@pytest.mark.parametrize("origin", [WEB, DEV])
def test_an_answer_to_a_configured_origin_names_it(origin: str) -> None:
    headers = _headers(_call(_handler(), origin=origin))
    assert headers["Access-Control-Allow-Origin"] == origin
    assert headers["Vary"] == "Origin"
    assert "Retry-After" in headers["Access-Control-Expose-Headers"]
    assert "ETag" in headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in headers


@pytest.mark.usefixtures("origins")
@pytest.mark.parametrize("origin", [None, "https://evil.example", "https://app.example.com.evil.example", "null"])
def test_another_origin_gets_no_cors_header(origin: str | None) -> None:
    headers = _headers(_call(_handler(), origin=origin))
    assert "Access-Control-Allow-Origin" not in headers
    assert headers["Vary"] == "Origin"


@pytest.mark.usefixtures("origins")
def test_security_headers_on_answers_errors_and_early_refusals() -> None:
    answers = [
        _call(_handler(), origin=WEB),
        _call(_handler(fail=True), origin=WEB),
        # Refused before routing (the body-shape guard): built outside the resolver, same headers.
        _handler()(
            api_event("POST", "/ping", raw_body="a=b", headers={"Origin": WEB, "Content-Type": "text/plain"}),
            _context("edge"),
        ),
    ]
    assert [answer["statusCode"] for answer in answers] == [200, 400, HTTPStatus.UNSUPPORTED_MEDIA_TYPE]
    for answer in answers:
        headers = _headers(answer)
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"] == "no-store"
        assert headers["Access-Control-Allow-Origin"] == WEB


def test_a_route_that_chooses_its_caching_keeps_it(client: ApiClient) -> None:
    answer = client.get("/openapi.json")
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_authenticated_answers_are_no_store(client: ApiClient, alice: Any) -> None:
    answer = client.get("/tasks", token=alice.access_token)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.usefixtures("origins")
def test_preflight_from_a_web_origin_allows_the_apps_methods_and_headers() -> None:
    handler = api.preflight_handler()
    result = handler(
        api_event(
            "OPTIONS",
            "/tasks/abc",
            resource="/{proxy+}",
            headers={
                "Origin": DEV,
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "if-match",
            },
        ),
        _context("preflight"),
    )
    headers = _headers(result)
    assert result["statusCode"] == 204
    assert headers["Access-Control-Allow-Origin"] == DEV
    assert set(headers["Access-Control-Allow-Methods"].split(",")) == {
        "DELETE",
        "GET",
        "OPTIONS",
        "PATCH",
        "POST",
        "PUT",
    }
    allowed = {name.lower() for name in headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "if-match", "if-none-match"} <= allowed
    assert headers["Access-Control-Max-Age"] == "600"
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.usefixtures("origins")
def test_preflight_from_another_origin_is_a_403_in_the_error_shape() -> None:
    result = api.preflight_handler()(
        api_event("OPTIONS", "/tasks", resource="/{proxy+}", headers={"Origin": "https://evil.example"}),
        _context("preflight"),
    )
    assert result["statusCode"] == 403
    assert json.loads(result["body"])["error"]["code"] == "ORIGIN_NOT_ALLOWED"
    assert "Access-Control-Allow-Origin" not in _headers(result)


def test_the_template_routes_every_preflight_to_one_function_without_the_authorizer() -> None:
    template = SamTemplate(ROOT / "template.yaml")
    preflights = [route for route in template.routes if route.method == "OPTIONS"]
    assert [(r.resource, r.logical_id, r.authorized) for r in preflights] == [
        ("/{proxy+}", "CorsPreflightFunction", False)
    ]
    gateway = LocalGateway(template)
    assert gateway.match("OPTIONS", "/tasks/abc/comments") is not None
    assert gateway.match("GET", "/no-such-path") is None  # the greedy route makes no other path known


def test_every_api_function_gets_the_web_origins() -> None:
    resources = load_template()["Resources"]
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        events = (resource["Properties"].get("Events") or {}).values()
        if any(event.get("Type") == "Api" for event in events):
            assert "WEB_ORIGINS" in resource["Properties"]["Environment"]["Variables"], logical_id


def test_gateway_responses_carry_cors_and_security_headers_in_the_local_gateway() -> None:
    gateway = LocalGateway(SamTemplate(ROOT / "template.yaml"))
    for kind, status in (("UNAUTHORIZED", 401), ("ACCESS_DENIED", 403), ("THROTTLED", 429), ("DEFAULT_5XX", 502)):
        response = gateway._gateway_error(kind, status, "m", "request-1")
        assert response.header("Access-Control-Allow-Origin") == LOCAL_WEB_ORIGINS.split(",")[0], kind
        assert response.header("Access-Control-Expose-Headers") == "Retry-After"
        assert response.header("X-Content-Type-Options") == "nosniff"
        assert response.header("Cache-Control") == "no-store"


def test_local_api_answers_preflights_with_the_dev_origin(client: ApiClient) -> None:
    """`make local-api`: env.local.json gives the functions the same origins as the local gateway's responses."""
    env = json.loads((ROOT / "env.local.json").read_text())
    assert env["Parameters"]["WEB_ORIGINS"] == LOCAL_WEB_ORIGINS
    response = client.gateway.handle(
        HttpRequest(method="OPTIONS", path="/tasks", headers=[("Origin", "https://evil.example")])
    )
    assert response.status == 403


def test_the_gateway_origin_is_the_first_web_origin_or_the_distribution() -> None:
    template = SamTemplate(ROOT / "template.yaml")
    value = template.resources["GatewayResponseUnauthorized"]["Properties"]["ResponseParameters"][
        "gatewayresponse.header.Access-Control-Allow-Origin"
    ]
    given = template.local_resolver({"WebOrigins": "http://a.example,http://b.example", "WebCdn": "false"})
    assert given.resolve(value) == "'http://a.example'"
    cdn = template.local_resolver({"WebOrigins": "", "WebCdn": "true"})
    assert cdn.resolve(value) == "'https://WebDistribution.DomainName'"


def test_resolver_select_and_split() -> None:
    resolver = Resolver({"List": "x,y,z"})
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "List"}]}]}) == "y"


def test_local_deploys_serve_the_app_from_the_bucket_without_cloudfront() -> None:
    deploy = (ROOT / "infra" / "deploy.sh").read_text()
    assert '"WebCdn=false"' in deploy
    assert "WebOrigins=http://$web_bucket.s3.localhost" in deploy
    resources = load_template()["Resources"]
    for logical_id in ("WebDistribution", "WebOriginAccessControl", "WebBucketPolicy", "WebResponseHeadersPolicy"):
        assert resources[logical_id]["Condition"] == "WebCdnOn", logical_id
    origin = resources["WebDistribution"]["Properties"]["DistributionConfig"]["Origins"][0]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    assert resources["WebBucket"]["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True


def test_upload_fills_the_csp_and_writes_config_json(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "index.html").write_text(
        '<meta http-equiv="Content-Security-Policy" content="connect-src \'self\' __CONNECT_SRC__">'
    )
    api_url = "http://127.0.0.1:4566/_aws/execute-api/abc/local"
    ws_url = "ws://127.0.0.1:4566/_aws/execute-api/def/local"
    uploads = {key: (body, extra) for key, body, extra in web_upload.files_to_upload(tmp_path, api_url, ws_url)}
    assert b"connect-src 'self' http://127.0.0.1:4566 ws://127.0.0.1:4566\"" in uploads["index.html"][0]
    assert uploads["index.html"][1] == {"ContentType": "text/html", "CacheControl": "no-cache"}
    assert uploads["assets/index-abc.js"][1]["CacheControl"].endswith("immutable")
    assert json.loads(uploads["config.json"][0]) == {"apiUrl": api_url, "webSocketUrl": ws_url}
    assert (
        web_upload.local_web_url("taskapp-web", "http://127.0.0.1:4566")
        == "http://taskapp-web.s3.localhost:4566/index.html"
    )


def test_upload_refuses_an_index_without_the_placeholder(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html></html>")
    with pytest.raises(SystemExit):
        web_upload.files_to_upload(tmp_path, "https://api.example", None)

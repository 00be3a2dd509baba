"""The deployed API as a browser meets it (issue 14): preflights, CORS for the web origin only, security headers,
and the web app served from the stack's bucket with its generated config.json.

The web origin is the one infra/deploy.sh gives local stacks: the bucket's virtual-hosted MiniStack address.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
import requests

from infra.stack import Stack
from tests.support.http_api import Account, Api

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def web_origin() -> str:
    bucket = Stack(os.environ.get("STACK_NAME", "taskapp")).output("WebBucketName")
    port = urlsplit(os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")).port or 4566
    return f"http://{bucket}.s3.localhost:{port}"


def test_a_preflight_from_the_web_origin_allows_the_apps_requests(api: Api, web_origin: str) -> None:
    headers = {
        "Origin": web_origin,
        "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization,content-type,if-match",
    }
    response = api.call("OPTIONS", "/tasks/some-id", headers=headers)

    assert response.status_code == 204, response.text
    assert response.headers["Access-Control-Allow-Origin"] == web_origin
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"].split(",")
    allowed = {name.strip().lower() for name in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "if-match"} <= allowed
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_preflight_from_another_origin_is_refused(api: Api) -> None:
    response = api.call(
        "OPTIONS", "/tasks", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"


def test_answers_name_the_web_origin_and_carry_the_security_headers(api: Api, alice: Account, web_origin: str) -> None:
    mine = api.call("GET", "/tasks", token=alice.access_token, headers={"Origin": web_origin})
    theirs = api.call("GET", "/tasks", token=alice.access_token, headers={"Origin": "https://evil.example"})

    assert mine.status_code == theirs.status_code == 200
    assert mine.headers["Access-Control-Allow-Origin"] == web_origin
    assert "Retry-After" in mine.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in theirs.headers
    for response in (mine, theirs):
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"


def test_the_collaboration_routes_name_the_web_origin_too(api: Api, alice: Account, web_origin: str) -> None:
    """Comments and a project's feed came on other branches: without WEB_ORIGINS on their functions a browser got
    their answers without CORS and the web app could not read them (the comments panel failed)."""
    headers = {"Origin": web_origin}
    project = api.call("POST", "/projects", token=alice.access_token, json={"name": "CORS check"}).json()
    task = api.call("POST", "/tasks", token=alice.access_token, json={"title": "t", "projectId": project["id"]}).json()
    comment = api.call(
        "POST", f"/tasks/{task['id']}/comments", token=alice.access_token, json={"body": "hi"}, headers=headers
    )
    comment_path = f"/tasks/{task['id']}/comments/{comment.json()['id']}"
    answers = {
        "create comment": comment,
        "list comments": api.call("GET", f"/tasks/{task['id']}/comments", token=alice.access_token, headers=headers),
        "update comment": api.call(
            "PATCH", comment_path, token=alice.access_token, json={"body": "hello", "version": 1}, headers=headers
        ),
        "project activity": api.call(
            "GET", f"/projects/{project['id']}/activity", token=alice.access_token, headers=headers
        ),
        "delete comment": api.call("DELETE", comment_path, token=alice.access_token, headers=headers),
    }

    for name, response in answers.items():
        assert response.status_code < 300, (name, response.text)
        assert response.headers.get("Access-Control-Allow-Origin") == web_origin, name


@pytest.mark.parametrize(("path", "status"), [("/tasks", 401), ("/no-such-path", 404)])
def test_the_gateways_own_answers_carry_cors_and_security_headers(
    api: Api, web_origin: str, path: str, status: int
) -> None:
    response = api.call("GET", path, headers={"Origin": web_origin})

    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == web_origin
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_web_app_is_served_from_the_bucket_with_this_stacks_config(web_origin: str) -> None:
    """Browsers resolve every *.localhost name to loopback, glibc does not: the request goes to MiniStack's address
    with the bucket's Host header, which is what a browser sends."""
    host = urlsplit(web_origin).netloc
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566").rstrip("/")

    def get(key: str) -> requests.Response:
        return requests.get(f"{endpoint}/{key}", headers={"Host": host}, timeout=30)

    index = get("index.html")
    assert index.status_code == 200, "the web app is not in the stack's bucket: infra/web.sh deploy uploads it"
    assert index.headers["Content-Type"].startswith("text/html")
    assert "__CONNECT_SRC__" not in index.text
    config = get("config.json").json()
    assert config["apiUrl"].rstrip("/") == os.environ["API_BASE_URL"].rstrip("/")
    api_origin = f"{urlsplit(config['apiUrl']).scheme}://{urlsplit(config['apiUrl']).netloc}"
    assert api_origin in index.text.split("connect-src 'self'", 1)[1].split(";", 1)[0]

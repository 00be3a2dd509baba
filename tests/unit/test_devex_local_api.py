"""The local gateway builds API Gateway REST v1 proxy events and answers like API Gateway; the server serves them."""

from __future__ import annotations

import base64
import http.client
import json
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local_api import HttpRequest, LocalGateway, SamTemplate
from infra.local_api.loader import HandlerLoader
from infra.local_api.server import (
    DEFAULT_ENV_FILE,
    LOAD_RUN_REDIS_DB,
    LOAD_RUN_TABLE_SUFFIX,
    UNLIMITED_RATES,
    CodeWatcher,
    build_server,
    load_run_env_file,
    process_environment,
    read_env_file,
    with_redis_database,
)
from infra.local_api.tables import table_variables

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "mini_api"


@pytest.fixture
def mini_api(tmp_path: Path) -> Path:
    """A private copy, so the reload test can edit it."""
    target = tmp_path / "mini_api"
    shutil.copytree(FIXTURE, target)
    return target


@pytest.fixture
def gateway(mini_api: Path) -> Iterator[LocalGateway]:
    loader = HandlerLoader(reloaded_packages=())
    gateway = LocalGateway(SamTemplate(mini_api / "template.yaml"), stage="dev", loader=loader)
    yield gateway
    loader.forget_all()


def echo(gateway: LocalGateway, **overrides: object) -> tuple[int, dict]:
    request = HttpRequest(
        method="POST",
        path="/echo/ann",
        headers=[("Authorization", "Bearer good"), ("Content-Type", "application/json"), ("X-Multi", "1")],
        query=[("tag", "a"), ("tag", "b"), ("q", "x")],
        body=b'{"k": "v"}',
        source_ip="10.1.2.3",
    )
    for key, value in overrides.items():
        setattr(request, key, value)
    response = gateway.handle(request)
    return response.status, json.loads(response.body) if response.body.startswith(b"{") else {}


def test_proxy_event_has_api_gateway_rest_v1_shape(gateway: LocalGateway) -> None:
    headers = [("Authorization", "Bearer good"), ("X-Multi", "1"), ("X-Multi", "2"), ("Content-Type", "text/plain")]
    status, body = echo(gateway, headers=headers)
    assert status == 200
    event = body["event"]
    assert event["resource"] == "/echo/{name}"
    assert event["path"] == "/echo/ann"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"name": "ann"}
    assert event["headers"]["X-Multi"] == "2"  # last value wins in `headers`, all values in multiValueHeaders
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["queryStringParameters"] == {"tag": "b", "q": "x"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "q": ["x"]}
    assert event["body"] == '{"k": "v"}'
    assert event["isBase64Encoded"] is False
    assert event["stageVariables"] is None
    context = event["requestContext"]
    assert context["stage"] == "dev"
    assert context["path"] == "/dev/echo/ann"
    assert context["resourcePath"] == "/echo/{name}"
    assert context["identity"]["sourceIp"] == "10.1.2.3"
    assert context["requestId"]
    # the authorizer's context arrives as strings, with the principal, as API Gateway passes it
    assert context["authorizer"]["userId"] == "user-1"
    assert context["authorizer"]["exp"] == "123"
    assert context["authorizer"]["admin"] == "false"
    assert context["authorizer"]["principalId"] == "user-1"
    assert body["function"] == "EchoFunction"


def test_empty_query_and_path_parameters_are_null(gateway: LocalGateway) -> None:
    response = gateway.handle(HttpRequest(method="GET", path="/open"))
    event = json.loads(response.body)["event"]
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None
    assert event["requestContext"]["authorizer"] is None


def test_binary_media_type_and_non_utf8_bodies_arrive_base64_encoded(gateway: LocalGateway) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00"
    _, body = echo(gateway, headers=[("Authorization", "Bearer good"), ("Content-Type", "image/png")], body=png)
    assert body["event"]["isBase64Encoded"] is True
    assert base64.b64decode(body["event"]["body"]) == png
    _, body = echo(gateway, headers=[("Authorization", "Bearer good")], body=b"\xff\xfe")
    assert body["event"]["isBase64Encoded"] is True


def test_base64_responses_are_decoded_and_multi_value_headers_kept(gateway: LocalGateway) -> None:
    response = gateway.handle(
        HttpRequest(method="POST", path="/echo/x", headers=[("Authorization", "Bearer good")], query=[("binary", "1")])
    )
    assert response.body == b"\x89PNG\x00\xff"
    text = gateway.handle(HttpRequest(method="POST", path="/echo/x", headers=[("Authorization", "Bearer good")]))
    assert [v for k, v in text.headers if k == "Set-Cookie"] == ["a=1", "b=2"]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ([], 401, "UNAUTHORIZED"),  # no header: the template's UNAUTHORIZED gateway response
        ([("Authorization", "Bearer bad")], 401, "UNAUTHORIZED"),  # authorizer raised "Unauthorized"
        ([("Authorization", "Bearer deny")], 403, None),  # Deny policy: ACCESS_DENIED (API Gateway's default body)
    ],
)
def test_authorizer_outcomes_match_api_gateway(gateway: LocalGateway, headers: list, status: int, code: str) -> None:
    response = gateway.handle(HttpRequest(method="POST", path="/echo/x", headers=headers))
    assert response.status == status
    payload = json.loads(response.body)
    if code:
        assert payload["error"]["code"] == code
    else:
        assert payload == {"message": "User is not authorized to access this resource"}


def test_unknown_route_is_missing_authentication_token(gateway: LocalGateway) -> None:
    # An unknown method on a known path (DELETE /open) is 405 now: test_unknown_method_on_a_known_path_is_405.
    for method, path in (("GET", "/nope"), ("DELETE", "/open/nested")):
        response = gateway.handle(HttpRequest(method=method, path=path))
        assert response.status == 403
        assert json.loads(response.body) == {"message": "Missing Authentication Token"}


def test_unknown_method_on_a_known_path_is_405_with_allow(gateway: LocalGateway) -> None:
    for method, path, allowed in (("DELETE", "/open", "GET"), ("GET", "/echo/x", "POST")):
        response = gateway.handle(HttpRequest(method=method, path=path))
        assert response.status == 405
        assert response.header("Allow") == allowed
        error = json.loads(response.body)["error"]
        assert error["code"] == "METHOD_NOT_ALLOWED" and error["details"] == {"allow": allowed.split(", ")}


def test_the_task_api_lists_every_method_of_a_path_in_allow() -> None:
    from infra.local_api import SamTemplate as Template
    from tests.support.lambda_events import ROOT

    gateway = LocalGateway(Template(ROOT / "template.yaml"))
    response = gateway.handle(HttpRequest(method="PUT", path="/tasks/0b9d6c1e-4f2a-4c3b-8e5d-7a6f1e2d3c4b"))
    assert response.status == 405
    assert response.header("Allow") == "DELETE, GET, PATCH"
    assert gateway.handle(HttpRequest(method="PUT", path="/tasks")).header("Allow") == "GET, POST"
    assert gateway.handle(HttpRequest(method="PUT", path="/tasks/ingest")).header("Allow") == "POST"


def test_environment_comes_from_template_and_env_file(mini_api: Path) -> None:
    template = SamTemplate(mini_api / "template.yaml")
    env = template.environment_for(template.function("EchoFunction"), env_vars={"Parameters": {"TABLE": "t-dev"}})
    assert env == {"GREETING": "hello", "TABLE": "t-dev", "ONLY_ECHO": "1"}
    env = template.environment_for(
        template.function("echo"), parameters={"Greeting": "hi"}, env_vars={"EchoFunction": {"UNDECLARED": "x"}}
    )
    assert env["GREETING"] == "hi"
    assert "UNDECLARED" not in env  # like `sam local --env-vars`: only declared variables are overridden
    assert process_environment(template, {})["TABLE"] == "SomeTable"


def test_server_serves_over_http_with_keep_alive_and_reloads_on_save(mini_api: Path, monkeypatch) -> None:
    for name in ("GREETING", "TABLE", "ONLY_ECHO", "POWERTOOLS_SERVICE_NAME"):
        monkeypatch.delenv(name, raising=False)
    server, gateway = build_server(
        "127.0.0.1", 0, template=SamTemplate(mini_api / "template.yaml"), env_file=None, create_tables=False
    )
    gateway.loader = HandlerLoader(reloaded_packages=())
    reloaded = threading.Event()

    def on_change(changed: list[str]) -> None:
        gateway.loader.forget_all()
        reloaded.set()

    watcher = CodeWatcher([mini_api], on_change, interval=0.05)
    watcher.start()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        for _ in range(2):  # the same connection serves both: HTTP/1.1 keep-alive
            connection.request("POST", "/echo/ann?tag=a&tag=b", body=b"{}", headers={"Authorization": "Bearer good"})
            response = connection.getresponse()
            payload = json.loads(response.read())
            assert response.status == 200
            assert response.getheader("X-Version") == "v1"
            assert payload["event"]["multiValueQueryStringParameters"] == {"tag": ["a", "b"]}
            assert payload["event"]["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
        source = mini_api / "echo" / "app.py"
        time.sleep(0.01)
        source.write_text(source.read_text().replace('VERSION = "v1"', 'VERSION = "v2"'))
        assert reloaded.wait(5), "the watcher did not notice the edit"
        connection.request("POST", "/echo/ann", body=b"{}", headers={"Authorization": "Bearer good"})
        response = connection.getresponse()
        response.read()
        assert response.getheader("X-Version") == "v2"
    finally:
        watcher.stop()
        server.shutdown()
        server.server_close()
        gateway.loader.forget_all()


def test_concurrent_requests_do_not_leak_state_between_invocations(client) -> None:
    """Eight users at once: each must only ever see its own tasks and its own authorizer context."""
    from concurrent.futures import ThreadPoolExecutor

    def one_user(n: int) -> list[int]:
        email = f"user{n}@example.com"
        client.post("/auth/register", json_body={"name": "U", "email": email, "password": "password-123"})
        token = client.post("/auth/login", json_body={"email": email, "password": "password-123"}).json()["accessToken"]
        statuses = []
        for _ in range(5):
            created = client.post("/tasks", json_body={"title": f"t{n}"}, token=token)
            statuses.append(created.status_code)
            statuses.append(client.get(f"/tasks/{created.json()['id']}", token=token).status_code)
        return statuses

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one_user, range(8)))
    assert all(status in (200, 201) for statuses in results for status in statuses), results


@pytest.mark.usefixtures("aws")
def test_ensure_tables_adds_the_indexes_an_older_local_table_lacks() -> None:
    """A developer's MiniStack outlives a pull: a table created before the template gained a GSI gets it added
    (the in-process API otherwise answers 503 "the table does not have the specified index")."""
    import boto3

    from infra.local_api import SamTemplate
    from infra.local_api.tables import ensure_tables
    from tests.support.lambda_events import ROOT

    template = SamTemplate(ROOT / "template.yaml")
    props = template.resources["NotificationsTable"]["Properties"]
    name = f"local-api-notifications-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb")
    key_names = {key["AttributeName"] for key in props["KeySchema"]}
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=props["KeySchema"],
        AttributeDefinitions=[d for d in props["AttributeDefinitions"] if d["AttributeName"] in key_names],
    )
    assert props.get("GlobalSecondaryIndexes"), "the test needs a table whose template declares a GSI"

    assert ensure_tables(template, {"NOTIFICATIONS_TABLE": name}, None) == [name]

    table = client.describe_table(TableName=name)["Table"]
    wanted = {index["IndexName"] for index in props["GlobalSecondaryIndexes"]}
    assert {index["IndexName"] for index in table.get("GlobalSecondaryIndexes") or []} == wanted
    assert ensure_tables(template, {"NOTIFICATIONS_TABLE": name}, None) == []  # nothing left to add


def test_ensure_schedule_group_creates_the_reminders_group_once() -> None:
    """GET /health reports the reminders' schedule group; the in-process API has no stack to declare it, so it makes
    it (else the local API, and the fuzz suite that needs it healthy, would see 503 degraded)."""
    import boto3

    from infra.local_api.tables import ensure_schedule_group

    name = f"local-api-reminders-{uuid.uuid4().hex[:8]}"
    environment = {"REMINDER_SCHEDULE_GROUP": name}

    assert ensure_schedule_group(environment, None) is True
    assert boto3.client("scheduler").get_schedule_group(Name=name)["Name"] == name
    assert ensure_schedule_group(environment, None) is False  # already there: nothing to do
    assert ensure_schedule_group({}, None) is False  # no reminders configured: nothing to make


def test_a_load_run_gets_no_rate_limits_and_storage_of_its_own(tmp_path: Path) -> None:
    """Load and fuzz runs must not fill the developer's per-IP registration window (nor share their tables)."""
    template = SamTemplate()
    developer = process_environment(template, read_env_file(DEFAULT_ENV_FILE))
    load_run = process_environment(template, read_env_file(load_run_env_file(tmp_path, template)))

    table_vars = set(table_variables(template))
    tables = {name for name, resource in template.resources.items() if resource["Type"] == "AWS::DynamoDB::Table"}
    assert set(table_variables(template).values()) == tables, "every table of the template is renamed"
    assert table_vars <= set(developer), "every table variable reaches the in-process functions"
    for variable in table_vars:
        assert load_run[variable] == f"{developer[variable]}-{LOAD_RUN_TABLE_SUFFIX}"
    assert developer["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert load_run["REDIS_URL"] == f"redis://127.0.0.1:6379/{LOAD_RUN_REDIS_DB}"
    assert all(load_run[name] == "1000000" for name in UNLIMITED_RATES)
    untouched = set(developer) - table_vars - set(UNLIMITED_RATES) - {"REDIS_URL"}
    assert {name: load_run[name] for name in untouched} == {name: developer[name] for name in untouched}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/1"),
        (
            "rediss://:secret@cache.example:6380/3?ssl_cert_reqs=required",
            "rediss://:secret@cache.example:6380/1?ssl_cert_reqs=required",
        ),
    ],
)
def test_with_redis_database_changes_only_the_database(url: str, expected: str) -> None:
    assert with_redis_database(url, 1) == expected

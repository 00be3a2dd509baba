"""The sample events under events/: each is a faithful AWS event and gets the answer its name promises."""

from __future__ import annotations

import json
from typing import Any

import fakeredis
import pytest

from tests.support.api_client import template_routes
from tests.support.sample_events import EVENTS_DIR, all_event_names, load_event, placeholders_in
from tests.support.tokens import mint_access_token
from tests.unit.conftest import JWT_SECRET
from tests.unit.helpers import (
    SAMPLE_JTI,
    SAMPLE_SESSION_ID,
    SAMPLE_TASK_ID,
    SAMPLE_USER_ID,
    assert_error,
    invoke,
    seed_task,
)

# Expected status of every API sample event when the sample user owns the sample task (version 1).
API_EVENT_STATUS = {
    "register/valid": 201,
    "register/base64_body": 201,
    "register/short_password": 400,
    "register/invalid_email": 400,
    "register/unknown_field": 400,
    "register/malformed_json": 400,
    "register/form_encoded": 415,
    "login/unknown_email": 401,
    "login/missing_password": 400,
    "refresh/unknown_token": 401,
    "refresh/missing_token": 400,
    "logout/valid": 204,
    "change_password/short_new_password": 400,
    "create_task/valid": 201,
    "create_task/minimal": 201,
    "create_task/missing_title": 400,
    "create_task/blank_title": 400,
    "create_task/invalid_due_date": 400,
    "create_task/invalid_status": 400,
    "create_task/too_many_tags": 400,
    "create_task/unknown_field": 400,
    "create_task/malformed_json": 400,
    "create_task/project_not_a_member": 404,
    "create_task/personal_assigned_to_someone_else": 422,
    "list_tasks/first_page": 200,
    "list_tasks/by_status": 200,
    "list_tasks/invalid_limit": 400,
    "list_tasks/invalid_status": 400,
    "list_tasks/tampered_cursor": 400,
    "list_tasks/assigned_to_me_by_status": 200,
    "list_tasks/by_due_date_range": 200,
    "list_tasks/project_not_a_member": 404,
    "list_tasks/unsupported_filter": 400,
    "get_task/valid": 200,
    "get_task/not_found": 404,
    "get_task/malformed_id": 400,
    "update_task/valid": 200,
    "update_task/clear_due_date": 200,
    "update_task/missing_version": 400,
    "update_task/unknown_field": 400,
    "update_task/not_found": 404,
    "delete_task/valid": 204,
    "delete_task/not_found": 404,
    "delete_task/malformed_id": 400,
    "health/check": 200,
    # CORS preflights: none of the unit tests' origins is configured (tests/unit/test_web_edge.py sets some).
    "cors_preflight/no_origin": 204,
    "cors_preflight/foreign_origin": 403,
    "openapi/get": 200,
    # Shared projects: the sample user is a member of no project, so every project-scoped case is a 404.
    "create_project/valid": 201,
    "create_project/blank_name": 400,
    "list_projects/first_page": 200,
    "list_projects/with_archived": 200,
    "get_project/not_found": 404,
    "get_project/malformed_id": 400,
    "update_project/not_found": 404,
    "archive_project/not_found": 404,
    "transfer_project/not_found": 404,
    "invite_member/not_found": 404,
    "invite_member/invalid_role": 400,
    "list_members/not_found": 404,
    "list_project_activity/not_found": 404,
    "list_project_activity/malformed_id": 400,
    "list_project_activity/invalid_limit": 400,
    "change_member_role/not_found": 404,
    "remove_member/not_found": 404,
    "list_invitations/first_page": 200,
    "accept_invitation/not_found": 404,
    "decline_invitation/not_found": 404,
    # Comments on the sample task (which the sample user owns); the sample comment id never exists.
    "create_comment/valid": 201,
    "create_comment/blank_body": 400,
    "create_comment/task_not_found": 404,
    "list_comments/first_page": 200,
    "list_comments/task_not_found": 404,
    "update_comment/not_found": 404,
    "update_comment/missing_version": 400,
    "delete_comment/not_found": 404,
    "delete_comment/malformed_comment_id": 400,
    "list_notifications/first_page": 200,
    "list_notifications/unread_only": 200,
    "list_notifications/invalid_unread": 400,
    "unread_count/get": 200,
    "read_notification/not_found": 404,
    "read_all_notifications/valid": 200,
    "get_notification_preferences/get": 200,
    "put_notification_preferences/valid": 200,
    "put_notification_preferences/unknown_channel": 400,
    "put_notification_preferences/unknown_type": 400,
    "create_webhook/valid": 201,
    "create_webhook/metadata_address": 400,
    "create_webhook/plain_http": 400,
    "create_webhook/unknown_event": 400,
    "create_webhook/project_not_a_member": 404,
    "list_webhooks/first_page": 200,
    "get_webhook/not_found": 404,
    "update_webhook/not_found": 404,
    "update_webhook/empty_body": 400,
    "delete_webhook/not_found": 404,
    "rotate_webhook_secret/not_found": 404,
    "ping_webhook/not_found": 404,
    "list_webhook_deliveries/not_found": 404,
    "redeliver_webhook_delivery/not_found": 404,
}
# Events that need more set-up than the sample task; each has its own test below.
STATEFUL_EVENTS = {
    "login/valid",
    "login/wrong_password",
    "refresh/valid",
    "update_task/stale_version",
    "change_password/valid",
    "change_password/wrong_current_password",
}
AUTHORIZER_ALLOWS = {"authorizer/allow", "authorizer/allow_other_route"}
AUTHORIZER_DENIES = {
    "authorizer/expired_token",
    "authorizer/revoked_token",
    "authorizer/alg_none",
    "authorizer/missing_bearer_scheme",
    "authorizer/garbled_token",
    "authorizer/empty_bearer",
}


def _function(name: str) -> str:
    return name.split("/", maxsplit=1)[0]


# The event-driven functions' samples are the inputs of their own tests in tests/unit/events/.
EVENT_DRIVEN_EVENTS = {
    "ingest_tasks/accepted",
    "ingest_tasks/invalid",
    "list_activity/first-page",
    "notification/rabbitmq-batch",
    "notification/rabbitmq-poison",
    "notification/rabbitmq-collab-batch",
    "outbox_publisher/task-lifecycle",
    "outbox_publisher/task-assignment",
    "outbox_publisher/project-events",
    "outbox_publisher/comment-lifecycle",
    "reminder/due",
    "socket_authorizer/allow",
    "socket_authorizer/missing_token",
    "socket_connect/connect",
    "socket_disconnect/disconnect",
    "reminder_scheduler/task-reminder-lifecycle",
    "task_ingestion/batch-with-bad-record",
    "webhook_fanout/task-lifecycle",
    "webhook_fanout/project-task",
    "webhook_fanout/comment-lifecycle",
    "webhook_delivery/sqs-batch",
}


def test_every_sample_event_has_an_expected_outcome_here() -> None:
    covered = set(API_EVENT_STATUS) | STATEFUL_EVENTS | AUTHORIZER_ALLOWS | AUTHORIZER_DENIES | EVENT_DRIVEN_EVENTS
    assert set(all_event_names()) == covered


def test_every_function_in_the_template_has_sample_events() -> None:
    from tests.support.api_client import load_template

    functions = {
        resource["Properties"]["CodeUri"].rstrip("/").split("/")[-1]
        for resource in load_template()["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    with_events = {path.name for path in EVENTS_DIR.iterdir() if path.is_dir()}
    assert functions == with_events


@pytest.mark.parametrize("name", sorted(set(API_EVENT_STATUS) | STATEFUL_EVENTS))
def test_api_sample_event_matches_its_route_in_the_template(name: str) -> None:
    raw = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    route = next(r for r in template_routes() if r.function == _function(name) and r.method == raw["httpMethod"])
    assert raw["resource"] == route.resource == raw["requestContext"]["resourcePath"]
    assert route.pattern.match(raw["path"])
    assert raw["requestContext"]["path"] == f"/{raw['requestContext']['stage']}{raw['path']}"
    assert raw["multiValueHeaders"] == {key: [value] for key, value in raw["headers"].items()}
    if route.authorized:
        authorizer = raw["requestContext"]["authorizer"]
        assert {"principalId", "userId", "jti", "exp", "sid"} <= set(authorizer)
        assert authorizer["principalId"] == authorizer["userId"] == SAMPLE_USER_ID
    else:
        assert "authorizer" not in raw["requestContext"]
    if raw["body"] is not None and not raw["isBase64Encoded"]:
        assert isinstance(raw["body"], str)


@pytest.mark.parametrize("name", sorted(AUTHORIZER_ALLOWS | AUTHORIZER_DENIES))
def test_authorizer_sample_event_is_a_token_event_for_a_route_of_the_api(name: str) -> None:
    raw = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    assert set(raw) == {"type", "authorizationToken", "methodArn"}
    assert raw["type"] == "TOKEN"
    method_and_path = raw["methodArn"].split("/", 2)[2]
    method, _, path = method_and_path.partition("/")
    assert any(r.method == method and r.pattern.match("/" + path) and r.authorized for r in template_routes())


@pytest.mark.usefixtures("client")
@pytest.mark.parametrize(("name", "status"), sorted(API_EVENT_STATUS.items()))
def test_api_sample_event_gets_its_expected_status(name: str, status: int) -> None:
    seed_task(SAMPLE_USER_ID, SAMPLE_TASK_ID, dueDate="2026-12-01")
    answer = invoke(_function(name), load_event(name))
    assert answer.status_code == status, answer.body
    if status >= 400:
        assert_error(answer.body)
    elif status == 204:
        assert answer.body is None


@pytest.mark.usefixtures("client")
def test_login_sample_events_after_registering_the_sample_account() -> None:
    assert invoke("register", load_event("register/valid")).status_code == 201
    ok = invoke("login", load_event("login/valid"))
    assert ok.status_code == 200, ok.body
    wrong = invoke("login", load_event("login/wrong_password"))
    unknown = invoke("login", load_event("login/unknown_email"))
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.body == unknown.body


@pytest.mark.usefixtures("client")
def test_change_password_sample_events_after_registering_the_sample_account() -> None:
    registered = invoke("register", load_event("register/valid"))
    assert registered.status_code == 201
    user_id = registered.body["id"]  # the events name the sample user; point them at the one just registered

    def as_registered_user(name: str) -> dict[str, Any]:
        event = load_event(name)
        event["requestContext"]["authorizer"].update(userId=user_id, principalId=user_id)
        return event

    wrong = invoke("change_password", as_registered_user("change_password/wrong_current_password"))
    assert wrong.status_code == 403, wrong.body
    changed = invoke("change_password", as_registered_user("change_password/valid"))
    assert changed.status_code == 204, changed.body


@pytest.mark.usefixtures("client")
def test_refresh_sample_event_rotates_a_refresh_token_filled_in_at_load_time() -> None:
    invoke("register", load_event("register/valid"))
    tokens = invoke("login", load_event("login/valid")).body
    event = load_event("refresh/valid", REFRESH_TOKEN=tokens["refreshToken"])
    first = invoke("refresh", event)
    assert first.status_code == 200, first.body
    assert first.body["refreshToken"] != tokens["refreshToken"]
    replay = invoke("refresh", load_event("refresh/valid", REFRESH_TOKEN=tokens["refreshToken"]))
    assert replay.status_code == 401


@pytest.mark.usefixtures("client")
def test_update_sample_event_with_stale_version_conflicts_once_the_task_moved_on() -> None:
    seed_task(SAMPLE_USER_ID, SAMPLE_TASK_ID)
    assert invoke("update_task", load_event("update_task/valid")).status_code == 200  # now version 2
    answer = invoke("update_task", load_event("update_task/stale_version"))
    assert answer.status_code == 409
    assert assert_error(answer.body, "VERSION_CONFLICT")["details"] == {"currentVersion": 2}


@pytest.mark.usefixtures("client")
def test_logout_sample_event_revokes_the_sample_session() -> None:
    from taskapp.data import sessions

    sessions.start_session(SAMPLE_USER_ID, SAMPLE_SESSION_ID, "0" * 64, 1, 4_102_444_800)
    assert invoke("logout", load_event("logout/valid")).status_code == 204
    family = sessions.get_family(SAMPLE_SESSION_ID)
    assert family is not None and family.revoked


def _authorize(event: dict[str, Any]) -> dict[str, Any]:
    from tests.support.lambda_events import FakeLambdaContext, load_function

    return load_function("authorizer").handler(event, FakeLambdaContext("authorizer"))


@pytest.mark.usefixtures("client")
@pytest.mark.parametrize("name", sorted(AUTHORIZER_ALLOWS))
def test_authorizer_sample_event_with_a_fresh_token_is_allowed(name: str) -> None:
    token = mint_access_token(JWT_SECRET, sub=SAMPLE_USER_ID, jti=SAMPLE_JTI, sid=SAMPLE_SESSION_ID)
    decision = _authorize(load_event(name, ACCESS_TOKEN=token))
    assert decision["principalId"] == SAMPLE_USER_ID
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Allow"


@pytest.mark.usefixtures("client")
@pytest.mark.parametrize("name", sorted(AUTHORIZER_DENIES))
def test_authorizer_sample_event_with_a_bad_token_is_denied(name: str, fake_redis: fakeredis.FakeRedis) -> None:
    """A Deny, which API Gateway answers with the ACCESS_DENIED response: 401 UNAUTHORIZED in template.yaml."""
    from taskapp.auth.revocation import KEY_PREFIX

    values: dict[str, str] = {}
    wanted = placeholders_in(name)
    if "EXPIRED_ACCESS_TOKEN" in wanted:
        values["EXPIRED_ACCESS_TOKEN"] = mint_access_token(
            JWT_SECRET, iat=1_700_000_000, nbf=1_700_000_000, exp=1_700_000_900
        )
    if "REVOKED_ACCESS_TOKEN" in wanted:
        values["REVOKED_ACCESS_TOKEN"] = mint_access_token(JWT_SECRET, jti=SAMPLE_JTI)
        fake_redis.set(KEY_PREFIX + SAMPLE_JTI, "1", ex=600)
    if "ACCESS_TOKEN" in wanted:
        values["ACCESS_TOKEN"] = mint_access_token(JWT_SECRET)  # valid, but the header lacks "Bearer"
    decision = _authorize(load_event(name, **values))
    assert decision["principalId"] == "anonymous"
    assert [statement["Effect"] for statement in decision["policyDocument"]["Statement"]] == ["Deny"]
    assert decision["context"]["reason"]


def test_loading_an_event_without_its_placeholder_value_fails_loudly() -> None:
    with pytest.raises(KeyError, match="ACCESS_TOKEN"):
        load_event("authorizer/allow")
    with pytest.raises(KeyError, match="SURPLUS"):
        load_event("health/check", SURPLUS="x")

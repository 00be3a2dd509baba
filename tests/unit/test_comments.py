"""Comments on tasks through the real handlers: add, list, edit, delete; mentions, limits, access; happy and error
paths. Project tasks are real ones (POST /tasks with projectId), resolved by taskapp.domain.task_access."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from taskapp.domain.records.tasks import Task
from tests.support.api_client import ApiClient, ApiResponse
from tests.unit.conftest import Account, SetSetting
from tests.unit.helpers import assert_error


def _error(response: ApiResponse, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.body
    return assert_error(response.json(), code)


def _task(client: ApiClient, owner: Account, title: str = "Rotate the keys") -> str:
    created = client.post("/tasks", token=owner.access_token, json_body={"title": title})
    assert created.status_code == 201, created.body
    return str(created.json()["id"])


def _comment(client: ApiClient, caller: Account, task_id: str, body: str = "Looks good") -> dict[str, Any]:
    created = client.post(f"/tasks/{task_id}/comments", token=caller.access_token, json_body={"body": body})
    assert created.status_code == 201, created.body
    return dict(created.json())


def _list(client: ApiClient, caller: Account, task_id: str, **query: str) -> ApiResponse:
    return client.get(f"/tasks/{task_id}/comments", token=caller.access_token, query=query or None)


ProjectTask = Callable[..., Task]


@pytest.fixture
def project_task(client: ApiClient) -> ProjectTask:
    """A project owned by `owner` with the given members ({account: role}) and one real task in it, created by the
    owner through POST /tasks with `projectId` (the task as stored, a project task of that project)."""
    from taskapp.data import projects as store
    from taskapp.data.tasks import get_task
    from taskapp.domain import projects
    from taskapp.domain.records.projects import Member
    from taskapp.schemas.projects import CreateProjectRequest

    def make(owner: Account, members: dict[str, tuple[Account, str]] | None = None) -> Task:
        project = projects.create_project(owner.user_id, CreateProjectRequest(name="Launch"))
        for account, role in (members or {}).values():
            member = Member(project.id, account.user_id, role, account.email, datetime.now(UTC))
            store.member_to_model(member).save()
        created = client.post(
            "/tasks", token=owner.access_token, json_body={"title": "Shared task", "projectId": project.id}
        )
        assert created.status_code == 201, created.body
        assert created.json()["projectId"] == project.id
        task = get_task(owner.user_id, str(created.json()["id"]))
        assert task is not None and task.project_id == project.id
        return task

    return make


# --- adding -----------------------------------------------------------------------------------------------------


def test_add_a_comment_to_the_callers_task(client: ApiClient, alice: Account) -> None:
    task_id = _task(client, alice)
    created = client.post(f"/tasks/{task_id}/comments", token=alice.access_token, json_body={"body": "On it"})
    assert created.status_code == 201, created.body
    body = created.json()
    assert created.headers["Location"] == f"/tasks/{task_id}/comments/{body['id']}"
    assert len(body["id"]) == 32 and int(body["id"], 16) >= 0  # uuid4 hex
    assert body["taskId"] == task_id and body["projectId"] is None and body["authorId"] == alice.user_id
    assert body["body"] == "On it" and body["mentions"] == [] and body["version"] == 1
    assert body["createdAt"] == body["updatedAt"]
    assert _list(client, alice, task_id).json() == {"items": [body], "nextToken": None}


def test_markdown_is_kept_exactly_as_text(client: ApiClient, alice: Account) -> None:
    task_id = _task(client, alice)
    markdown = "  # Plan\n\n- [x] staging  \n- [ ] **prod**\n\n```sh\nrm -rf /tmp/x\n```\n<script>alert(1)</script>\t"
    assert _comment(client, alice, task_id, markdown)["body"] == markdown
    assert _list(client, alice, task_id).json()["items"][0]["body"] == markdown


def test_the_comment_write_functions_accept_bodies_of_5000_escaped_characters() -> None:
    """5,000 characters outside the BMP are 60,000 bytes as JSON escapes (`\\ud83d\\ude00` each): the write
    routes get a 64 KiB body limit where the others keep 16 KiB."""
    from tests.support.api_client import load_template

    resources = load_template()["Resources"]
    for name in ("CreateCommentFunction", "UpdateCommentFunction"):
        assert resources[name]["Properties"]["Environment"]["Variables"]["MAX_BODY_BYTES"] == "65536"
    assert len(json.dumps({"body": "😀" * 5000})) < 65536


def test_the_longest_body_is_5000_characters_even_outside_the_bmp(
    client: ApiClient, alice: Account, set_setting: SetSetting
) -> None:
    set_setting("MAX_BODY_BYTES", "65536")  # as the template sets it for this function
    task_id = _task(client, alice)
    longest = "😀" * 5000  # 20,000 bytes of UTF-8, 60,000 bytes of JSON escapes: under the route's body limit
    assert _comment(client, alice, task_id, longest)["body"] == longest
    _error(
        client.post(f"/tasks/{task_id}/comments", token=alice.access_token, json_body={"body": longest + "😀"}),
        400,
        "VALIDATION_ERROR",
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"body": ""},
        {"body": "   \n\t "},
        {"body": "x" * 5001},
        {"body": 5},
        {"body": None},
        {"body": ["a"]},
        {"body": "ok", "authorId": "someone-else"},
        {"body": "ok", "mentions": ["someone"]},
    ],
)
def test_add_refuses_invalid_bodies(client: ApiClient, alice: Account, body: dict[str, Any]) -> None:
    task_id = _task(client, alice)
    _error(client.post(f"/tasks/{task_id}/comments", token=alice.access_token, json_body=body), 400, "VALIDATION_ERROR")


def test_add_refuses_text_no_store_can_hold(client: ApiClient, alice: Account) -> None:
    """A lone surrogate escape decodes to a str that cannot be UTF-8 encoded: a 400, not a 500 from DynamoDB."""
    task_id = _task(client, alice)
    answer = client.post(f"/tasks/{task_id}/comments", token=alice.access_token, raw_body='{"body": "a\\ud800b"}')
    _error(answer, 400, "VALIDATION_ERROR")


def test_add_refuses_an_oversize_request_body(client: ApiClient, alice: Account, set_setting: SetSetting) -> None:
    set_setting("MAX_BODY_BYTES", "65536")
    task_id = _task(client, alice)
    answer = client.post(
        f"/tasks/{task_id}/comments", token=alice.access_token, raw_body=json.dumps({"body": "x" * 70_000})
    )
    _error(answer, 413, "BODY_TOO_LARGE")


def test_a_malformed_task_id_is_a_400(client: ApiClient, caller: Account) -> None:
    _error(client.post("/tasks/not-a-uuid/comments", token=caller.access_token, json_body={"body": "x"}), 400)
    _error(client.get("/tasks/not-a-uuid/comments", token=caller.access_token), 400)


def test_another_users_task_is_a_404_exactly_like_a_missing_one(
    client: ApiClient, alice: Account, bob: Account
) -> None:
    task_id = _task(client, alice)
    _comment(client, alice, task_id)
    missing = str(uuid.uuid4())
    for method, path, body in (
        ("POST", "/tasks/{}/comments", {"body": "Hi"}),
        ("GET", "/tasks/{}/comments", None),
    ):
        foreign = client.request(method, path.format(task_id), token=bob.access_token, json_body=body)
        absent = client.request(method, path.format(missing), token=bob.access_token, json_body=body)
        assert foreign.status_code == absent.status_code == 404
        assert assert_error(foreign.json(), "NOT_FOUND")["message"] == assert_error(absent.json())["message"]
    assert len(_list(client, alice, task_id).json()["items"]) == 1  # bob's attempt left nothing


def test_the_per_task_limit_is_a_409_and_deleting_frees_a_slot(
    client: ApiClient, alice: Account, set_setting: SetSetting
) -> None:
    set_setting("COMMENT_LIMIT_PER_TASK", "2")
    task_id = _task(client, alice)
    first = _comment(client, alice, task_id, "one")
    _comment(client, alice, task_id, "two")
    refused = client.post(f"/tasks/{task_id}/comments", token=alice.access_token, json_body={"body": "three"})
    assert _error(refused, 409, "LIMIT_REACHED")["details"] == {"limit": 2, "of": "comments"}
    _comment(client, alice, _task(client, alice, "other"), "a separate task has its own limit")
    deleted = client.delete(f"/tasks/{task_id}/comments/{first['id']}", token=alice.access_token)
    assert deleted.status_code == 204, deleted.body
    _comment(client, alice, task_id, "three, now that there is room")


def test_comment_routes_are_rate_limited_per_user(
    client: ApiClient, alice: Account, bob: Account, set_setting: SetSetting
) -> None:
    task_id = _task(client, alice)
    bobs_task = _task(client, bob)
    set_setting("RATE_LIMIT_USER_PER_MINUTE", "3")  # each has spent one request creating a task
    assert _list(client, alice, task_id).status_code == 200
    assert (
        client.post(f"/tasks/{task_id}/comments", token=alice.access_token, json_body={"body": "x"}).status_code == 201
    )
    refused = client.post(f"/tasks/{task_id}/comments", token=alice.access_token, json_body={"body": "y"})
    _error(refused, 429, "RATE_LIMITED")
    assert refused.headers["Retry-After"]
    assert _list(client, bob, bobs_task).status_code == 200  # another user's window


# --- mentions ---------------------------------------------------------------------------------------------------


def test_a_personal_task_keeps_only_mentions_of_its_owner(client: ApiClient, alice: Account, bob: Account) -> None:
    task_id = _task(client, alice)
    body = f"@ALICE@example.com and @{alice.user_id.upper()}, cc @bob@example.com @{bob.user_id} @nobody@example.com"
    assert _comment(client, alice, task_id, body)["mentions"] == [alice.user_id]


def test_a_project_task_keeps_mentions_of_its_members_only(
    client: ApiClient, project_task: ProjectTask, new_account: Callable[..., Account]
) -> None:
    owner, viewer, member, outsider, leaver = (new_account() for _ in range(5))
    task = project_task(owner, {"v": (viewer, "viewer"), "m": (member, "member"), "l": (leaver, "member")})
    from taskapp.data import projects as store
    from taskapp.domain.records.projects import Member, ProjectEvent

    assert task.project_id is not None
    now = datetime.now(UTC)
    store.remove_member(
        Member(task.project_id, leaver.user_id, "member", leaver.email, now),
        ProjectEvent("e-1", "member.removed", task.project_id, owner.user_id, now, subject_user_id=leaver.user_id),
    )
    body = (
        f"@{member.email} please review with @{owner.user_id}; not @{outsider.email}, @{outsider.user_id}, "
        f"@{leaver.email}, @ghost@example.com or @{uuid.uuid4()}"
    )
    comment = _comment(client, viewer, task.task_id, body)  # viewers read and comment
    assert comment["projectId"] == task.project_id
    assert comment["mentions"] == sorted([member.user_id, owner.user_id])


def test_more_than_20_mentions_is_a_422_and_repeats_count_once(client: ApiClient, alice: Account) -> None:
    task_id = _task(client, alice)
    twenty = " ".join(f"@user{n}@example.com" for n in range(20))
    assert _comment(client, alice, task_id, twenty + " " + twenty)["mentions"] == []
    refused = client.post(
        f"/tasks/{task_id}/comments", token=alice.access_token, json_body={"body": twenty + " @one-more@example.com"}
    )
    assert _error(refused, 422, "TOO_MANY_MENTIONS")["details"] == {"limit": 20}


def test_a_body_of_nothing_but_at_signs_is_just_text(client: ApiClient, alice: Account) -> None:
    task_id = _task(client, alice)
    assert _comment(client, alice, task_id, "@" * 5000)["mentions"] == []
    assert _comment(client, alice, task_id, "@a@" * 1666)["mentions"] == []


# --- listing ----------------------------------------------------------------------------------------------------


def test_list_is_oldest_first_and_pages_with_a_cursor(client: ApiClient, alice: Account) -> None:
    task_id = _task(client, alice)
    other_task = _task(client, alice, "other")
    ids = [_comment(client, alice, task_id, f"c{n}")["id"] for n in range(5)]
    _comment(client, alice, other_task, "elsewhere")
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        query = {"limit": "2", **({"nextToken": token} if token else {})}
        page = _list(client, alice, task_id, **query)
        assert page.status_code == 200, page.body
        seen += [item["id"] for item in page.json()["items"]]
        token = page.json()["nextToken"]
        pages += 1
        if not token:
            break
    assert seen == ids and pages == 3


def test_a_cursor_is_bound_to_its_task_and_caller(client: ApiClient, alice: Account, bob: Account) -> None:
    task_id = _task(client, alice)
    for n in range(3):
        _comment(client, alice, task_id, f"c{n}")
    cursor = _list(client, alice, task_id, limit="1").json()["nextToken"]
    assert cursor
    _error(_list(client, alice, _task(client, alice, "other"), nextToken=cursor), 400, "INVALID_CURSOR")
    bobs_task = _task(client, bob)
    _error(_list(client, bob, bobs_task, nextToken=cursor), 400, "INVALID_CURSOR")
    _error(_list(client, alice, task_id, nextToken=cursor[:-2] + "xx"), 400, "INVALID_CURSOR")


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "+5"}, {"lmit": "5"}, {"sort": "x"}])
def test_list_refuses_bad_query_strings(client: ApiClient, alice: Account, query: dict[str, str]) -> None:
    _error(_list(client, alice, _task(client, alice), **query), 400)


# --- editing ----------------------------------------------------------------------------------------------------


def _patch(client: ApiClient, caller: Account, task_id: str, comment_id: str, body: dict[str, Any]) -> ApiResponse:
    return client.patch(f"/tasks/{task_id}/comments/{comment_id}", token=caller.access_token, json_body=body)


def test_edit_with_the_current_version_and_mentions_reparsed(client: ApiClient, alice: Account) -> None:
    task_id = _task(client, alice)
    comment = _comment(client, alice, task_id, f"note to self @{alice.user_id}")
    assert comment["mentions"] == [alice.user_id]
    edited = _patch(client, alice, task_id, comment["id"], {"body": "no mention now", "version": 1})
    assert edited.status_code == 200, edited.body
    body = edited.json()
    assert body["body"] == "no mention now" and body["mentions"] == [] and body["version"] == 2
    assert body["createdAt"] == comment["createdAt"] and body["updatedAt"] > comment["updatedAt"]
    assert _list(client, alice, task_id).json()["items"] == [body]
    again = _patch(client, alice, task_id, comment["id"], {"body": f"@{alice.email}", "version": 2})
    assert again.json()["mentions"] == [alice.user_id]


def test_edit_with_a_stale_version_is_a_409_naming_the_current_one(client: ApiClient, alice: Account) -> None:
    task_id = _task(client, alice)
    comment = _comment(client, alice, task_id)
    assert _patch(client, alice, task_id, comment["id"], {"body": "v2", "version": 1}).status_code == 200
    stale = _patch(client, alice, task_id, comment["id"], {"body": "v3?", "version": 1})
    assert _error(stale, 409, "VERSION_CONFLICT")["details"] == {"currentVersion": 2}
    assert _list(client, alice, task_id).json()["items"][0]["body"] == "v2"


def test_a_concurrent_edit_loses_with_a_409(client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both read version 1; the other write lands between this one's read and its conditional write."""
    from taskapp.data import comments as store

    task_id = _task(client, alice)
    comment = _comment(client, alice, task_id)
    original = store.update_comment

    def racing(stored: Any, *args: Any) -> Any:
        original(stored, "the other edit", frozenset(), alice.user_id, datetime.now(UTC))
        return original(stored, *args)

    monkeypatch.setattr(store, "update_comment", racing)
    lost = _patch(client, alice, task_id, comment["id"], {"body": "mine", "version": 1})
    assert _error(lost, 409, "VERSION_CONFLICT")["details"] == {"currentVersion": 2}


@pytest.mark.parametrize(
    "body", [{"body": "x"}, {"version": 1}, {"body": "", "version": 1}, {"body": "x", "version": 0}, {}]
)
def test_edit_refuses_invalid_bodies(client: ApiClient, alice: Account, body: dict[str, Any]) -> None:
    task_id = _task(client, alice)
    comment = _comment(client, alice, task_id)
    _error(_patch(client, alice, task_id, comment["id"], body), 400, "VALIDATION_ERROR")


def test_a_comment_of_another_task_or_a_made_up_id_is_a_404(client: ApiClient, alice: Account) -> None:
    task_id = _task(client, alice)
    other = _comment(client, alice, _task(client, alice, "other"))
    for comment_id in (other["id"], uuid.uuid4().hex, str(uuid.uuid4())):
        _error(_patch(client, alice, task_id, comment_id, {"body": "x", "version": 1}), 404, "COMMENT_NOT_FOUND")
        _error(client.delete(f"/tasks/{task_id}/comments/{comment_id}", token=alice.access_token), 404)
    _error(_patch(client, alice, task_id, "not-an-id", {"body": "x", "version": 1}), 400)


def test_nobody_else_reaches_a_personal_tasks_comment(client: ApiClient, alice: Account, bob: Account) -> None:
    task_id = _task(client, alice)
    comment = _comment(client, alice, task_id)
    _error(_patch(client, bob, task_id, comment["id"], {"body": "mine now", "version": 1}), 404, "NOT_FOUND")
    _error(client.delete(f"/tasks/{task_id}/comments/{comment['id']}", token=bob.access_token), 404, "NOT_FOUND")
    assert _list(client, alice, task_id).json()["items"] == [comment]


# --- deleting ---------------------------------------------------------------------------------------------------


def test_the_author_deletes_a_comment(client: ApiClient, alice: Account) -> None:
    task_id = _task(client, alice)
    kept = _comment(client, alice, task_id, "kept")
    gone = _comment(client, alice, task_id, "gone")
    deleted = client.delete(f"/tasks/{task_id}/comments/{gone['id']}", token=alice.access_token)
    assert deleted.status_code == 204 and deleted.body == ""
    assert _list(client, alice, task_id).json()["items"] == [kept]
    _error(client.delete(f"/tasks/{task_id}/comments/{gone['id']}", token=alice.access_token), 404, "COMMENT_NOT_FOUND")


def test_a_personal_tasks_owner_moderates_comments_others_left_there(
    client: ApiClient, alice: Account, bob: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """E.g. left while the task was in a project. The deleter is written as `updatedBy` before the delete, so the
    stream's REMOVE image names who deleted it (the version stays: no comment.updated event)."""
    from taskapp.data import comments as store
    from taskapp.domain.records.comments import Comment

    task_id = _task(client, alice)
    now = datetime.now(UTC)
    comment = Comment(
        uuid.uuid4().hex, task_id, alice.user_id, None, bob.user_id, "bob's", frozenset(), now, now, 1, bob.user_id
    )
    store.create_comment(comment)
    removed: list[tuple[str, int]] = []
    original = store.CommentModel.delete

    def delete(model: Any, *args: Any, **kwargs: Any) -> Any:
        stored = store.CommentModel.get(model.task_id, model.comment_key, consistent_read=True)
        removed.append((stored.updated_by, int(stored.version)))
        return original(model, *args, **kwargs)

    monkeypatch.setattr(store.CommentModel, "delete", delete)
    assert client.delete(f"/tasks/{task_id}/comments/{comment.comment_id}", token=alice.access_token).status_code == 204
    assert removed == [(alice.user_id, 1)]
    assert _list(client, alice, task_id).json()["items"] == []


# --- project tasks ----------------------------------------------------------------------------------------------


def test_project_members_comment_edit_their_own_and_admins_delete_any(
    client: ApiClient, project_task: ProjectTask, new_account: Callable[..., Account]
) -> None:
    owner, admin, member, viewer = (new_account() for _ in range(4))
    task = project_task(owner, {"a": (admin, "admin"), "m": (member, "member"), "v": (viewer, "viewer")})
    by_member = _comment(client, member, task.task_id, "member's")
    by_viewer = _comment(client, viewer, task.task_id, "viewer's")
    assert [c["authorId"] for c in _list(client, viewer, task.task_id).json()["items"]] == [
        member.user_id,
        viewer.user_id,
    ]
    # Only the author edits, whatever the role
    for other in (owner, admin, viewer):
        refused = _patch(client, other, task.task_id, by_member["id"], {"body": "rewritten", "version": 1})
        _error(refused, 403, "FORBIDDEN")
    assert _patch(client, member, task.task_id, by_member["id"], {"body": "edited", "version": 1}).status_code == 200
    # Deleting someone else's: admins and the owner only
    for other in (member,):
        _error(client.delete(f"/tasks/{task.task_id}/comments/{by_viewer['id']}", token=other.access_token), 403)
    _error(client.delete(f"/tasks/{task.task_id}/comments/{by_member['id']}", token=viewer.access_token), 403)
    assert (
        client.delete(f"/tasks/{task.task_id}/comments/{by_viewer['id']}", token=admin.access_token).status_code == 204
    )
    assert (
        client.delete(f"/tasks/{task.task_id}/comments/{by_member['id']}", token=member.access_token).status_code == 204
    )
    assert _list(client, owner, task.task_id).json()["items"] == []


def test_non_members_get_the_404_of_a_missing_task(
    client: ApiClient, project_task: ProjectTask, new_account: Callable[..., Account]
) -> None:
    owner, outsider = new_account(), new_account()
    task = project_task(owner)
    comment = _comment(client, owner, task.task_id)
    for answer in (
        client.post(f"/tasks/{task.task_id}/comments", token=outsider.access_token, json_body={"body": "hi"}),
        _list(client, outsider, task.task_id),
        _patch(client, outsider, task.task_id, comment["id"], {"body": "x", "version": 1}),
        client.delete(f"/tasks/{task.task_id}/comments/{comment['id']}", token=outsider.access_token),
    ):
        assert assert_error(answer.json(), "NOT_FOUND")["message"] == "Task not found"
        assert answer.status_code == 404


def test_an_archived_projects_comments_are_read_only(
    client: ApiClient, project_task: ProjectTask, new_account: Callable[..., Account]
) -> None:
    owner = new_account()
    task = project_task(owner)
    comment = _comment(client, owner, task.task_id)
    assert client.delete(f"/projects/{task.project_id}", token=owner.access_token).status_code == 204
    assert _list(client, owner, task.task_id).json()["items"] == [comment]
    for answer in (
        client.post(f"/tasks/{task.task_id}/comments", token=owner.access_token, json_body={"body": "hi"}),
        _patch(client, owner, task.task_id, comment["id"], {"body": "x", "version": 1}),
        client.delete(f"/tasks/{task.task_id}/comments/{comment['id']}", token=owner.access_token),
    ):
        _error(answer, 409, "PROJECT_ARCHIVED")


def test_a_task_of_another_owner_with_the_same_id_shares_no_comments(
    client: ApiClient, alice: Account, bob: Account, set_setting: SetSetting
) -> None:
    """Task ids are unique per owner only: bulk ingestion takes client-chosen ids, so bob can make a task with the
    id of alice's. Her comments stay hers: not listed, counted, edited or deleted through his task."""
    from tests.unit.helpers import seed_task

    task_id = _task(client, alice)
    hers = _comment(client, alice, task_id, "alice's notes")
    seed_task(bob.user_id, task_id)
    assert _list(client, bob, task_id).json() == {"items": [], "nextToken": None}
    _error(_patch(client, bob, task_id, hers["id"], {"body": "bob's now", "version": 1}), 404, "COMMENT_NOT_FOUND")
    _error(client.delete(f"/tasks/{task_id}/comments/{hers['id']}", token=bob.access_token), 404, "COMMENT_NOT_FOUND")
    set_setting("COMMENT_LIMIT_PER_TASK", "1")
    his = _comment(client, bob, task_id, "bob's own")  # alice's comment does not count against his task
    assert _list(client, bob, task_id).json()["items"] == [his]
    assert _list(client, alice, task_id).json()["items"] == [hers]


@pytest.mark.usefixtures("aws")
def test_the_in_process_api_creates_the_comments_table_with_its_index() -> None:
    """`make local-api` creates every table an env var refers to (infra/local_api/tables.py): env.local.json names
    this one, and it comes out of the template with its KEYS_ONLY index."""
    import boto3

    from infra.local_api import SamTemplate
    from infra.local_api.server import process_environment
    from infra.local_api.tables import ensure_tables, table_names
    from tests.support.lambda_events import ROOT

    template = SamTemplate(ROOT / "template.yaml")
    env_file = json.loads((ROOT / "env.local.json").read_text())
    environment = process_environment(template, env_file)
    assert table_names(template, environment)["CommentsTable"] == env_file["Parameters"]["COMMENTS_TABLE"]
    only_comments = {"COMMENTS_TABLE": f"local-api-comments-{uuid.uuid4().hex[:8]}"}
    assert ensure_tables(template, only_comments, None) == [only_comments["COMMENTS_TABLE"]]
    table = boto3.client("dynamodb").describe_table(TableName=only_comments["COMMENTS_TABLE"])["Table"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "byCommentId" and index["Projection"]["ProjectionType"] == "KEYS_ONLY"
    boto3.client("dynamodb").delete_table(TableName=only_comments["COMMENTS_TABLE"])


def test_the_limit_check_reads_no_further_than_the_limit(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting stops at the limit: a task holding more (limit lowered after they were written) costs one page."""
    from taskapp.data import comments as store

    task_id = _task(client, alice)
    for n in range(7):
        _comment(client, alice, task_id, f"c{n}")
    pages: list[int] = []
    connection = store.CommentModel._get_connection()
    original = connection.query

    def query(*args: Any, **kwargs: Any) -> Any:
        page = original(*args, **kwargs)
        pages.append(int(page["ScannedCount"]))
        return page

    monkeypatch.setattr(connection, "query", query)
    assert store.count_comments(task_id, alice.user_id, 3) == 3
    assert pages == [3]

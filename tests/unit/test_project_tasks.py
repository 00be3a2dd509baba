"""Tasks in projects (issue 11): access through project membership, assignees, moves, archived projects, the
unassignment on removal, the list filters (each one index Query: ScannedCount == Count, no Scan) and the cache."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.api_client import ApiClient, ApiResponse
from tests.support.tokens import mint_access_token
from tests.unit.conftest import JWT_SECRET, SetSetting
from tests.unit.helpers import assert_error


class User:
    def __init__(self, client: ApiClient) -> None:
        self.id = str(uuid.uuid4())
        self.token = mint_access_token(JWT_SECRET, sub=self.id)
        self.client = client

    def get(self, path: str, **query: str) -> ApiResponse:
        return self.client.get(path, token=self.token, query=query or None)

    def post(self, path: str, body: Any) -> ApiResponse:
        return self.client.post(path, json_body=body, token=self.token)

    def patch(self, path: str, body: Any) -> ApiResponse:
        return self.client.request("PATCH", path, json_body=body, token=self.token)

    def delete(self, path: str) -> ApiResponse:
        return self.client.request("DELETE", path, token=self.token)


@pytest.fixture
def team(client: ApiClient) -> dict[str, User]:
    return {name: User(client) for name in ("owner", "admin", "member", "viewer", "outsider")}


def _project(owner: User, *members: tuple[User, str], name: str = "Team") -> str:
    from taskapp.data import projects as store
    from taskapp.domain import projects
    from taskapp.domain.records.projects import Member
    from taskapp.schemas.projects import CreateProjectRequest

    project = projects.create_project(owner.id, CreateProjectRequest(name=name))
    for user, role in members:
        store.member_to_model(Member(project.id, user.id, role, None, datetime.now(UTC))).save()
        store.ProjectModel(store.project_key(project.id), store.META).update(
            actions=[store.ProjectModel.member_count.add(1)]
        )
    return project.id


@pytest.fixture
def project(team: dict[str, User]) -> str:
    return _project(team["owner"], (team["admin"], "admin"), (team["member"], "member"), (team["viewer"], "viewer"))


def _task(user: User, project_id: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"title": fields.pop("title", "A task"), **fields}
    if project_id:
        body["projectId"] = project_id
    answer = user.post("/tasks", body)
    assert answer.status_code == 201, answer.body
    task: dict[str, Any] = answer.json()
    return task


# --- access -----------------------------------------------------------------------------------------------------


def test_a_member_creates_and_assigns_a_project_task_and_the_team_sees_it(team: dict[str, User], project: str) -> None:
    task = _task(team["member"], project, assigneeId=team["viewer"].id)
    assert task["projectId"] == project and task["assigneeId"] == team["viewer"].id
    assert task["updatedBy"] == team["member"].id
    for name in ("owner", "admin", "member", "viewer"):
        answer = team[name].get(f"/tasks/{task['id']}")
        assert answer.status_code == 200, (name, answer.body)
        assert answer.json()["title"] == "A task"


def test_a_viewer_reads_but_cannot_create_edit_or_delete(team: dict[str, User], project: str) -> None:
    task = _task(team["member"], project)
    viewer = team["viewer"]
    assert viewer.get(f"/tasks/{task['id']}").status_code == 200
    for answer in (
        viewer.patch(f"/tasks/{task['id']}", {"version": 1, "title": "Mine now"}),
        viewer.delete(f"/tasks/{task['id']}"),
        viewer.post("/tasks", {"title": "x", "projectId": project}),
    ):
        assert answer.status_code == 403, answer.body
        assert_error(answer.json(), "FORBIDDEN")


def test_a_non_member_gets_exactly_the_404_of_a_missing_task(team: dict[str, User], project: str) -> None:
    task = _task(team["member"], project)
    outsider = team["outsider"]
    missing_id = str(uuid.uuid4())
    for method, body in (("GET", None), ("PATCH", {"version": 1, "title": "x"}), ("DELETE", None)):
        seen = outsider.client.request(method, f"/tasks/{task['id']}", token=outsider.token, json_body=body)
        missing = outsider.client.request(method, f"/tasks/{missing_id}", token=outsider.token, json_body=body)
        assert seen.status_code == missing.status_code == 404
        assert seen.json()["error"]["code"] == missing.json()["error"]["code"] == "NOT_FOUND"
        assert seen.json()["error"]["message"] == missing.json()["error"]["message"]
    assert outsider.get("/tasks", projectId=project).status_code == 404
    assert outsider.post("/tasks", {"title": "x", "projectId": project}).status_code == 404


def test_someone_elses_personal_task_stays_invisible_to_project_members(team: dict[str, User], project: str) -> None:
    personal = _task(team["owner"])
    assert team["member"].get(f"/tasks/{personal['id']}").status_code == 404


def test_removal_and_role_changes_hold_on_the_very_next_request(team: dict[str, User], project: str) -> None:
    member, owner, viewer = team["member"], team["owner"], team["viewer"]
    task = _task(member, project)
    assert viewer.patch(f"/tasks/{task['id']}", {"version": 1, "title": "x"}).status_code == 403
    promoted = owner.patch(f"/projects/{project}/members/{viewer.id}", {"role": "member"})
    assert promoted.status_code == 200, promoted.body
    assert viewer.patch(f"/tasks/{task['id']}", {"version": 1, "title": "x"}).status_code == 200
    assert owner.delete(f"/projects/{project}/members/{member.id}").status_code == 204
    # The creator, removed: their own key still holds the task, and still 404.
    assert member.get(f"/tasks/{task['id']}").status_code == 404
    assert member.get("/tasks", projectId=project).status_code == 404


def test_project_tasks_stay_out_of_the_personal_list(team: dict[str, User], project: str) -> None:
    member = team["member"]
    personal = _task(member, title="Mine")
    _task(member, project, title="Team's")
    listed = member.get("/tasks").json()["items"]
    assert [task["id"] for task in listed] == [personal["id"]]
    assert set(listed[0]) == {
        "id", "title", "description", "status", "priority", "dueDate", "tags", "createdAt", "updatedAt", "version",
        "remindAt",
    }  # fmt: skip


# --- assignees and moves ----------------------------------------------------------------------------------------


def test_a_personal_task_is_assigned_to_its_owner_or_nobody(team: dict[str, User]) -> None:
    owner = team["owner"]
    mine = _task(owner, assigneeId=owner.id)
    assert mine["assigneeId"] == owner.id
    refused = owner.post("/tasks", {"title": "x", "assigneeId": team["member"].id})
    assert refused.status_code == 422
    assert_error(refused.json(), "ASSIGNEE_NOT_ALLOWED")
    cleared = owner.patch(f"/tasks/{mine['id']}", {"version": 1, "assigneeId": None})
    assert cleared.status_code == 200 and "assigneeId" not in cleared.json()


def test_a_project_task_is_assigned_to_members_only(team: dict[str, User], project: str) -> None:
    refused = team["member"].post("/tasks", {"title": "x", "projectId": project, "assigneeId": team["outsider"].id})
    assert refused.status_code == 422
    assert_error(refused.json(), "ASSIGNEE_NOT_MEMBER")
    task = _task(team["member"], project)
    assigned = team["admin"].patch(f"/tasks/{task['id']}", {"version": 1, "assigneeId": team["owner"].id})
    assert assigned.status_code == 200
    assert assigned.json()["assigneeId"] == team["owner"].id and assigned.json()["updatedBy"] == team["admin"].id


def test_moving_needs_member_rights_in_both_projects(team: dict[str, User], project: str) -> None:
    member, owner = team["member"], team["owner"]
    other = _project(owner, (team["viewer"], "member"), name="Other")
    task = _task(member, project)
    refused = member.patch(f"/tasks/{task['id']}", {"version": 1, "projectId": other})
    assert refused.status_code == 404  # not a member of the target: like a missing project
    moved = owner.patch(f"/tasks/{task['id']}", {"version": 1, "projectId": other})
    assert moved.status_code == 200 and moved.json()["projectId"] == other
    assert member.get(f"/tasks/{task['id']}").status_code == 404  # gone from the project they belong to
    assert team["viewer"].get(f"/tasks/{task['id']}").status_code == 200
    assert [t["id"] for t in owner.get("/tasks", projectId=other).json()["items"]] == [task["id"]]
    assert owner.get("/tasks", projectId=project).json()["items"] == []
    not_null = owner.patch(f"/tasks/{task['id']}", {"version": 2, "projectId": None})
    assert not_null.status_code == 400


def test_a_personal_task_moves_into_a_project_and_leaves_the_personal_list(team: dict[str, User], project: str) -> None:
    member = team["member"]
    task = _task(member, tags=["x"])
    moved = member.patch(f"/tasks/{task['id']}", {"version": 1, "projectId": project})
    assert moved.status_code == 200
    assert member.get("/tasks").json()["items"] == []
    assert member.get("/tasks", tag="x").json()["items"] == []
    assert [t["id"] for t in team["viewer"].get("/tasks", projectId=project, tag="x").json()["items"]] == [task["id"]]


def test_an_archived_project_is_read_only_and_leaves_lists(team: dict[str, User], project: str) -> None:
    owner, member = team["owner"], team["member"]
    task = _task(member, project)
    assert owner.delete(f"/projects/{project}").status_code == 204
    assert member.get(f"/tasks/{task['id']}").status_code == 200
    for answer in (
        member.patch(f"/tasks/{task['id']}", {"version": 1, "title": "x"}),
        member.delete(f"/tasks/{task['id']}"),
        member.post("/tasks", {"title": "x", "projectId": project}),
    ):
        assert answer.status_code == 409, answer.body
        assert_error(answer.json(), "PROJECT_ARCHIVED")
    assert member.get("/tasks", projectId=project).json()["items"] == []
    assert [t["id"] for t in member.get("/tasks", projectId=project, archived="true").json()["items"]] == [task["id"]]


def test_removing_a_member_unassigns_their_tasks_as_writes_by_the_remover(team: dict[str, User], project: str) -> None:
    from taskapp.data import tasks as store

    member, admin = team["member"], team["admin"]
    assigned = [_task(admin, project, assigneeId=member.id, title=f"t{n}") for n in range(3)]
    other = _task(admin, project, assigneeId=admin.id)
    assert admin.delete(f"/projects/{project}/members/{member.id}").status_code == 204
    for task in assigned:
        stored = store.get_task(admin.id, task["id"])
        assert stored is not None
        assert (stored.assignee_id, stored.version, stored.updated_by) == (None, 2, admin.id)
    kept = store.get_task(admin.id, other["id"])
    assert kept is not None and kept.assignee_id == admin.id and kept.version == 1


def test_a_delete_by_another_member_records_them_before_the_item_goes(
    team: dict[str, User], project: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.data import tasks as store

    task = _task(team["member"], project, tags=["a"])
    seen: list[str | None] = []
    real = store.delete_task

    def spy(owner_id: str, task_id: str, expected_version: int | None = None) -> bool:
        seen.append(store.get_task(owner_id, task_id).updated_by)  # type: ignore[union-attr]
        return real(owner_id, task_id, expected_version)

    monkeypatch.setattr(store, "delete_task", spy)
    assert team["admin"].delete(f"/tasks/{task['id']}").status_code == 204
    assert seen == [team["admin"].id]
    assert team["member"].get("/tasks", projectId=project, tag="a").json()["items"] == []
    assert store.TagModel.count() == 0  # its tag item went with it


def test_a_tag_item_left_by_a_failed_write_is_skipped_not_listed(team: dict[str, User], project: str) -> None:
    from taskapp.data import tasks as store

    task = _task(team["member"], project, tags=["a"])
    store.TagModel(
        store.tag_key(store.project_scope(project), "b"), "2999-01-01#x", owner_id=team["member"].id,
        task_id=task["id"], written_version=2,
    ).save()  # fmt: skip
    assert team["member"].get("/tasks", projectId=project, tag="b").json()["items"] == []
    assert [t["id"] for t in team["member"].get("/tasks", projectId=project, tag="a").json()["items"]] == [task["id"]]


def test_tag_changes_move_the_task_between_tag_lists(team: dict[str, User], project: str) -> None:
    member = team["member"]
    task = _task(member, project, tags=["a", "b"])
    assert member.patch(f"/tasks/{task['id']}", {"version": 1, "tags": ["b", "c"]}).status_code == 200
    for tag, expected in (("a", []), ("b", [task["id"]]), ("c", [task["id"]])):
        assert [t["id"] for t in member.get("/tasks", projectId=project, tag=tag).json()["items"]] == expected, tag


# --- the cache ----------------------------------------------------------------------------------------------------


def test_a_project_task_is_never_served_from_the_cache(
    team: dict[str, User], project: str, set_setting: SetSetting, fake_redis: Any
) -> None:
    set_setting("TASK_CACHE_ENABLED", "true")
    member, owner = team["member"], team["owner"]
    task = _task(member, project)
    assert member.get(f"/tasks/{task['id']}").status_code == 200
    assert member.get(f"/tasks/{task['id']}").status_code == 200
    assert not [key for key in fake_redis.keys("taskcache:*") if not key.endswith(":floor")]
    assert owner.delete(f"/projects/{project}/members/{member.id}").status_code == 204
    assert member.get(f"/tasks/{task['id']}").status_code == 404


def test_a_personal_task_moved_into_a_project_is_not_served_from_its_old_cache_entry(
    team: dict[str, User], project: str, set_setting: SetSetting
) -> None:
    set_setting("TASK_CACHE_ENABLED", "true")
    member, owner = team["member"], team["owner"]
    task = _task(member)
    assert member.get(f"/tasks/{task['id']}").status_code == 200  # cached as a personal task
    assert member.patch(f"/tasks/{task['id']}", {"version": 1, "projectId": project}).status_code == 200
    assert owner.delete(f"/projects/{project}/members/{member.id}").status_code == 204
    assert member.get(f"/tasks/{task['id']}").status_code == 404


# --- the filters: one index Query each, reading only what it returns -----------------------------------------------


@pytest.fixture
def reads() -> Iterator[list[tuple[str | None, int, int]]]:
    """Every Query's (index, ScannedCount, Count) while the test runs; any Scan fails it (undone before the
    tables are emptied, which scans)."""
    from pynamodb.connection.base import Connection

    seen: list[tuple[str | None, int, int]] = []
    real_query = Connection.query

    def query(self: Connection, table_name: str, *args: Any, **kwargs: Any) -> Any:
        result = real_query(self, table_name, *args, **kwargs)
        seen.append((kwargs.get("index_name"), result.get("ScannedCount", 0), result.get("Count", 0)))
        return result

    def scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a list route scanned")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Connection, "query", query)
        patch.setattr(Connection, "scan", scan)
        yield seen


@pytest.fixture
def board(team: dict[str, User], project: str) -> dict[str, Any]:
    member, admin = team["member"], team["admin"]
    specs: list[dict[str, Any]] = [
        {"title": "a", "status": "todo", "priority": "high", "dueDate": "2026-03-01", "tags": ["ops"]},
        {"title": "b", "status": "done", "priority": "low", "dueDate": "2026-01-15", "assigneeId": member.id},
        {"title": "c", "status": "todo", "priority": "medium", "assigneeId": member.id, "tags": ["ops", "ui"]},
        {"title": "d", "status": "in_progress", "priority": "high", "dueDate": "2026-02-01", "assigneeId": admin.id},
        {"title": "e", "status": "todo", "priority": "low", "assigneeId": member.id},
    ]
    made = [_task(admin, project, **spec) for spec in specs]
    return {task["title"]: task for task in made}


CASES: list[tuple[dict[str, str], list[str]]] = [
    ({}, ["e", "d", "c", "b", "a"]),
    ({"status": "todo"}, ["e", "c", "a"]),
    ({"assignee": "me"}, ["e", "c", "b"]),
    ({"assignee": "me", "status": "todo"}, ["e", "c"]),
    ({"priority": "high"}, ["d", "a"]),
    ({"tag": "ops"}, ["c", "a"]),
    ({"sort": "dueDate"}, ["b", "d", "a", "c", "e"]),  # soonest first, undated last (by id among them)
    ({"sort": "priority"}, ["d", "a", "c", "e", "b"]),  # high first, newest first within
    ({"sort": "createdAt"}, ["e", "d", "c", "b", "a"]),
    ({"dueAfter": "2026-01-15"}, ["d", "a"]),
    ({"dueBefore": "2026-03-01", "sort": "dueDate"}, ["b", "d"]),
    ({"dueAfter": "2026-01-01", "dueBefore": "2026-02-15"}, ["b", "d"]),
    ({"dueAfter": "2026-02-15", "dueBefore": "2026-01-01"}, []),  # an empty range, not a DynamoDB error
    ({"dueAfter": "2026-02-01", "dueBefore": "2026-02-01"}, []),
]


@pytest.mark.parametrize(("filters", "expected"), CASES, ids=[str(case[0]) for case in CASES])
@pytest.mark.usefixtures("board")
def test_each_supported_filter_is_one_query_that_reads_what_it_returns(
    team: dict[str, User],
    project: str,
    reads: list[tuple[str | None, int, int]],
    filters: dict[str, str],
    expected: list[str],
) -> None:
    answer = team["member"].get("/tasks", projectId=project, **filters)
    assert answer.status_code == 200, answer.body
    titles = [task["title"] for task in answer.json()["items"]]
    if filters.get("sort") == "dueDate" and not (filters.keys() & {"dueAfter", "dueBefore"}):
        assert titles[:3] == expected[:3] and sorted(titles[3:]) == sorted(expected[3:])
    else:
        assert titles == expected
    assert reads or not expected, "no Query ran"
    assert all(scanned == count for _, scanned, count in reads), reads


def test_personal_lists_take_the_same_filters(team: dict[str, User], reads: list[tuple[str | None, int, int]]) -> None:
    owner = team["owner"]
    _task(owner, title="old", priority="low", tags=["home"])
    _task(owner, title="new", priority="high", assigneeId=owner.id, dueDate="2026-05-01")
    for filters, expected in (
        ({"priority": "high"}, ["new"]),
        ({"tag": "home"}, ["old"]),
        ({"assignee": "me"}, ["new"]),
        ({"sort": "priority"}, ["new", "old"]),
        ({"sort": "dueDate"}, ["new", "old"]),
        ({}, ["new", "old"]),
    ):
        answer = owner.get("/tasks", **filters)
        assert answer.status_code == 200, answer.body
        assert [task["title"] for task in answer.json()["items"]] == expected, filters
    assert all(scanned == count for _, scanned, count in reads), reads


@pytest.mark.parametrize(
    "filters",
    [
        {"status": "todo", "priority": "high"},
        {"tag": "ops", "status": "todo"},
        {"status": "todo", "sort": "priority"},
        {"dueBefore": "2026-01-01", "sort": "createdAt"},
        {"assignee": "me", "sort": "dueDate"},
        {"priority": "low", "tag": "ops"},
    ],
)
def test_other_combinations_are_refused_with_what_is_supported(
    team: dict[str, User], project: str, filters: dict[str, str]
) -> None:
    answer = team["member"].get("/tasks", projectId=project, **filters)
    assert answer.status_code == 400, answer.body
    error = assert_error(answer.json(), "UNSUPPORTED_FILTER")
    assert "assignee+status" in error["message"]


@pytest.mark.parametrize(
    "query",
    [{"assignee": "someone"}, {"projectId": "not-a-uuid"}, {"sort": "title"}, {"dueBefore": "2026-02-30"}],
)
def test_bad_filter_values_are_400(team: dict[str, User], query: dict[str, str]) -> None:
    assert team["member"].get("/tasks", **query).status_code == 400


def test_project_lists_page_with_cursors_bound_to_the_query(team: dict[str, User], project: str) -> None:
    member = team["member"]
    made = [_task(member, project, title=f"t{n}", status="todo") for n in range(5)]
    seen: list[str] = []
    token = ""
    while True:
        query = {"projectId": project, "status": "todo", "limit": "2", **({"nextToken": token} if token else {})}
        page = member.get("/tasks", **query).json()
        seen += [task["id"] for task in page["items"]]
        token = page["nextToken"] or ""
        if not token:
            break
        foreign = member.get("/tasks", projectId=project, limit="2", nextToken=token)
        assert foreign.status_code == 400  # a cursor of the status list is not one of the plain list
    assert seen == [task["id"] for task in reversed(made)]


@pytest.mark.parametrize("field", ["projectId", "assigneeId"])
def test_ingestion_cannot_place_a_task_in_a_project_or_assign_it(
    team: dict[str, User], project: str, monkeypatch: pytest.MonkeyPatch, field: str
) -> None:
    from taskapp.domain import ingest_accept

    monkeypatch.setattr(ingest_accept, "produce_all", lambda records: None)
    value = project if field == "projectId" else team["member"].id
    answer = team["outsider"].post("/tasks/ingest", {"tasks": [{"title": "sneaky", field: value}]})
    assert answer.status_code == 400, answer.body


def test_the_personal_list_function_keeps_its_signature(team: dict[str, User], project: str) -> None:
    from taskapp.domain import tasks
    from taskapp.schemas.tasks import TaskStatus

    owner = team["owner"]
    mine = _task(owner, status="done")
    _task(owner, project, status="done")
    page = tasks.list_tasks(owner.id, TaskStatus.DONE, 10, None)
    assert [task.id for task in page.items] == [mine["id"]]
    assert tasks.list_tasks(owner.id, None, 10, None).items[0].id == mine["id"]


def test_a_personal_task_taking_a_project_tasks_id_cannot_hide_it(team: dict[str, User], project: str) -> None:
    """Ingestion lets a client choose ids: a personal task with a project task's id is never found by members'
    lookups by id (the index holds project tasks only), and cannot move into a project under that id."""
    from taskapp.data import tasks as store

    task = _task(team["member"], project)
    outsider = team["outsider"]
    shadow = store.get_task(team["member"].id, task["id"])
    assert shadow is not None
    store.put_tasks([shadow._replace(owner_id=outsider.id, project_id=None, assignee_id=None, updated_by=outsider.id)])
    assert team["viewer"].get(f"/tasks/{task['id']}").json()["projectId"] == project
    assert outsider.get(f"/tasks/{task['id']}").json()["title"] == "A task"  # their own, personal copy
    other = _project(outsider, name="Theirs")
    moved = outsider.patch(f"/tasks/{task['id']}", {"version": 1, "projectId": other})
    assert moved.status_code == 409, moved.body
    assert_error(moved.json(), "TASK_ID_TAKEN")
    assert team["viewer"].get(f"/tasks/{task['id']}").json()["projectId"] == project

"""ETags and conditional requests on /tasks/{id}: ETag + Last-Modified, 304, If-Match as the version, 412, 428."""

from __future__ import annotations

import uuid
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from tests.support.api_client import ApiClient, ApiResponse
from tests.unit.conftest import Account, SetSetting
from tests.unit.helpers import assert_error


@pytest.fixture
def task(client: ApiClient, alice: Account) -> dict[str, Any]:
    answer = client.post("/tasks", json_body={"title": "Write the runbook"}, token=alice.access_token)
    assert answer.status_code == 201, answer.body
    return dict(answer.json())


def _header(response: ApiResponse, name: str) -> str | None:
    return next((value for key, value in response.headers.items() if key.lower() == name.lower()), None)


def _get(client: ApiClient, account: Account, task_id: str, **headers: str) -> ApiResponse:
    return client.get(f"/tasks/{task_id}", token=account.access_token, headers=headers)


def _patch(client: ApiClient, account: Account, task_id: str, body: Any, **headers: str) -> ApiResponse:
    return client.patch(f"/tasks/{task_id}", json_body=body, token=account.access_token, headers=headers)


# --- ETag and Last-Modified -----------------------------------------------------------------------------------


def test_get_answers_a_strong_etag_and_last_modified(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    from taskapp.conditional import entity_tag

    answer = _get(client, alice, task["id"])
    etag = _header(answer, "ETag")
    assert etag == entity_tag(task["id"], 1)
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    last_modified = parsedate_to_datetime(_header(answer, "Last-Modified") or "")
    assert last_modified.isoformat().startswith(task["updatedAt"][:19])


def test_the_etag_changes_with_the_version_and_differs_between_tasks(
    client: ApiClient, alice: Account, task: dict[str, Any]
) -> None:
    other = client.post("/tasks", json_body={"title": "Another"}, token=alice.access_token)
    first = _header(_get(client, alice, task["id"]), "ETag")
    assert first != _header(other, "ETag")
    patched = _patch(client, alice, task["id"], {"version": 1, "title": "Renamed"})
    assert patched.status_code == 200
    assert _header(patched, "ETag") not in (None, first)
    assert _header(patched, "ETag") == _header(_get(client, alice, task["id"]), "ETag")


def test_create_answers_the_new_tasks_etag(client: ApiClient, alice: Account) -> None:
    created = client.post("/tasks", json_body={"title": "t"}, token=alice.access_token)
    assert _header(created, "ETag") == _header(_get(client, alice, created.json()["id"]), "ETag")
    assert _header(created, "Last-Modified")


def test_lists_carry_no_etag(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    listed = client.get("/tasks", token=alice.access_token)
    assert listed.status_code == 200
    assert _header(listed, "ETag") is None


def test_errors_carry_no_etag(client: ApiClient, alice: Account) -> None:
    assert _header(_get(client, alice, str(uuid.uuid4())), "ETag") is None


# --- If-None-Match ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["{etag}", "W/{etag}", '"other", {etag}', "*"])
def test_if_none_match_naming_the_current_etag_is_304_without_body(
    client: ApiClient, alice: Account, task: dict[str, Any], form: str
) -> None:
    etag = _header(_get(client, alice, task["id"]), "ETag") or ""
    answer = _get(client, alice, task["id"], **{"If-None-Match": form.format(etag=etag)})
    assert answer.status_code == 304
    assert answer.body == ""
    assert _header(answer, "ETag") == etag
    assert _header(answer, "Last-Modified")


def test_if_none_match_with_an_old_etag_is_200_with_the_new_body(
    client: ApiClient, alice: Account, task: dict[str, Any]
) -> None:
    old = _header(_get(client, alice, task["id"]), "ETag") or ""
    _patch(client, alice, task["id"], {"version": 1, "title": "New"})
    answer = _get(client, alice, task["id"], **{"If-None-Match": old})
    assert answer.status_code == 200
    assert answer.json()["title"] == "New"


def test_if_none_match_never_reveals_another_users_task(
    client: ApiClient, alice: Account, bob: Account, task: dict[str, Any]
) -> None:
    etag = _header(_get(client, alice, task["id"]), "ETag") or ""
    answer = _get(client, bob, task["id"], **{"If-None-Match": etag})
    assert answer.status_code == 404
    assert_error(answer.json(), "NOT_FOUND")


# --- If-Match on PATCH and DELETE -------------------------------------------------------------------------------


def test_patch_with_if_match_and_no_body_version_applies_and_answers_the_new_etag(
    client: ApiClient, alice: Account, task: dict[str, Any]
) -> None:
    etag = _header(_get(client, alice, task["id"]), "ETag") or ""
    answer = _patch(client, alice, task["id"], {"title": "Via If-Match"}, **{"If-Match": etag})
    assert answer.status_code == 200, answer.body
    assert answer.json()["version"] == 2
    from taskapp.conditional import entity_tag

    assert _header(answer, "ETag") == entity_tag(task["id"], 2)


def test_patch_with_a_stale_if_match_after_another_clients_patch_is_412_with_the_current_etag(
    client: ApiClient, alice: Account, task: dict[str, Any]
) -> None:
    """Two tabs read version 1; the first saves, the second's If-Match is now stale and changes nothing."""
    seen_by_both = _header(_get(client, alice, task["id"]), "ETag") or ""
    first = _patch(client, alice, task["id"], {"title": "First tab"}, **{"If-Match": seen_by_both})
    assert first.status_code == 200
    second = _patch(client, alice, task["id"], {"title": "Second tab"}, **{"If-Match": seen_by_both})
    assert second.status_code == 412
    error = assert_error(second.json(), "PRECONDITION_FAILED")
    assert _header(second, "ETag") == _header(first, "ETag") == error["details"]["currentETag"]
    assert error["details"]["currentVersion"] == 2
    assert _get(client, alice, task["id"]).json()["title"] == "First tab"


def test_if_match_losing_the_race_between_read_and_write_is_412(
    client: ApiClient, alice: Account, task: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another write lands after the handler checked If-Match: the conditional write refuses, the answer is 412."""
    from taskapp.data import tasks as store

    etag = _header(_get(client, alice, task["id"]), "ETag") or ""
    real_update = store.update_task

    def another_write_first(current: Any, changes: Any, expected_version: int) -> Any:
        real_update(current, {"title": "rival"}, expected_version)
        return real_update(current, changes, expected_version)

    monkeypatch.setattr(store, "update_task", another_write_first)
    answer = _patch(client, alice, task["id"], {"title": "mine"}, **{"If-Match": etag})
    assert answer.status_code == 412
    assert assert_error(answer.json(), "PRECONDITION_FAILED")["details"]["currentVersion"] == 2
    monkeypatch.setattr(store, "update_task", real_update)
    assert _get(client, alice, task["id"]).json()["title"] == "rival"


def test_a_weak_if_match_never_matches(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    etag = _header(_get(client, alice, task["id"]), "ETag") or ""
    answer = _patch(client, alice, task["id"], {"title": "x"}, **{"If-Match": f"W/{etag}"})
    assert answer.status_code == 412


def test_if_match_star_accepts_any_current_version(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    assert _patch(client, alice, task["id"], {"title": "any"}, **{"If-Match": "*"}).status_code == 200


def test_a_matching_if_match_with_a_stale_body_version_is_still_409(
    client: ApiClient, alice: Account, task: dict[str, Any]
) -> None:
    etag = _header(_get(client, alice, task["id"]), "ETag") or ""
    answer = _patch(client, alice, task["id"], {"version": 7, "title": "x"}, **{"If-Match": etag})
    assert answer.status_code == 409
    assert_error(answer.json(), "VERSION_CONFLICT")


def test_if_match_on_another_users_task_is_404_like_a_missing_one(
    client: ApiClient, alice: Account, bob: Account, task: dict[str, Any]
) -> None:
    answer = _patch(client, bob, task["id"], {"title": "hijack"}, **{"If-Match": "*"})
    assert answer.status_code == 404


def test_patch_with_neither_if_match_nor_version_is_the_same_400_by_default(
    client: ApiClient, alice: Account, task: dict[str, Any]
) -> None:
    answer = _patch(client, alice, task["id"], {"title": "x"})
    assert answer.status_code == 400
    error = assert_error(answer.json(), "VALIDATION_ERROR")
    assert [(d["field"], d["type"]) for d in error["details"]] == [("version", "missing")]


def test_require_if_match_makes_a_patch_with_neither_428(
    client: ApiClient, alice: Account, task: dict[str, Any], set_setting: SetSetting
) -> None:
    set_setting("REQUIRE_IF_MATCH", "true")
    answer = _patch(client, alice, task["id"], {"title": "x"})
    assert answer.status_code == 428
    assert_error(answer.json(), "PRECONDITION_REQUIRED")
    assert _patch(client, alice, task["id"], {"version": 1, "title": "x"}).status_code == 200


def test_delete_with_a_stale_if_match_is_412_and_keeps_the_task(
    client: ApiClient, alice: Account, task: dict[str, Any]
) -> None:
    stale = _header(_get(client, alice, task["id"]), "ETag") or ""
    _patch(client, alice, task["id"], {"version": 1, "title": "changed"})
    answer = client.delete(f"/tasks/{task['id']}", token=alice.access_token, headers={"If-Match": stale})
    assert answer.status_code == 412
    assert _header(answer, "ETag") == _header(_get(client, alice, task["id"]), "ETag")
    assert _get(client, alice, task["id"]).status_code == 200


def test_delete_with_the_current_if_match_deletes(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    etag = _header(_get(client, alice, task["id"]), "ETag") or ""
    answer = client.delete(f"/tasks/{task['id']}", token=alice.access_token, headers={"If-Match": etag})
    assert answer.status_code == 204
    assert _get(client, alice, task["id"]).status_code == 404


def test_delete_with_if_match_losing_the_race_is_412(
    client: ApiClient, alice: Account, task: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.data import tasks as store

    etag = _header(_get(client, alice, task["id"]), "ETag") or ""
    real_delete = store.delete_task

    def another_write_first(owner_id: str, task_id: str, expected_version: int | None = None) -> bool:
        rival = store.get_task(owner_id, task_id)
        assert rival is not None
        store.update_task(rival, {"title": "rival"}, rival.version)
        return real_delete(owner_id, task_id, expected_version)

    monkeypatch.setattr(store, "delete_task", another_write_first)
    answer = client.delete(f"/tasks/{task['id']}", token=alice.access_token, headers={"If-Match": etag})
    assert answer.status_code == 412
    monkeypatch.setattr(store, "delete_task", real_delete)
    assert _get(client, alice, task["id"]).json()["title"] == "rival"


# --- parsing ------------------------------------------------------------------------------------------------------


def test_entity_tag_lists_parse_as_rfc_9110_says() -> None:
    from taskapp.conditional import EntityTagCondition

    assert EntityTagCondition.parse(None) is None
    assert EntityTagCondition.parse("  ") is None
    listed = EntityTagCondition.parse('"a", W/"b" ,c')
    assert listed is not None
    assert listed.matches_strongly('"a"') and listed.matches_strongly('"c"')
    assert not listed.matches_strongly('"b"') and listed.matches_weakly('"b"')
    star = EntityTagCondition.parse("*")
    assert star is not None and star.matches_strongly('"anything"')


def test_last_modified_is_an_imf_fixdate() -> None:
    from datetime import UTC, datetime, timedelta, timezone
    from email.utils import format_datetime

    from taskapp.conditional import http_date

    for moment in (
        datetime(2026, 12, 1, 8, 5, 9, 123456, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2027, 1, 3, 0, 0, 0),  # naive: stored timestamps are UTC
    ):
        expected = format_datetime(moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC), usegmt=True)
        assert http_date(moment) == expected

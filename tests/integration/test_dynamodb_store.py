"""The pynamodb models against the deployed tables on MiniStack: the conditions and indexes moto only imitates."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from taskapp.data import sessions, users
from taskapp.data import tasks as store
from taskapp.domain import accounts
from taskapp.domain import tasks as task_domain
from taskapp.domain.records.accounts import User
from taskapp.domain.records.tasks import Task
from taskapp.errors import Conflict, Unauthorized, ValidationFailed
from taskapp.schemas.accounts import LoginRequest, RegisterRequest
from taskapp.schemas.tasks import CreateTaskRequest, TaskStatus, UpdateTaskRequest
from tests.support import unique

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"


def _raw_table(env_name: str) -> Any:
    return boto3.resource("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT"]).Table(os.environ[env_name])


def test_the_models_point_at_the_deployed_stacks_tables() -> None:
    assert users.UserModel.Meta.table_name == os.environ["USERS_TABLE"]
    assert store.TaskModel.Meta.table_name == os.environ["TASKS_TABLE"]
    assert sessions.SessionItem.Meta.table_name == os.environ["SESSIONS_TABLE"]
    for model in (users.UserModel, store.TaskModel, sessions.SessionItem):
        assert model.exists(), f"{model.Meta.table_name} does not exist on {os.environ['DYNAMODB_ENDPOINT']}"


# --- users: uniqueness is a conditional put -------------------------------------------------------------------


def _user(email: str, name: str = "Ada") -> User:
    return User(email=email, user_id=unique.owner_id(), name=name, password_hash="x", created_at=users.utc_now())


def test_second_put_of_the_same_email_is_refused_and_keeps_the_first_user() -> None:
    email = unique.email()
    first = _user(email, "First")
    users.create_user(first)

    with pytest.raises(users.EmailAlreadyRegistered):
        users.create_user(_user(email, "Second"))

    stored = users.find_by_email(email)
    assert stored is not None
    assert (stored.user_id, stored.name) == (first.user_id, "First")


def test_register_normalises_the_email_so_case_variants_conflict() -> None:
    email = unique.email()
    accounts.register(RegisterRequest(name="Ada", email=email, password=PASSWORD))

    with pytest.raises(Conflict) as conflict:
        accounts.register(RegisterRequest(name="Eve", email=f"  {email.upper()} ", password=PASSWORD))
    assert conflict.value.code == "EMAIL_TAKEN"

    stored = users.find_by_email(email)
    assert stored is not None
    assert stored.name == "Ada"
    assert stored.password_hash.startswith("$2")  # bcrypt, never the password itself
    assert PASSWORD not in stored.password_hash


# --- tasks: optimistic locking -------------------------------------------------------------------------------


def _create(owner: str, title: str = "task", status: TaskStatus = TaskStatus.TODO, at: datetime | None = None) -> Task:
    task = task_domain.new_task(owner, CreateTaskRequest(title=title, status=status), now=at)
    store.create_task(task)
    return task


def test_update_with_the_read_version_bumps_it() -> None:
    owner = unique.owner_id()
    task = _create(owner, "before")

    store.update_task(task, {"title": "after"}, expected_version=1)

    stored = store.get_task(owner, task.task_id)
    assert stored is not None
    assert (stored.title, stored.version) == ("after", 2)


def test_a_concurrent_writer_with_a_stale_version_loses() -> None:
    owner = unique.owner_id()
    task_id = _create(owner, "original").task_id
    alice_copy, bob_copy = store.get_task(owner, task_id), store.get_task(owner, task_id)
    assert alice_copy is not None and bob_copy is not None

    store.update_task(alice_copy, {"title": "alice"}, expected_version=1)
    with pytest.raises(store.VersionConflict):
        store.update_task(bob_copy, {"title": "bob"}, expected_version=1)

    stored = store.get_task(owner, task_id)
    assert stored is not None
    assert (stored.title, stored.version) == ("alice", 2)


def test_domain_update_with_a_stale_version_is_a_409_with_the_current_version() -> None:
    owner = unique.owner_id()
    task_id = _create(owner).task_id
    task_domain.update_task(owner, task_id, UpdateTaskRequest(version=1, title="v2"))

    with pytest.raises(Conflict) as conflict:
        task_domain.update_task(owner, task_id, UpdateTaskRequest(version=1, title="stale"))

    assert conflict.value.code == "VERSION_CONFLICT"
    assert conflict.value.details == {"currentVersion": 2}
    assert task_domain.get_task(owner, task_id).title == "v2"


def test_update_of_a_deleted_task_is_refused_rather_than_recreating_it() -> None:
    owner = unique.owner_id()
    task = _create(owner)
    assert store.delete_task(owner, task.task_id) is True

    with pytest.raises(store.VersionConflict):
        store.update_task(task, {"title": "zombie"}, expected_version=1)
    assert store.get_task(owner, task.task_id) is None
    assert store.delete_task(owner, task.task_id) is False


def test_another_owners_task_is_not_found_under_the_callers_key() -> None:
    owner, stranger = unique.owner_id(), unique.owner_id()
    task = _create(owner)
    assert store.get_task(stranger, task.task_id) is None
    assert store.get_task(owner, task.task_id) is not None


# --- sessions: refresh rotation in one transaction, reuse revokes the family ----------------------------------


def _login() -> tuple[str, str]:
    email = unique.email()
    accounts.register(RegisterRequest(name="Ada", email=email, password=PASSWORD))
    pair = accounts.login(LoginRequest(email=email, password=PASSWORD))
    return pair.refresh_token, email


def test_login_stores_only_the_refresh_tokens_hash_with_a_ttl() -> None:
    refresh_token, _ = _login()
    token_hash = accounts.tokens.hash_refresh_token(refresh_token)

    item = _raw_table("SESSIONS_TABLE").get_item(Key={"pk": f"token#{token_hash}"}, ConsistentRead=True)["Item"]
    assert item["state"] == sessions.ACTIVE
    assert int(item["expiresAt"]) > int(datetime.now(UTC).timestamp())  # the table's TTL attribute
    assert refresh_token not in repr(item)
    family = sessions.get_family(str(item["sessionId"]))
    assert family is not None and family.revoked is False


def test_refresh_rotates_the_token_atomically() -> None:
    first, _ = _login()

    second = accounts.refresh(first).refresh_token

    assert second != first
    old = sessions.get_token(accounts.tokens.hash_refresh_token(first))
    new = sessions.get_token(accounts.tokens.hash_refresh_token(second))
    assert old is not None and new is not None
    assert (old.state, new.state) == (sessions.ROTATED, sessions.ACTIVE)
    assert old.session_id == new.session_id
    third = accounts.refresh(second).refresh_token
    assert third not in {first, second}


def test_reusing_a_rotated_token_revokes_the_whole_family() -> None:
    first, _ = _login()
    second = accounts.refresh(first).refresh_token

    with pytest.raises(Unauthorized) as reuse:
        accounts.refresh(first)
    assert reuse.value.code == "REFRESH_TOKEN_REUSED"

    # The thief's replay also kills the legitimate holder's newer token.
    with pytest.raises(Unauthorized) as after:
        accounts.refresh(second)
    assert after.value.code == "INVALID_REFRESH_TOKEN"
    current = sessions.get_token(accounts.tokens.hash_refresh_token(second))
    assert current is not None
    family = sessions.get_family(current.session_id)
    assert family is not None and family.revoked is True


def test_the_rotation_transaction_refuses_a_token_that_was_already_rotated() -> None:
    """Two refreshes racing with the same token: the transaction's condition lets exactly one win."""
    first, _ = _login()
    token_hash = accounts.tokens.hash_refresh_token(first)
    racer_a, racer_b = sessions.get_token(token_hash), sessions.get_token(token_hash)
    assert racer_a is not None and racer_b is not None
    now = int(datetime.now(UTC).timestamp())
    winner_hash = accounts.tokens.hash_refresh_token(accounts.tokens.new_refresh_token())
    loser_hash = accounts.tokens.hash_refresh_token(accounts.tokens.new_refresh_token())

    sessions.rotate_token(racer_a, winner_hash, now, now + 600)
    with pytest.raises(sessions.TokenAlreadyRotated):
        sessions.rotate_token(racer_b, loser_hash, now, now + 600)

    assert sessions.get_token(loser_hash) is None  # nothing of the losing transaction was written
    winner = sessions.get_token(winner_hash)
    assert winner is not None and winner.state == sessions.ACTIVE


def test_rotation_is_refused_once_the_family_is_revoked() -> None:
    first, _ = _login()
    current = sessions.get_token(accounts.tokens.hash_refresh_token(first))
    assert current is not None
    sessions.revoke_family(current.session_id)
    now = int(datetime.now(UTC).timestamp())
    successor = accounts.tokens.hash_refresh_token(accounts.tokens.new_refresh_token())

    with pytest.raises(sessions.TokenAlreadyRotated):
        sessions.rotate_token(current, successor, now, now + 600)

    assert sessions.get_token(successor) is None
    unchanged = sessions.get_token(accounts.tokens.hash_refresh_token(first))
    assert unchanged is not None and unchanged.state == sessions.ACTIVE


def test_revoking_an_unknown_family_is_a_no_op() -> None:
    sessions.revoke_family(f"{unique.TEST_PREFIX}no-such-session")
    assert sessions.get_family(f"{unique.TEST_PREFIX}no-such-session") is None


# --- listing through the GSIs: newest first, status filter, cursor pagination ---------------------------------


@pytest.fixture
def seeded_owner() -> tuple[str, list[Task]]:
    """Seven tasks a minute apart, statuses cycling todo/in_progress/done; returned newest first."""
    owner = unique.owner_id()
    start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    statuses = [TaskStatus.TODO, TaskStatus.IN_PROGRESS, TaskStatus.DONE]
    created = [
        _create(owner, f"task {index}", statuses[index % 3], start + timedelta(minutes=index)) for index in range(7)
    ]
    return owner, list(reversed(created))


def _all_pages(owner: str, status: TaskStatus | None, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        page = task_domain.list_tasks(owner, status, limit, token)
        pages.append([task.id for task in page.items])
        token = page.next_token
        if token is None or len(pages) > 20:
            return pages


def test_listing_is_newest_first_and_only_the_owners_tasks(seeded_owner: tuple[str, list[Task]]) -> None:
    owner, newest_first = seeded_owner
    _create(unique.owner_id(), "someone else's")

    page = task_domain.list_tasks(owner, None, 100, None)

    assert [task.id for task in page.items] == [task.task_id for task in newest_first]
    assert page.next_token is None


def test_status_filter_uses_the_status_index_newest_first(seeded_owner: tuple[str, list[Task]]) -> None:
    owner, newest_first = seeded_owner

    page = task_domain.list_tasks(owner, TaskStatus.DONE, 100, None)

    expected = [task.task_id for task in newest_first if task.status == TaskStatus.DONE.value]
    assert len(expected) == 2
    assert [task.id for task in page.items] == expected


def test_a_status_change_moves_the_task_between_status_listings(
    seeded_owner: tuple[str, list[Task]],
) -> None:
    owner, newest_first = seeded_owner
    oldest_todo = next(task for task in reversed(newest_first) if task.status == TaskStatus.TODO.value)

    task_domain.update_task(owner, oldest_todo.task_id, UpdateTaskRequest(version=1, status=TaskStatus.DONE))

    done_ids = [task.id for task in task_domain.list_tasks(owner, TaskStatus.DONE, 100, None).items]
    todo_ids = [task.id for task in task_domain.list_tasks(owner, TaskStatus.TODO, 100, None).items]
    assert oldest_todo.task_id in done_ids and oldest_todo.task_id not in todo_ids
    assert done_ids[-1] == oldest_todo.task_id  # still ordered by creation, not by update


def test_pagination_walks_every_task_once_in_order(seeded_owner: tuple[str, list[Task]]) -> None:
    owner, newest_first = seeded_owner

    pages = _all_pages(owner, None, limit=3)

    assert [len(page) for page in pages[:3]] == [3, 3, 1]
    assert all(len(page) == 0 for page in pages[3:])  # DynamoDB may hand back one empty trailing page
    assert [task_id for page in pages for task_id in page] == [task.task_id for task in newest_first]


def test_pagination_with_a_status_filter(seeded_owner: tuple[str, list[Task]]) -> None:
    owner, newest_first = seeded_owner

    pages = _all_pages(owner, TaskStatus.TODO, limit=1)

    expected = [task.task_id for task in newest_first if task.status == TaskStatus.TODO.value]
    assert len(expected) == 3
    assert [task_id for page in pages for task_id in page] == expected


def test_a_cursor_cannot_be_replayed_for_another_owner_or_filter(
    seeded_owner: tuple[str, list[Task]],
) -> None:
    owner, _ = seeded_owner
    cursor = task_domain.list_tasks(owner, None, 2, None).next_token
    assert cursor is not None

    with pytest.raises(ValidationFailed):
        task_domain.list_tasks(unique.owner_id(), None, 2, cursor)
    with pytest.raises(ValidationFailed):
        task_domain.list_tasks(owner, TaskStatus.TODO, 2, cursor)

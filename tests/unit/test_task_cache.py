"""The Redis read-through cache of GET /tasks/{id} (TASK_CACHE_ENABLED): owner-scoped, never older than sent."""

from __future__ import annotations

import random
from typing import Any

import fakeredis
import pytest

from tests.support.api_client import ApiClient
from tests.unit.conftest import Account, SetSetting
from tests.unit.helpers import assert_error


@pytest.fixture
def cache_on(set_setting: SetSetting) -> None:
    set_setting("TASK_CACHE_ENABLED", "true")


@pytest.fixture
def task(client: ApiClient, alice: Account) -> dict[str, Any]:
    answer = client.post("/tasks", json_body={"title": "Cached"}, token=alice.access_token)
    assert answer.status_code == 201, answer.body
    return dict(answer.json())


def _cache_keys(redis: fakeredis.FakeRedis) -> list[str]:
    return sorted(str(key) for key in redis.keys("taskcache:*"))


def _dynamodb_reads_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    from taskapp.data import tasks as store

    def no_read(owner_id: str, task_id: str) -> Any:
        raise AssertionError("read DynamoDB although the cache had the task")

    monkeypatch.setattr(store, "get_task", no_read)


def test_the_cache_is_off_by_default(client: ApiClient, alice: Account, fake_redis: fakeredis.FakeRedis) -> None:
    from taskapp.settings import task_cache_settings

    assert task_cache_settings().task_cache_enabled is False
    created = client.post("/tasks", json_body={"title": "t"}, token=alice.access_token).json()
    assert client.get(f"/tasks/{created['id']}", token=alice.access_token).status_code == 200
    assert _cache_keys(fake_redis) == []


@pytest.mark.usefixtures("cache_on")
def test_a_read_fills_the_cache_and_the_next_read_is_served_from_it(
    client: ApiClient, alice: Account, fake_redis: fakeredis.FakeRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.data import task_cache

    created = client.post("/tasks", json_body={"title": "t"}, token=alice.access_token).json()
    fake_redis.flushall()  # as if the create's write-through had expired
    first = client.get(f"/tasks/{created['id']}", token=alice.access_token)
    assert task_cache.read(alice.user_id, created["id"]) is not None
    _dynamodb_reads_fail(monkeypatch)
    second = client.get(f"/tasks/{created['id']}", token=alice.access_token)
    assert second.status_code == 200
    assert second.json() == first.json() == created
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Last-Modified"] == first.headers["Last-Modified"]


@pytest.mark.usefixtures("cache_on")
def test_cache_keys_start_with_the_owner_and_expire_soon(
    client: ApiClient, alice: Account, task: dict[str, Any], fake_redis: fakeredis.FakeRedis
) -> None:
    entry = f"taskcache:{{{alice.user_id}:{task['id']}}}"
    assert _cache_keys(fake_redis) == [entry, f"{entry}:floor"]
    assert 0 < fake_redis.pttl(entry) <= 5000
    assert fake_redis.ttl(f"{entry}:floor") > 60


@pytest.mark.usefixtures("cache_on")
def test_another_user_is_never_served_a_cached_task(
    client: ApiClient, alice: Account, bob: Account, task: dict[str, Any]
) -> None:
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).status_code == 200  # cached for Alice
    answer = client.get(f"/tasks/{task['id']}", token=bob.access_token)
    assert answer.status_code == 404
    assert_error(answer.json(), "NOT_FOUND")


@pytest.mark.usefixtures("cache_on")
def test_a_revoked_token_is_refused_before_the_cache_is_read(
    client: ApiClient, alice: Account, task: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from taskapp.data import task_cache

    reads: list[str] = []
    real_read = task_cache.read

    def recorded_read(owner_id: str, task_id: str) -> str | None:
        reads.append(task_id)
        return real_read(owner_id, task_id)

    monkeypatch.setattr(task_cache, "read", recorded_read)
    assert client.post("/auth/logout", token=alice.access_token).status_code == 204
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).status_code == 401
    assert reads == []


@pytest.mark.usefixtures("cache_on")
def test_a_patch_writes_the_new_version_through(
    client: ApiClient, alice: Account, task: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    patched = client.patch(f"/tasks/{task['id']}", json_body={"version": 1, "title": "v2"}, token=alice.access_token)
    assert patched.status_code == 200
    _dynamodb_reads_fail(monkeypatch)
    read = client.get(f"/tasks/{task['id']}", token=alice.access_token)
    assert read.json() == patched.json()
    assert read.json()["version"] == 2


@pytest.mark.usefixtures("cache_on")
def test_a_deleted_task_is_never_served_from_the_cache(client: ApiClient, alice: Account, task: dict[str, Any]) -> None:
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).status_code == 200
    assert client.delete(f"/tasks/{task['id']}", token=alice.access_token).status_code == 204
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).status_code == 404


@pytest.mark.usefixtures("cache_on")
def test_redis_down_reads_dynamodb_and_refuses_writes_it_cannot_announce(
    client: ApiClient, alice: Account, task: dict[str, Any], redis_server: fakeredis.FakeServer, set_setting: SetSetting
) -> None:
    """Reads fall back to DynamoDB; a write that cannot raise the floor is a retryable 503 and changes nothing, so
    no reader that still reaches Redis can be served the version it would have replaced."""
    set_setting("REVOCATION_FAIL_OPEN", "true")  # so the request gets past the token check with Redis gone
    redis_server.connected = False
    answer = client.get(f"/tasks/{task['id']}", token=alice.access_token)
    assert answer.status_code == 200, answer.body
    assert answer.json() == task
    patched = client.patch(f"/tasks/{task['id']}", json_body={"version": 1, "title": "x"}, token=alice.access_token)
    assert patched.status_code == 503
    assert patched.headers.get("Retry-After") == "1"
    assert_error(patched.json(), "CACHE_UNAVAILABLE")
    assert client.delete(f"/tasks/{task['id']}", token=alice.access_token).status_code == 503
    redis_server.connected = True
    from taskapp import redis_client

    redis_client.redis_breaker.cache_clear()
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).json() == task


@pytest.mark.usefixtures("cache_on")
def test_a_failed_write_through_still_serves_the_new_version(
    client: ApiClient, alice: Account, task: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis goes away between the floor and the write-through: the PATCH succeeds, the old entry is never served."""
    from taskapp.data import task_cache
    from taskapp.redis_client import RedisUnavailable

    real_advance = task_cache._advance

    def floor_only(owner_id: str, task_id: str, version: int, payload: str) -> None:
        if payload:
            raise RedisUnavailable("gone after the floor")
        real_advance(owner_id, task_id, version, payload)

    monkeypatch.setattr(task_cache, "_advance", floor_only)
    patched = client.patch(f"/tasks/{task['id']}", json_body={"version": 1, "title": "v2"}, token=alice.access_token)
    assert patched.status_code == 200
    assert client.get(f"/tasks/{task['id']}", token=alice.access_token).json()["version"] == 2


def test_a_reader_that_filled_from_dynamodb_before_a_write_cannot_store_its_old_copy(
    fake_redis: fakeredis.FakeRedis,
) -> None:
    """The race a plain delete-on-write cache loses: read v1, a write stores v2, the reader caches v1 after it."""
    from taskapp.data import task_cache

    task_cache.before_write("owner", "task", 2)  # the writer, before its DynamoDB write
    assert task_cache.read("owner", "task") is None
    assert task_cache.offer("owner", "task", 1, '{"version":1}') is False  # the slow reader's v1
    task_cache.after_write("owner", "task", 2, '{"version":2}')
    assert task_cache.offer("owner", "task", 1, '{"version":1}') is False
    assert task_cache.read("owner", "task") == '{"version":2}'


def test_a_write_that_lost_a_race_does_not_overwrite_a_newer_entry(fake_redis: fakeredis.FakeRedis) -> None:
    from taskapp.data import task_cache

    for version in (2, 3):
        task_cache.before_write("owner", "task", version)
    task_cache.after_write("owner", "task", 3, '{"version":3}')
    task_cache.after_write("owner", "task", 2, '{"version":2}')  # the slower writer's answer lands last
    assert task_cache.read("owner", "task") == '{"version":3}'


@pytest.mark.usefixtures("cache_on", "aws")
def test_a_cached_read_after_a_write_never_shows_the_old_version_1000_iterations(
    fake_redis: fakeredis.FakeRedis,
) -> None:
    """1,000 random steps of writes, reads, and readers that fetched from DynamoDB before some write and try to
    cache their copy after it (the interleaving concurrent Lambdas produce). Every read must show at least the
    newest version any client has been sent: by a write's answer or by an earlier read."""
    from taskapp.conditional import EntityTagCondition
    from taskapp.data import task_cache
    from taskapp.data import tasks as store
    from taskapp.domain import tasks
    from taskapp.schemas.tasks import CreateTaskRequest, UpdateTaskRequest

    any_version = EntityTagCondition.parse("*")
    rng = random.Random(16)
    owner = "owner-of-the-race"
    task_id = tasks.create_task(owner, CreateTaskRequest(title="race")).id
    newest_sent = 1
    slow_readers: list[tuple[int, str]] = []  # copies read from DynamoDB, not yet offered to the cache
    for step in range(1000):
        roll = rng.random()
        if roll < 0.3:
            written = tasks.update_task(owner, task_id, UpdateTaskRequest(title=f"step {step}"), any_version)
            newest_sent = max(newest_sent, written.version)
        elif roll < 0.5:
            record = store.get_task(owner, task_id)
            assert record is not None
            view = tasks.to_view(record)
            slow_readers.append((view.version, view.model_dump_json(by_alias=True)))
        elif roll < 0.65 and slow_readers:
            version, payload = slow_readers.pop(rng.randrange(len(slow_readers)))
            task_cache.offer(owner, task_id, version, payload)
        elif roll < 0.7:
            fake_redis.delete(f"taskcache:{{{owner}:{task_id}}}")  # the entry's short TTL ran out
        else:
            seen = tasks.get_task(owner, task_id)
            assert seen.version >= newest_sent, f"step {step}: served v{seen.version} after v{newest_sent} was sent"
            newest_sent = seen.version
    assert newest_sent > 100

"""e2e over HTTP: bulk-ingest through POST /tasks/ingest, see the tasks listed, then their activity entries."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import requests

from tests.support.waiting import wait_until

T = TypeVar("T")


def _base() -> str:
    base = os.environ.get("API_BASE_URL")
    if not base:
        pytest.fail("API_BASE_URL must point at the deployed API (infra/test-all.sh sets it)")
    return base.rstrip("/")


def _all(base: str, path: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        response = requests.get(f"{base}{path}", params=params, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if not page["nextToken"]:
            return items
        params = {"limit": 100, "nextToken": page["nextToken"]}


def test_ingested_tasks_are_listed_and_show_up_in_the_activity_feed() -> None:
    base = _base()
    email = f"e2e-ingest-{uuid.uuid4().hex[:10]}@example.com"
    registered = requests.post(
        f"{base}/auth/register", json={"name": "E2E", "email": email, "password": "s3cret-pass"}, timeout=30
    )
    assert registered.status_code == 201, registered.text
    login = requests.post(f"{base}/auth/login", json={"email": email, "password": "s3cret-pass"}, timeout=30)
    headers = {"Authorization": f"Bearer {login.json()['accessToken']}"}

    tasks = [{"title": f"e2e bulk {n}", "priority": "high" if n % 2 else "low"} for n in range(25)]
    tasks[0]["id"] = f"e2e-{uuid.uuid4().hex}"
    accepted = requests.post(f"{base}/tasks/ingest", json={"tasks": tasks}, headers=headers, timeout=30)
    assert accepted.status_code == 202, accepted.text
    ids = set(accepted.json()["ids"])
    assert len(ids) == 25 and tasks[0]["id"] in ids

    refused = requests.post(f"{base}/tasks/ingest", json={"tasks": [{"title": ""}]}, headers=headers, timeout=30)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "VALIDATION_ERROR"

    def at_least(path: str, count: int) -> Callable[[], list[dict[str, Any]] | None]:
        def probe() -> list[dict[str, Any]] | None:
            found = _all(base, path, headers)
            return found if len(found) >= count else None

        return probe

    listed = wait_until("all ingested tasks listed", at_least("/tasks", 25), timeout=180)
    assert {task["id"] for task in listed} == ids
    feed = wait_until("25 task.created activity entries", at_least("/activity", 25), timeout=180)
    assert {entry["taskId"] for entry in feed} == ids
    assert all(entry["type"] == "task.created" and entry["message"].startswith('Task "e2e bulk') for entry in feed)
    timestamps = [entry["timestamp"] for entry in feed]
    assert timestamps == sorted(timestamps, reverse=True)

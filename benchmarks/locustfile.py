"""Load profile for `make load`: each simulated user registers and logs in, then creates tasks and reads them back.

GET /tasks/{id} is weighted 3:1 over POST /tasks (reads dominate a task list UI); no token is hard-coded.
benchmarks/run_load.py puts the repository and the shared layer on PYTHONPATH, so the bodies come from the API's
own request models (benchmarks.harness).
"""

from __future__ import annotations

import random
from typing import Any

from locust import HttpUser, between, task

from benchmarks.harness import create_task_body, sign_up

TASK_BODY = create_task_body("load test", tags=["load"])


class TaskAppUser(HttpUser):
    wait_time = between(0, 0.01)

    def on_start(self) -> None:
        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = self.client.post(path, json=body)
            response.raise_for_status()
            answer: dict[str, Any] = response.json()
            return answer

        self.client.headers.update(sign_up(post, prefix="load").headers)
        self.task_ids: list[str] = []
        self.create_task()

    @task(1)
    def create_task(self) -> None:
        response = self.client.post("/tasks", json=TASK_BODY, name="POST /tasks")
        if response.status_code == 201:
            self.task_ids.append(response.json()["id"])

    @task(3)
    def get_task(self) -> None:
        if self.task_ids:
            task_id = random.choice(self.task_ids)  # noqa: S311 - picking a task, not a secret
            self.client.get(f"/tasks/{task_id}", name="GET /tasks/{id}")

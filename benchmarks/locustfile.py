"""Load profile for `make load`: each simulated user registers and logs in, then creates tasks and reads them back.

GET /tasks/{id} is weighted 3:1 over POST /tasks (reads dominate a task list UI); no token is hard-coded.
"""

from __future__ import annotations

import random
import uuid

from locust import HttpUser, between, task


class TaskAppUser(HttpUser):
    wait_time = between(0, 0.01)

    def on_start(self) -> None:
        email = f"load-{uuid.uuid4().hex[:16]}@example.com"
        password = f"pw-{uuid.uuid4().hex}"
        self.client.post("/auth/register", json={"name": "Load", "email": email, "password": password})
        response = self.client.post("/auth/login", json={"email": email, "password": password})
        response.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {response.json()['accessToken']}"
        self.task_ids: list[str] = []
        self.create_task()

    @task(1)
    def create_task(self) -> None:
        response = self.client.post("/tasks", json={"title": "load test", "tags": ["load"]}, name="POST /tasks")
        if response.status_code == 201:
            self.task_ids.append(response.json()["id"])

    @task(3)
    def get_task(self) -> None:
        if self.task_ids:
            task_id = random.choice(self.task_ids)  # noqa: S311 - picking a task, not a secret
            self.client.get(f"/tasks/{task_id}", name="GET /tasks/{id}")

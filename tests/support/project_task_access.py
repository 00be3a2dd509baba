"""Project tasks for the comment tests, until task storage knows projects (branch collab-tasks).

`taskapp.domain.task_access` on this branch is the minimal, personal-tasks-only version of the shared contract
(/work/briefs/contract.md). The comment routes are written against the contract's full behaviour, so their tests
install `ContractTaskAccess`: project tasks held here in memory, resolved exactly as the contract says, through the
real projects store and the real policy (membership GetItem -> 404, role -> 403, archived + write -> 409), and
personal tasks through the real module. Once collab-tasks' task_access is merged, tests can seed real project tasks
instead and drop this double.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from taskapp.domain import policy, task_access
from taskapp.domain.policy import Action
from taskapp.domain.records.tasks import Task
from taskapp.errors import Conflict, Forbidden, NotFound
from taskapp.schemas.projects import ProjectRole

TASK_NOT_FOUND = "Task not found"  # the body of a missing task (taskapp.domain.tasks)


class ContractTaskAccess:
    """`resolve_task` with project tasks; `add(owner_id, project_id)` makes one."""

    def __init__(self) -> None:
        self.tasks: dict[str, Task] = {}

    def add(self, owner_id: str, project_id: str, title: str = "Shared task") -> Task:
        now = datetime.now(UTC)
        task = Task(
            owner_id=owner_id,
            task_id=str(uuid.uuid4()),
            title=title,
            description="",
            status="todo",
            priority="medium",
            due_date=None,
            tags=frozenset(),
            created_at=now,
            updated_at=now,
            version=1,
            project_id=project_id,
        )
        self.tasks[task.task_id] = task
        return task

    def resolve_task(self, caller_id: str, task_id: str, action: Action) -> task_access.TaskAccess:
        from taskapp.data import projects as project_store

        task = self.tasks.get(task_id)
        if task is None or task.project_id is None:
            return task_access.resolve_task(caller_id, task_id, action)
        member = project_store.get_member(task.project_id, caller_id)
        if member is None:
            raise NotFound(TASK_NOT_FOUND, details={"id": task_id})
        role = ProjectRole(member.role)
        if not policy.role_allows(role, action):
            raise Forbidden(f"Your role does not allow {action.value}", details={"action": action.value})
        project = project_store.get_project(task.project_id)
        if project is None:
            raise NotFound(TASK_NOT_FOUND, details={"id": task_id})
        if project.archived and policy.is_write(action):
            raise Conflict("The project is archived and read-only", code="PROJECT_ARCHIVED")
        return task_access.TaskAccess(task=task, role=role)


def install(monkeypatch: pytest.MonkeyPatch) -> ContractTaskAccess:
    """Route the comments domain's task lookups through a ContractTaskAccess for this test."""
    from taskapp.domain import comments

    access = ContractTaskAccess()
    monkeypatch.setattr(comments, "resolve_task", access.resolve_task)
    return access

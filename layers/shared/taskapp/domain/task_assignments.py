"""Unassigning a removed member's tasks: normal task writes (version bump, `updatedBy` = the remover), so the outbox
publishes each one as it publishes any task change.

Its own module, apart from taskapp.domain.tasks: the remove-member function needs the tasks table and nothing of
the task routes' settings (cache, conditional requests).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from taskapp.data import tasks as store
from taskapp.domain.records.tasks import Task


def unassign(task: Task, actor_id: str) -> Task | None:
    """Clear the task's assignee as a normal write (version bump, `updatedBy` the actor), so the outbox sees it;
    None when a concurrent write got there first and the task is no longer assigned to the same user."""
    for _ in range(3):
        changes: dict[str, object] = {"assignee_id": None, "updated_at": datetime.now(UTC), "updated_by": actor_id}
        try:
            return store.update_task(task, changes, task.version)
        except store.VersionConflict:
            latest = store.get_task(task.owner_id, task.task_id)
            if latest is None or latest.assignee_id != task.assignee_id or latest.project_id != task.project_id:
                return None
            task = latest
    return None


def unassign_member(project_id: str, user_id: str, actor_id: str) -> int:
    """Unassign every task of the project assigned to the user (a removal): pages of the `byScopeAssignee` index,
    each task one write. Bounded by what one user has assigned in one project; returns how many were unassigned."""
    count = 0
    start_key: dict[str, Any] | None = None
    while True:
        page = store.assigned_in_project(project_id, user_id, 100, start_key)
        for task in page.items:
            if unassign(task, actor_id) is not None:
                count += 1
        if not page.last_evaluated_key:
            return count
        start_key = page.last_evaluated_key

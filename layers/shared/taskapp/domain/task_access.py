"""Who may act on a task, by id: the one entry point for every route under /tasks/{id} that is not the task itself.

`resolve_task(caller_id, task_id, action)` answers the task and the caller's role in its project (None for the
caller's own personal task), or raises: NotFound (404, the body of a missing task) for a missing id, somebody
else's personal task, or a project task of a project the caller is not a member of; Forbidden (403) when the role
does not allow the action (taskapp.domain.policy decides); Conflict PROJECT_ARCHIVED (409) for a write on a task of
an archived project (the shared contract, /work/briefs/contract.md).

MINIMAL VERSION (branch collab-comments): personal tasks only, the caller is the owner or it is a 404. The
collab-tasks branch owns this module and brings the project-task version (locating a task by id, the membership
check, the archived state); at merge its version replaces this one, with the same signature.
"""

from __future__ import annotations

from typing import NamedTuple

from taskapp.data import tasks as task_store
from taskapp.domain.policy import Action
from taskapp.domain.records.tasks import Task
from taskapp.errors import NotFound
from taskapp.schemas.projects import ProjectRole

TASK_NOT_FOUND = "Task not found"


class TaskAccess(NamedTuple):
    task: Task
    role: ProjectRole | None  # None for a personal task of the caller


def resolve_task(caller_id: str, task_id: str, action: Action) -> TaskAccess:
    """The caller's own task (personal tasks are keyed by their owner: anyone else's is simply not found)."""
    del action  # a personal task's owner may do everything to it; a project's roles come with collab-tasks
    task = task_store.get_task(caller_id, task_id)
    if task is None:
        raise NotFound(TASK_NOT_FOUND, details={"id": task_id})
    return TaskAccess(task=task, role=None)

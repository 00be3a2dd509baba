"""Who may touch a task: the one function every task-scoped route (tasks, comments) asks before it acts.

`resolve_task` finds the task and the caller's right to it:
- The caller's own personal task: one GetItem under the caller's key, exactly as before projects (role None).
- A project task: found under the caller's key when they created it, else by id (`byProjectTask`, KEYS_ONLY, then
  one strongly consistent GetItem); then the caller's membership, one strongly consistent GetItem read on every
  request, never from a token or a cache, so a role change or a removal holds from the very next request; then the
  policy (taskapp.domain.policy). A write also reads the project, for its archived state (409 PROJECT_ARCHIVED).
- Anything else (someone else's personal task, a project the caller is not a member of, a missing id) is 404 with
  the very body of a missing task: nobody can tell a task exists that they may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from taskapp.data import projects as project_store
from taskapp.data import tasks as store
from taskapp.domain import policy
from taskapp.domain.policy import Action
from taskapp.domain.records.tasks import Task
from taskapp.errors import Conflict, Forbidden, NotFound
from taskapp.schemas.projects import ProjectRole

TASK_NOT_FOUND = "Task not found"
PROJECT_NOT_FOUND = "Project not found"


class TaskAccess(NamedTuple):
    task: Task
    role: ProjectRole | None  # None for a personal task of the caller


def task_not_found(task_id: str) -> NotFound:
    return NotFound(TASK_NOT_FOUND, details={"id": task_id})


def project_not_found(project_id: str) -> NotFound:
    return NotFound(PROJECT_NOT_FOUND, details={"id": project_id})


def project_archived(project_id: str) -> Conflict:
    return Conflict("The project is archived and read-only", code="PROJECT_ARCHIVED", details={"id": project_id})


def forbidden(action: Action, role: ProjectRole) -> Forbidden:
    return Forbidden(
        f"Your role in this project ({role.value}) does not allow {action.value}",
        details={"action": action.value, "role": role.value},
    )


def project_role(project_id: str, user_id: str, action: Action, missing: Callable[[], NotFound]) -> ProjectRole:
    """The caller's role if it allows the action: no membership is `missing()` (404), a role too low 403, a write
    on an archived project 409. One GetItem for a read; a write reads the project too."""
    member = project_store.get_member(project_id, user_id)
    if member is None:
        raise missing()
    role = ProjectRole(member.role)
    if not policy.role_allows(role, action):
        raise forbidden(action, role)
    if policy.is_write(action):
        project = project_store.get_project(project_id)
        if project is None:
            raise missing()
        if project.archived:
            raise project_archived(project_id)
    return role


def require(role: ProjectRole | None, action: Action) -> None:
    """A second action in the same request (assigning while creating or editing): its own policy line, the same
    403. No role (the caller's personal task): nothing to check."""
    if role is not None and not policy.role_allows(role, action):
        raise forbidden(action, role)


def is_archived(project_id: str) -> bool:
    project = project_store.get_project(project_id)
    return project is not None and project.archived


def is_member(project_id: str, user_id: str) -> bool:
    return project_store.get_member(project_id, user_id) is not None


def locate(caller_id: str, task_id: str) -> Task | None:
    """The caller's own task (one GetItem) or else the project task with this id (index Query + GetItem). Should
    two project tasks ever share an id (data.tasks.MAX_PROJECT_TASKS_PER_ID says how), the one of a project the
    caller belongs to is theirs: nobody can hide a task from its project's members by taking its id."""
    task = store.get_task(caller_id, task_id)
    if task is not None:
        return task
    found = store.find_project_tasks(task_id)
    if len(found) <= 1:
        return found[0] if found else None
    return next((candidate for candidate in found if is_member(str(candidate.project_id), caller_id)), None)


def resolve_task(caller_id: str, task_id: str, action: policy.Action) -> TaskAccess:
    """The task and the caller's role in its project (None for their personal task), or NotFound / Forbidden /
    Conflict (PROJECT_ARCHIVED) as the module docstring says."""
    task = locate(caller_id, task_id)
    if task is None:
        raise task_not_found(task_id)
    if task.project_id is None:
        if task.owner_id != caller_id:  # locate never returns one; stated so no later change can leak one
            raise task_not_found(task_id)
        return TaskAccess(task, None)
    role = project_role(task.project_id, caller_id, action, lambda: task_not_found(task_id))
    return TaskAccess(task, role)

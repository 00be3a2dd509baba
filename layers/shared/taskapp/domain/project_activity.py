"""A project's activity feed (`GET /projects/{id}/activity`): members only, newest first, cursor-paged.

Its own module, not taskapp.domain.activity, so that the notification consumer and `GET /activity` do not load the
projects domain (and need no projects table) to write or read the other feeds.
"""

from __future__ import annotations

from taskapp.data.activity import project_feed_id
from taskapp.domain import activity, projects
from taskapp.domain.policy import Action
from taskapp.schemas.events import ActivityPageOut


def list_project_activity(user_id: str, project_id: str, limit: int, next_token: str | None) -> ActivityPageOut:
    """A non-member gets the 404 of a missing project (ACTIVITY_READ: any member, also of an archived project)."""
    projects.authorize(project_id, user_id, Action.ACTIVITY_READ)
    return activity.page_of(project_feed_id(project_id), f"activity|project|{project_id}", limit, next_token)

"""The outbox: every change of the tasks, projects and comments tables, read from their DynamoDB streams, becomes
the events it stands for (zero, one or several per stream record).

Why streams and not a transactional outbox table for tasks and comments: the stream is written by DynamoDB in the
same write as the item (no second item, no code path can forget it), ingestion's BatchWriteItem gets events for
free, and Lambda's stream poller retries a failed batch until it succeeds (records live 24 h). The projects domain
writes explicit outbox items (`EVENT#...`, in the same transaction as the change) because a project change has an
actor and a subject that no single row carries; their stream INSERTs are what is published.

Every event id is derived from the record alone (`{taskId}:{version}:{type}`, `{commentId}:{version}:{type}`, the
project outbox item's own id), so a batch that is published twice yields the same message ids and consumers dedupe.
Which table a record comes from is read from its key attributes (no table names to configure, and the replay tool
feeds records of any of the three tables through the same function).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
    StreamRecord,
)

from taskapp.schemas.events import (
    EXCERPT_CHARS,
    AnyEvent,
    CommentEvent,
    CommentEventType,
    ProjectEvent,
    ProjectEventType,
    TaskEvent,
    TaskEventType,
)
from taskapp.schemas.tasks import TaskStatus

PROJECT_EVENT_PREFIX = "EVENT#"  # taskapp.data.projects.EVENT_PREFIX (the domain does not import the data module)
TASKS, PROJECTS, COMMENTS = "tasks", "projects", "comments"


def _version(image: dict[str, Any]) -> int:
    return int(image.get("version") or 1)


def _previous_version(image: dict[str, Any]) -> int | None:
    """The old image only tells whether the version changed: one the outbox cannot read (the row an operator just
    repaired) means "changed", so the repaired row's event goes out instead of failing like the bad row did."""
    try:
        return _version(image)
    except (TypeError, ValueError):
        return None


def _status(image: dict[str, Any]) -> TaskStatus | None:
    raw = str(image.get("status") or "")
    return TaskStatus(raw) if raw in TaskStatus._value2member_map_ else None


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _occurred_at(deleted: bool, image: dict[str, Any], record_time: int | None) -> datetime:
    """When the change happened, from the record alone so a redelivery yields the same value.

    Creates and updates carry `updatedAt`. A delete has no change time of its own: the stream record's time
    (whole seconds) is used, never earlier than the item's last update so the feed keeps the right order.
    """
    updated = _parse_time(image.get("updatedAt"))
    if not deleted and updated is not None:
        return updated
    recorded = datetime.fromtimestamp(record_time, UTC) if record_time else None
    candidates = [moment for moment in (updated, recorded) if moment is not None]
    return max(candidates) if candidates else datetime.now(UTC)


def _text(image: dict[str, Any], name: str) -> str | None:
    value = image.get(name)
    return str(value) if value not in (None, "") else None


def source_of(record: DynamoDBRecord) -> str:
    """TASKS, PROJECTS or COMMENTS, from the key attributes (the images' when a record carries no Keys)."""
    stream = record.dynamodb
    names: set[str] = set()
    if stream is not None:
        for part in (stream.keys, stream.new_image, stream.old_image):
            names.update(part or {})
    if "commentKey" in names:
        return COMMENTS
    if "pk" in names and "sk" in names:
        return PROJECTS
    return TASKS


def events_from_stream_record(record: DynamoDBRecord) -> list[AnyEvent]:
    """The events of one stream record, in publishing order; [] for changes that are not events (a rewrite that
    kept the version, a project's META/MEMBER/INVITE item, an outbox item expiring).

    Raises (ValueError, pydantic's ValidationError, ...) for a row it cannot read, e.g. `version: "two"` or
    `updatedAt: "yesterday"`: the publisher sends such a record to the failure queue (domain/outbox_batch.py).
    """
    stream = record.dynamodb
    if stream is None:
        return []
    source = source_of(record)
    if source == PROJECTS:
        project_event = _project_event(record, stream)
        return [project_event] if project_event is not None else []
    if source == COMMENTS:
        comment_event = _comment_event(record, stream)
        return [comment_event] if comment_event is not None else []
    return list(_task_events(record, stream))


def event_from_stream_record(record: DynamoDBRecord) -> TaskEvent | None:
    """The one created/updated/completed/deleted event of a tasks-table record (None: not a task event), without
    the assignment events beside it: what the webhook fan-out delivers (docs/webhooks.md lists those types)."""
    if record.dynamodb is None or source_of(record) != TASKS:
        return None
    events = _task_events(record, record.dynamodb)
    return events[0] if events else None


# --- tasks ------------------------------------------------------------------------------------------------------


def _task_events(record: DynamoDBRecord, stream: StreamRecord) -> list[TaskEvent]:
    """The created/updated/completed/deleted event, then, when assigneeId changed, task.unassigned (it had an
    assignee) and task.assigned (it has one now): a reassignment yields both, in that order."""
    new, old = stream.new_image or {}, stream.old_image or {}
    if record.event_name == DynamoDBRecordEventName.INSERT:
        image, event_type = new, TaskEventType.CREATED
    elif record.event_name == DynamoDBRecordEventName.MODIFY:
        if _version(new) == _previous_version(old):
            return []
        image = new
        completed = _status(new) == TaskStatus.DONE and _status(old) != TaskStatus.DONE
        event_type = TaskEventType.COMPLETED if completed else TaskEventType.UPDATED
    elif record.event_name == DynamoDBRecordEventName.REMOVE:
        image, event_type = old, TaskEventType.DELETED
    else:
        return []
    if not image.get("ownerId") or not image.get("taskId"):
        return []
    occurred = _occurred_at(event_type == TaskEventType.DELETED, image, stream.approximate_creation_date_time)
    version = _version(image)
    task_id = str(image["taskId"])
    assignee = _text(image, "assigneeId")
    modified = record.event_name == DynamoDBRecordEventName.MODIFY
    previous = _text(old, "assigneeId") if modified else None
    previous_project = _text(old, "projectId") if modified else None

    def event(kind: TaskEventType) -> TaskEvent:
        return TaskEvent(
            event_id=f"{task_id}:{version}:{kind.value}",
            type=kind,
            occurred_at=occurred,
            owner_id=str(image["ownerId"]),
            task_id=task_id,
            title=str(image.get("title") or ""),
            status=_status(image),
            version=version,
            actor_id=_text(image, "updatedBy"),
            project_id=_text(image, "projectId"),
            assignee_id=assignee,
            previous_assignee_id=previous,
            previous_project_id=previous_project,
        )

    events = [event(event_type)]
    if event_type != TaskEventType.DELETED and assignee != previous:
        # A reassignment (A -> B) is both: A is told the task left them, B that it is theirs; each its own id.
        if previous:
            events.append(event(TaskEventType.UNASSIGNED))
        if assignee:
            events.append(event(TaskEventType.ASSIGNED))
    return events


# --- comments ---------------------------------------------------------------------------------------------------


def _comment_event(record: DynamoDBRecord, stream: StreamRecord) -> CommentEvent | None:
    """INSERT -> comment.added, MODIFY with a new version -> comment.updated, REMOVE -> comment.deleted.

    The actor is the row's `updatedBy` (the comments layer stamps whoever wrote last), else its author. A REMOVE
    only has the old image: its actor is whoever wrote the row last, unless the deleting write stamped it first.
    """
    new, old = stream.new_image or {}, stream.old_image or {}
    if record.event_name == DynamoDBRecordEventName.INSERT:
        image, event_type = new, CommentEventType.ADDED
    elif record.event_name == DynamoDBRecordEventName.MODIFY:
        if _version(new) == _previous_version(old):
            return None
        image, event_type = new, CommentEventType.UPDATED
    elif record.event_name == DynamoDBRecordEventName.REMOVE:
        image, event_type = old, CommentEventType.DELETED
    else:
        return None
    comment_id, task_id = _text(image, "commentId"), _text(image, "taskId")
    if comment_id is None or task_id is None:
        raise ValueError("a comment row without commentId or taskId")
    author = _text(image, "authorId")
    owner = _text(image, "taskOwnerId")
    if author is None or owner is None:
        raise ValueError("a comment row without authorId or taskOwnerId")
    version = _version(image)
    mentions = image.get("mentions") or ()
    return CommentEvent(
        event_id=f"{comment_id}:{version}:{event_type.value}",
        type=event_type,
        occurred_at=_occurred_at(
            event_type == CommentEventType.DELETED,
            {"updatedAt": image.get("updatedAt") or image.get("createdAt")},
            stream.approximate_creation_date_time,
        ),
        task_id=task_id,
        project_id=_text(image, "projectId"),
        comment_id=comment_id,
        author_id=author,
        actor_id=_text(image, "updatedBy") or author,
        task_owner_id=owner,
        mentions=sorted(str(user_id) for user_id in mentions),
        excerpt=str(image.get("body") or "")[:EXCERPT_CHARS],
        version=version,
    )


# --- projects ---------------------------------------------------------------------------------------------------


def _project_event(record: DynamoDBRecord, stream: StreamRecord) -> ProjectEvent | None:
    """Only the INSERT of an outbox item (`EVENT#...`) is an event; the items' later TTL REMOVE is not."""
    image = stream.new_image or {}
    if record.event_name != DynamoDBRecordEventName.INSERT:
        return None
    if not str(image.get("sk") or "").startswith(PROJECT_EVENT_PREFIX):
        return None
    occurred = _parse_time(image.get("occurredAt"))
    if occurred is None:
        raise ValueError("a project outbox item without occurredAt")
    version = image.get("version")
    return ProjectEvent(
        event_id=str(image.get("eventId") or ""),
        type=ProjectEventType(str(image.get("type") or "")),
        occurred_at=occurred,
        project_id=str(image.get("projectId") or ""),
        actor_id=str(image.get("actorId") or ""),
        subject_user_id=_text(image, "subjectUserId"),
        email=_text(image, "email"),
        role=_text(image, "role"),
        previous_role=_text(image, "previousRole"),
        version=int(version) if version is not None else None,
    )

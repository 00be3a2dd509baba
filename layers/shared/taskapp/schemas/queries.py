"""Query strings of the list routes: one model per route, so the spec, validation and errors come from one place.

A query value is text, and pydantic's lax int parsing reads `+5`, `1_0`, ` 5` and `5.0` as numbers: a count here is
the digits 0-9 and nothing else. Only wire names are accepted (no `populate_by_name`): `next_token` is not a second
spelling of `nextToken` but an unknown parameter, which `taskapp.api.refuse_unknown_query_parameters` refuses.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from taskapp.schemas.tasks import EntityId, IsoDate, TaskPriority, TaskStatus

# Nine digits bound the work int() does on client text; every count a route accepts is far below that.
_DIGITS = re.compile(r"[0-9]{1,9}", re.ASCII)


def _digits_only(value: object) -> object:
    """Text must be plain digits; anything else goes on to the strict int check (which refuses str and bool)."""
    if isinstance(value, str):
        if _DIGITS.fullmatch(value) is None:
            raise ValueError("must be a whole number written with the digits 0-9 only")
        return int(value)
    return value


# The bounds come before the validator that wraps them, so the JSON schema shows them as minimum and maximum.
PageLimit = Annotated[
    StrictInt, Field(ge=1, le=100, description="Items per page, 1 to 100"), BeforeValidator(_digits_only)
]
NextToken = Annotated[
    Annotated[StrictStr, StringConstraints(max_length=2048)] | None,
    Field(description="The previous page's nextToken; absent or empty for the first page"),
]


def _true_or_false(value: object) -> object:
    """Only the words `true` and `false`: pydantic would also read `1`, `yes`, `on` and `t`."""
    if isinstance(value, str):
        if value not in {"true", "false"}:
            raise ValueError("must be true or false")
        return value == "true"
    return value


class QueryModel(BaseModel):
    """A route's query string. Unknown names never reach the model (Powertools passes it declared fields only)."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True, defer_build=True)


class TaskSort(StrEnum):
    CREATED_AT = "createdAt"  # newest first
    DUE_DATE = "dueDate"  # soonest first, tasks without a due date last
    PRIORITY = "priority"  # high first, newest first within a priority


# `assignee=me`, or a user id.
Assignee = Annotated[
    StrictStr,
    StringConstraints(pattern=r"^(me|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"),
]
FilterTag = Annotated[StrictStr, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class ListTasksQuery(QueryModel):
    """Without `projectId`, the caller's personal tasks (as always); with it, that project's tasks (members only).
    Each supported combination is one index Query (docs/data-model.md); any other is 400 UNSUPPORTED_FILTER."""

    status: Annotated[TaskStatus | None, Field(description="Only tasks in this status")] = None
    project_id: Annotated[EntityId | None, Field(description="A project's tasks instead of your personal ones")] = None
    assignee: Annotated[Assignee | None, Field(description="`me` or a user id: only tasks assigned to them")] = None
    priority: Annotated[TaskPriority | None, Field(description="Only tasks of this priority")] = None
    tag: Annotated[FilterTag | None, Field(description="Only tasks carrying this tag")] = None
    due_before: Annotated[IsoDate | None, Field(description="Due strictly before this date (with sort=dueDate)")] = None
    due_after: Annotated[IsoDate | None, Field(description="Due strictly after this date (with sort=dueDate)")] = None
    sort: Annotated[TaskSort | None, Field(description="createdAt (default), dueDate or priority")] = None
    archived: Annotated[
        StrictBool,
        Field(description="true: list the tasks of an archived project too"),
        BeforeValidator(_true_or_false),
    ] = False
    limit: PageLimit = 20
    next_token: NextToken = None


class ListActivityQuery(QueryModel):
    limit: PageLimit = 20
    next_token: NextToken = None


class ListProjectsQuery(QueryModel):
    archived: Annotated[
        StrictBool,
        Field(description="true: include archived projects"),
        BeforeValidator(_true_or_false),
    ] = False
    limit: PageLimit = 20
    next_token: NextToken = None


class ListMembersQuery(QueryModel):
    limit: PageLimit = 20
    next_token: NextToken = None


class ListCommentsQuery(QueryModel):
    limit: PageLimit = 20
    next_token: NextToken = None


class ListInvitationsQuery(QueryModel):
    limit: PageLimit = 20
    next_token: NextToken = None


class ListNotificationsQuery(QueryModel):
    unread: Annotated[
        StrictBool, Field(description="true: only unread notifications"), BeforeValidator(_true_or_false)
    ] = False
    limit: PageLimit = 20
    next_token: NextToken = None


class ListWebhooksQuery(QueryModel):
    limit: PageLimit = 20
    next_token: NextToken = None


class ListDeliveriesQuery(QueryModel):
    limit: PageLimit = 20
    next_token: NextToken = None

"""Comments on tasks: what `/tasks/{id}/comments` reads and answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt, StrictStr, StringConstraints

from taskapp.schemas.common import ApiModel

MAX_BODY_CHARACTERS = 5000


def _text(value: str) -> str:
    """Kept exactly as sent (markdown's whitespace matters), but it must say something and be storable text: a lone
    UTF-16 surrogate (`"\\ud800"` in JSON) decodes to a Python string that no UTF-8 store accepts."""
    if not value.strip():
        raise ValueError("must contain more than whitespace")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (no unpaired surrogates)") from exc
    return value


CommentBody = Annotated[
    StrictStr,
    StringConstraints(min_length=1, max_length=MAX_BODY_CHARACTERS),
    AfterValidator(_text),
    Field(description="Markdown, stored and answered as text (never rendered here); 1 to 5,000 characters"),
]


class CreateCommentRequest(ApiModel):
    body: CommentBody


class UpdateCommentRequest(ApiModel):
    """The new text; `version` is the one the client last read (optimistic locking, as for tasks)."""

    body: CommentBody
    version: Annotated[StrictInt, Field(ge=1)]


class CommentOut(ApiModel):
    id: str
    task_id: str
    project_id: str | None
    author_id: str
    body: str
    mentions: list[str] = Field(description="User ids mentioned, each a member of the task's project when written")
    created_at: str
    updated_at: str
    version: int


class CommentListOut(ApiModel):
    items: list[CommentOut]
    next_token: str | None

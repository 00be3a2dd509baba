"""One template per notification type: the inbox message, the email subject, and the email's text and HTML bodies.

Templates are `string.Template` text written here, never by users. Every value substituted into the HTML body is
HTML-escaped first (a task titled `<script>`, a comment's excerpt, a project's name arrive as text), and the subject
and text bodies take the raw value (they are not HTML; the subject's line breaks are folded). A type without its
own template gets the generic one.
"""

from __future__ import annotations

import html
from string import Template
from typing import NamedTuple


class EmailTemplate(NamedTuple):
    message: Template  # the inbox line (and the push payload's message)
    subject: Template
    text: Template
    html: Template


class RenderedEmail(NamedTuple):
    subject: str
    text: str
    html: str


_HTML_FRAME = (
    '<!doctype html><html><body style="font-family:sans-serif">'
    "<p>$lead</p><p><strong>$title</strong></p>$detail"
    '<p style="color:#666;font-size:small">You get this email because of your taskapp notification preferences '
    "(PUT /me/notification-preferences).</p></body></html>"
)


def _template(message: str, subject: str, lead: str) -> EmailTemplate:
    return EmailTemplate(
        message=Template(message),
        subject=Template(subject),
        text=Template(f"{lead}\n\n  $title\n$detail\nChange what you receive: PUT /me/notification-preferences\n"),
        html=Template(_HTML_FRAME.replace("$lead", lead)),
    )


TEMPLATES: dict[str, EmailTemplate] = {
    "task.created": _template('Task "$title" was created', "Task created: $title", "A task was created."),
    "task.updated": _template('Task "$title" was updated', "Task updated: $title", "A task was updated."),
    "task.completed": _template('Task "$title" was completed', "Task completed: $title", "A task was completed."),
    "task.deleted": _template('Task "$title" was deleted', "Task deleted: $title", "A task was deleted."),
    "task.due_reminder": _template('Reminder: "$title" is due', "Reminder: $title", "A task you follow is due."),
    "task.assigned": _template('You were assigned "$title"', "Assigned to you: $title", "A task was assigned to you."),
    "task.unassigned": _template(
        'You are no longer assigned "$title"', "Unassigned: $title", "A task is no longer assigned to you."
    ),
    "comment.added": _template(
        'New comment on "$title"', "New comment: $title", "Someone commented on a task you follow or mentioned you."
    ),
    "member.invited": _template(
        'You were invited to the project "$title"',
        "Invitation to $title",
        "You were invited to a shared project on taskapp. Sign in (or register with this address) to accept it.",
    ),
}
_GENERIC = _template('Update on "$title"', "Update: $title", "Something changed.")


def _of(notification_type: str) -> EmailTemplate:
    return TEMPLATES.get(notification_type, _GENERIC)


def inbox_message(notification_type: str, title: str) -> str:
    return _of(notification_type).message.safe_substitute(title=title)


def render_email(notification_type: str, title: str, detail: str = "") -> RenderedEmail:
    """`detail` is more user text (a comment's excerpt): quoted in the text body, escaped in a blockquote in HTML."""
    template = _of(notification_type)
    text_detail = "".join(f"\n  > {line}" for line in detail.splitlines()) + "\n" if detail else ""
    html_detail = (
        '<blockquote style="border-left:3px solid #ccc;margin:0;padding-left:8px">'
        + html.escape(detail, quote=True).replace("\n", "<br>")
        + "</blockquote>"
        if detail
        else ""
    )
    return RenderedEmail(
        subject=template.subject.safe_substitute(title=" ".join(title.split())),  # no header line breaks
        text=template.text.safe_substitute(title=title, detail=text_detail),
        html=template.html.safe_substitute(title=html.escape(title, quote=True), detail=html_detail),
    )

"""One template per notification type: the inbox message, the email subject, and the email's text and HTML bodies.

Templates are `string.Template` text written here, never by users. Every value substituted into the HTML body is
HTML-escaped first (a task titled `<script>` arrives as text), and the subject and text bodies take the raw value
(they are not HTML). A type without its own template gets the generic one.
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
    "<p>$lead</p><p><strong>$title</strong></p>"
    '<p style="color:#666;font-size:small">You get this email because of your taskapp notification preferences '
    "(PUT /me/notification-preferences).</p></body></html>"
)


def _template(message: str, subject: str, lead: str) -> EmailTemplate:
    return EmailTemplate(
        message=Template(message),
        subject=Template(subject),
        text=Template(f"{lead}\n\n  $title\n\nChange what you receive: PUT /me/notification-preferences\n"),
        html=Template(_HTML_FRAME.replace("$lead", lead)),
    )


TEMPLATES: dict[str, EmailTemplate] = {
    "task.created": _template('Task "$title" was created', "Task created: $title", "A task was created."),
    "task.updated": _template('Task "$title" was updated', "Task updated: $title", "A task was updated."),
    "task.completed": _template('Task "$title" was completed', "Task completed: $title", "A task was completed."),
    "task.deleted": _template('Task "$title" was deleted', "Task deleted: $title", "A task was deleted."),
    "task.due_reminder": _template('Reminder: "$title" is due', "Reminder: $title", "A task you follow is due."),
}
_GENERIC = _template('Update on "$title"', "Update: $title", "Something changed.")


def _of(notification_type: str) -> EmailTemplate:
    return TEMPLATES.get(notification_type, _GENERIC)


def inbox_message(notification_type: str, title: str) -> str:
    return _of(notification_type).message.safe_substitute(title=title)


def render_email(notification_type: str, title: str) -> RenderedEmail:
    template = _of(notification_type)
    return RenderedEmail(
        subject=template.subject.safe_substitute(title=" ".join(title.split())),  # no header line breaks
        text=template.text.safe_substitute(title=title),
        html=template.html.safe_substitute(title=html.escape(title, quote=True)),
    )

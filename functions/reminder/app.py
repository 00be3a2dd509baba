"""EventBridge Scheduler target: a task's `remindAt` has come; tell the reminder's recipients.

The schedule carries only the task's keys and the time it was set for. The task is read again: a task deleted,
completed or given another reminder time since then reminds nobody (its schedule was being deleted or moved). The
reminder goes through the same recipient rules, preferences, inbox, email and push as every other notification,
idempotent per (task, reminder time, recipient), so Scheduler's retries never remind twice.
"""

# First of all: pauses the garbage collector while the modules below load; ready() at the end resumes it.
from taskapp import coldstart

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from taskapp.data import tasks
from taskapp.domain.notification_delivery import UserAddresses, deliver
from taskapp.domain.push import ConnectionPusher
from taskapp.domain.reminders import ReminderTarget, reminder_occurrence
from taskapp.messaging.email import SesMailer
from taskapp.messaging.websocket import ConnectionPoster
from taskapp.observability import instrumented, logger, metrics
from taskapp.schemas.tasks import TaskStatus
from taskapp.settings import websocket_settings

mailer = SesMailer()
# Live push only when the stack has a WebSocket API (the template sets WEBSOCKET_API_ID).
pusher = ConnectionPusher(ConnectionPoster()) if websocket_settings().websocket_api_id else None


class EmailsOwed(Exception):
    """An email failed transiently: fail the invocation so Scheduler's retry policy sends it again."""


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    target = ReminderTarget.from_input(event)
    task = tasks.get_task(target.owner_id, target.task_id)
    if task is None or task.status == TaskStatus.DONE or task.remind_at != target.remind_at:
        logger.info("stale reminder skipped", extra={"taskId": target.task_id, "remindAt": target.remind_at})
        return {"reminded": 0, "stale": True}
    delivery = deliver(reminder_occurrence(target, task.title), UserAddresses(), mailer, pusher)
    metrics.add_metric(name="RemindersSent", unit="Count", value=delivery.notified)
    logger.info("reminder delivered", extra=delivery._asdict())
    if delivery.email_retry:
        raise EmailsOwed(f"{delivery.email_retry} reminder emails failed transiently")
    return {"reminded": delivery.notified, "stale": False}


coldstart.ready()

"""Recorder for the bridge's integration tests: stores what it receives, fails when a message asks it to.

Each Kafka record value / RabbitMQ body is JSON `{"id": str, "mode": "ok" | "fail" | "partial", "sleep": s}`:
`fail` raises (a function error for the whole batch), `partial` reports the record in `batchItemFailures`,
`sleep` slows the function down (seconds per record) so a test can stop the bridge in the middle of a stream.
Every delivery of an `ok` record increments `deliveries` on item `delivered#<id>`; every attempt at a failing
one increments `attempts` on `attempt#<id>`; each raw event is kept under `event#<request id>`.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["RECORDS_TABLE"])


def _count(pk: str, attribute: str, item: dict[str, Any]) -> None:
    TABLE.update_item(
        Key={"pk": pk},
        UpdateExpression=f"ADD {attribute} :one SET last_item = :item",
        ExpressionAttributeValues={":one": 1, ":item": json.dumps(item)},
    )


def _payloads(event: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(raw item as received, decoded body) for every record or message of the event."""
    if event.get("eventSource") == "SelfManagedKafka":
        items = [record for records in event["records"].values() for record in records]
        return [(record, json.loads(base64.b64decode(record["value"]))) for record in items]
    messages = [message for queue in event["rmqMessagesByQueue"].values() for message in queue]
    return [(message, json.loads(base64.b64decode(message["data"]))) for message in messages]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    TABLE.put_item(Item={"pk": f"event#{context.aws_request_id}", "event": json.dumps(event)})
    failures: list[dict[str, Any]] = []
    should_raise = False
    for raw, body in _payloads(event):
        mode = body.get("mode", "ok")
        time.sleep(float(body.get("sleep", 0)))
        if mode == "ok":
            _count(f"delivered#{body['id']}", "deliveries", raw)
            continue
        _count(f"attempt#{body['id']}", "attempts", raw)
        if mode == "partial":
            failures.append(
                {"itemIdentifier": {"partition": f"{raw['topic']}-{raw['partition']}", "offset": raw["offset"]}}
            )
        else:
            should_raise = True
    if should_raise:
        raise RuntimeError("recorder asked to fail")
    return {"batchItemFailures": failures}

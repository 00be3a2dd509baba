"""Create the template's DynamoDB tables on a local endpoint under the names the env file gives them."""

from __future__ import annotations

from typing import Any

from infra.local_api.template import SamTemplate

# CreateTable accepts these table properties as CloudFormation spells them; the rest (PITR, SSE, TTL) do not
# change how the code behaves locally.
_CREATE_TABLE_KEYS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")


def table_variables(template: SamTemplate) -> dict[str, str]:
    """Env var -> the table's LogicalId, for every env var whose template value is `!Ref <Table>`."""
    variables = {}
    for spec in template.functions.values():
        for var, raw in spec.environment.items():
            ref = raw.get("Ref") if isinstance(raw, dict) else None
            if ref and template.resources.get(ref, {}).get("Type") == "AWS::DynamoDB::Table":
                variables[var] = ref
    return variables


def table_names(template: SamTemplate, environment: dict[str, str]) -> dict[str, str]:
    """LogicalId -> physical name, from the environment's values of the table variables."""
    return {ref: environment[var] for var, ref in table_variables(template).items() if var in environment}


def ensure_tables(template: SamTemplate, environment: dict[str, str], endpoint_url: str | None) -> list[str]:
    """Create each missing table and add the indexes an existing one lacks; returns the names created or changed.

    A table made by an older checkout keeps its data: a GSI the template has gained since is added with
    UpdateTable (as CloudFormation would), so a developer's long-lived local endpoint never answers "the table does
    not have the specified index" after a pull.
    """
    import boto3

    client: Any = boto3.client("dynamodb", endpoint_url=endpoint_url or None)
    existing = set(client.list_tables().get("TableNames", []))
    changed = []
    for logical_id, name in table_names(template, environment).items():
        props = template.resources[logical_id]["Properties"]
        if name in existing:
            if _add_missing_indexes(client, name, props):
                changed.append(name)
            continue
        kwargs = {key: props[key] for key in _CREATE_TABLE_KEYS if key in props}
        client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **kwargs)
        changed.append(name)
    return changed


def _add_missing_indexes(client: Any, name: str, props: dict[str, Any]) -> bool:
    table = client.describe_table(TableName=name)["Table"]
    have = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes") or []}
    missing = [index for index in props.get("GlobalSecondaryIndexes") or [] if index["IndexName"] not in have]
    for index in missing:
        keys = {key["AttributeName"] for key in index["KeySchema"]}
        definitions = [d for d in props["AttributeDefinitions"] if d["AttributeName"] in keys]
        client.update_table(
            TableName=name,
            AttributeDefinitions=definitions,
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
    return bool(missing)


def ensure_webhook_resources(environment: dict[str, str], endpoint_url: str | None) -> dict[str, str]:
    """The webhook pipeline's KMS key (under the alias the env file names) and SQS queues, created when missing.

    Returns the variables to set: the queues' URLs as the endpoint spells them. The in-process API only queues
    deliveries (ping, redeliver); the delivery worker runs on a deployed stack.
    """
    import boto3

    overrides: dict[str, str] = {}
    alias = environment.get("WEBHOOK_KMS_KEY_ID", "")
    if alias.startswith("alias/"):
        kms: Any = boto3.client("kms", endpoint_url=endpoint_url or None)
        aliases = {entry["AliasName"] for entry in kms.list_aliases().get("Aliases", [])}
        if alias not in aliases:
            key_id = kms.create_key(Description="local webhook secrets (infra/local_api)")["KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    sqs: Any = boto3.client("sqs", endpoint_url=endpoint_url or None)
    for var in ("WEBHOOK_QUEUE_URL", "WEBHOOK_DLQ_URL"):
        name = environment.get(var, "").rstrip("/").rsplit("/", 1)[-1]
        if name:
            overrides[var] = sqs.create_queue(QueueName=name)["QueueUrl"]  # idempotent for the same attributes
    return overrides


def ensure_schedule_group(environment: dict[str, str], endpoint_url: str | None) -> bool:
    """The reminders' EventBridge Scheduler group, created when missing; True when it was.

    A deployed stack declares it (ReminderScheduleGroup); the in-process API has no stack, and GET /health reports
    the group (taskapp.messaging.scheduler.probe), so without it the local API would answer 503 degraded.
    """
    import boto3

    name = environment.get("REMINDER_SCHEDULE_GROUP", "")
    if not name:
        return False
    scheduler: Any = boto3.client("scheduler", endpoint_url=endpoint_url or None)
    try:
        scheduler.get_schedule_group(Name=name)
        return False
    except scheduler.exceptions.ResourceNotFoundException:
        scheduler.create_schedule_group(Name=name)
        return True

"""template.yaml for issue 16: the idempotency table, and its name and IAM only where a function uses it."""

from __future__ import annotations

import ast

from infra.local_api import SamTemplate
from tests.support.lambda_events import ROOT

TEMPLATE = SamTemplate(ROOT / "template.yaml")


def _uses_idempotency(logical_id: str) -> bool:
    source = (TEMPLATE.function(logical_id).code_dir / "app.py").read_text()
    tree = ast.parse(source)
    return any(isinstance(node, ast.ImportFrom) and node.module == "taskapp.idempotency" for node in ast.walk(tree))


def _policies(logical_id: str) -> list[object]:
    return list((TEMPLATE.resources[logical_id].get("Properties") or {}).get("Policies") or [])


def test_the_idempotency_table_expires_records_on_powertools_expiry_attribute() -> None:
    from taskapp.data.idempotency import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE

    table = TEMPLATE.resources["IdempotencyTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": EXPIRY_ATTRIBUTE, "Enabled": True}


def test_exactly_the_functions_using_idempotency_get_the_table_and_its_policy() -> None:
    users = {logical_id for logical_id in TEMPLATE.functions if _uses_idempotency(logical_id)}
    assert users == {"CreateTaskFunction", "IngestTasksFunction"}
    for logical_id, spec in TEMPLATE.functions.items():
        has_table = spec.environment.get("IDEMPOTENCY_TABLE") == {"Ref": "IdempotencyTable"}
        has_policy = {"Ref": "IdempotencyRecordsPolicy"} in _policies(logical_id)
        assert has_table == has_policy == (logical_id in users), logical_id


def test_the_policy_grants_only_powertools_item_calls_on_the_table() -> None:
    statement = TEMPLATE.resources["IdempotencyRecordsPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement == [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            "Resource": {"Fn::GetAtt": ["IdempotencyTable", "Arn"]},
        }
    ]


def test_every_scoped_setting_is_set_by_some_function() -> None:
    """Scoped settings (empty, so the feature off, where a function is not given them) are set where used.

    Every setting is per function now (tests/unit/test_settings_per_function.py); among issue 16's, the scoped ones
    are those whose default is empty, as `_scoped_env_str` made them before.
    """
    from taskapp import settings

    models = (settings.IdempotencySettings, settings.ConditionalRequestSettings, settings.TaskCacheSettings)
    scoped = {name for model in models for name in settings.env_names(model) if getattr(model, name.lower()) == ""}
    assert scoped == {"IDEMPOTENCY_TABLE"}
    declared = {name for spec in TEMPLATE.functions.values() for name in spec.environment}
    assert scoped <= declared


def test_the_http_settings_deployed_by_default() -> None:
    """If-Match stays optional (today's behaviour); the task cache is on (it paid for itself when measured)."""
    parameters = TEMPLATE.raw["Parameters"]
    assert parameters["RequireIfMatch"]["Default"] == "false"
    assert parameters["TaskCacheEnabled"]["Default"] == "true"
    # Each function that reads it is given it (tests/unit/test_settings_per_function.py): the value in each of them.
    given = [spec.environment for spec in TEMPLATE.functions.values() if "IDEMPOTENCY_TTL_SECONDS" in spec.environment]
    assert given
    for variables in given:
        assert variables["IDEMPOTENCY_TTL_SECONDS"] == "86400"


def test_the_in_process_api_creates_the_idempotency_table_under_the_env_files_name() -> None:
    """`make local-api` creates every table an env var refers to (infra/local_api/tables.py); env.local.json names
    this one, so the create functions find it on MiniStack."""
    import json

    from infra.local_api.server import process_environment
    from infra.local_api.tables import table_names

    env_file = json.loads((ROOT / "env.local.json").read_text())
    environment = process_environment(TEMPLATE, env_file)
    assert table_names(TEMPLATE, environment)["IdempotencyTable"] == env_file["Parameters"]["IDEMPOTENCY_TABLE"]

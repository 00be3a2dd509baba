"""Least privilege in the template: each function gets exactly the variables its code reads, and no secret policy
or table policy it has no variable for.

Each handler is imported in a process of its own whose environment is only what template.yaml gives that function
(plus what Lambda itself sets), set before any taskapp module is imported: a child forked by one
`tests.support.settings_reach serve` process, which has loaded the third-party packages once. It reports the
settings models the function's code reads, at import and from the handler on. Their variables must all be set for
the function, and the function must have no other.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from infra.local_api.template import ROOT, FunctionSpec, SamTemplate
from infra.sam_template import RUNTIME_PROVIDED

# Read by Powertools itself (Logger, Metrics), so no settings model of ours names them.
READ_BY_POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE"}
# Each variable naming a secret's ARN, and the managed policy that lets a function read that secret.
SECRET_POLICIES = (
    ("JWT_SECRET_ARN", "JwtSecretReadPolicy"),
    ("RABBITMQ_URL_SECRET_ARN", "RabbitMqUrlSecretReadPolicy"),
)


@cache
def template() -> SamTemplate:
    return SamTemplate(ROOT / "template.yaml")


FUNCTIONS = sorted(template().functions)


# What every function's process has besides its template variables.
BASE_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared")]),
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}
ANSWER_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def reach_server() -> Iterator[subprocess.Popen[str]]:
    """One `settings_reach serve` process for the module (per pytest-xdist worker), ended after its tests."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.settings_reach", "serve"],
        cwd=ROOT,
        env=BASE_ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    yield server
    assert server.stdin is not None
    server.stdin.close()
    server.wait(timeout=ANSWER_TIMEOUT_SECONDS)


def _variables_read(
    server: subprocess.Popen[str], spec: FunctionSpec, environment: dict[str, str]
) -> dict[str, list[str]]:
    """Settings model -> its variables, for every model the function's code reads."""
    assert server.stdin is not None and server.stdout is not None
    request = {"code_dir": str(spec.code_dir), "handler": spec.handler, "env": {**BASE_ENV, **environment}}
    server.stdin.write(json.dumps(request) + "\n")
    server.stdin.flush()
    ready, _, _ = select.select([server.stdout], [], [], ANSWER_TIMEOUT_SECONDS)
    assert ready, f"{spec.logical_id}: no answer from settings_reach within {ANSWER_TIMEOUT_SECONDS} s"
    answer = json.loads(server.stdout.readline())
    assert "error" not in answer, f"{spec.logical_id} fails to load with only its template env:\n{answer['error']}"
    report: dict[str, list[str]] = answer["report"]
    return report


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_function_gets_exactly_the_variables_its_code_reads(
    logical_id: str, reach_server: subprocess.Popen[str]
) -> None:
    spec = template().function(logical_id)
    environment = template().environment_for(spec)
    models = _variables_read(reach_server, spec, environment)
    read = {name for names in models.values() for name in names} - RUNTIME_PROVIDED
    given = set(environment) - READ_BY_POWERTOOLS

    assert not read - given, f"{logical_id} reads {sorted(read - given)} (models {sorted(models)}): set them"
    assert not given - read, f"{logical_id} is given {sorted(given - read)} but never reads them: remove them"


def _policies(logical_id: str) -> list[Any]:
    properties = template().resources[logical_id].get("Properties") or {}
    return list(properties.get("Policies") or [])


def _tables_in(policy: Any) -> set[str]:
    """Logical ids of the tables a policy names (SAM policy templates, or statements on a table's Arn)."""
    found: set[str] = set()
    if isinstance(policy, dict):
        for key, value in policy.items():
            if key == "TableName" and isinstance(value, dict) and "Ref" in value:
                found.add(str(value["Ref"]))
            elif key == "Fn::GetAtt" and isinstance(value, list) and value[1:] == ["Arn"]:
                found.add(str(value[0]))
            else:
                found |= _tables_in(value)
    elif isinstance(policy, list):
        for item in policy:
            found |= _tables_in(item)
    tables = {rid for rid, r in template().resources.items() if r.get("Type") == "AWS::DynamoDB::Table"}
    return found & tables


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_function_may_read_a_secret_exactly_when_its_code_is_told_where_it_is(logical_id: str) -> None:
    spec = template().function(logical_id)
    attached = {policy["Ref"] for policy in _policies(logical_id) if isinstance(policy, dict) and "Ref" in policy}
    # ... or attached from the policy's side, to the role SAM makes for the function (<LogicalId>Role)
    attached |= {
        name
        for name, resource in template().resources.items()
        if resource.get("Type") == "AWS::IAM::ManagedPolicy"
        and {"Ref": f"{logical_id}Role"} in ((resource.get("Properties") or {}).get("Roles") or [])
    }
    for variable, policy in SECRET_POLICIES:
        assert (variable in spec.environment) == (policy in attached), (
            f"{logical_id}: {variable} {'set' if variable in spec.environment else 'not set'}, "
            f"{policy} {'attached' if policy in attached else 'not attached'}"
        )


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_function_has_no_table_policy_for_a_table_its_code_never_names(logical_id: str) -> None:
    spec = template().function(logical_id)
    named = {str(value["Ref"]) for value in spec.environment.values() if isinstance(value, dict) and "Ref" in value}
    granted = _tables_in(_policies(logical_id))
    assert granted <= named, f"{logical_id} may use {sorted(granted - named)} but is never told their names"

"""What the benchmarks that drive the deployed local stack check before they start, so a run fails in a second with
what to change instead of after minutes with a 429 or a timeout.

`local_stack_environment()` gives boto3 MiniStack's endpoint and test credentials unless the environment names
others; `require_parameters()` compares the stack's deployed parameters with what the run needs (a per-user rate
limit below the benchmark's request rate answers 429 half-way through).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Template parameter -> the infra/deploy.sh variable that sets it.
DEPLOY_VARIABLES = {
    "RateLimitUserPerMinute": "RATE_LIMIT_USER_PER_MINUTE",
    "RateLimitRegistrationsPerIp": "RATE_LIMIT_REGISTRATIONS_PER_IP",
}


def local_stack_environment() -> None:
    """Defaults for a MiniStack on 127.0.0.1:4566 (the values infra/deploy.sh uses); set variables win."""
    for name, value in (
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")),
    ):
        os.environ.setdefault(name, value)


def parameter_problems(parameters: Mapping[str, str], at_least: Mapping[str, int]) -> list[str]:
    """Each limit below what the run needs; 0 means "no limit" (the template's convention)."""
    problems = []
    for name, needed in at_least.items():
        raw = parameters.get(name)
        if raw is None:
            continue
        deployed = int(raw)
        if deployed != 0 and deployed < needed:
            variable = DEPLOY_VARIABLES.get(name, name)
            problems.append(f"{name}={deployed} but this run needs {needed} (deploy with {variable}=100000)")
    return problems


def require_parameters(at_least: Mapping[str, int], stack_name: str | None = None) -> None:
    """Fail at once (SystemExit) when the deployed stack's limits would refuse the run part-way."""
    from infra.sam_template import default_parameters, load_template
    from infra.stack import Stack, StackLookupError

    try:
        deployed = Stack(stack_name).parameters()
    except StackLookupError as exc:
        raise SystemExit(f"{exc}; set STACK_NAME to the stack API_BASE_URL points at") from exc
    parameters = {**default_parameters(load_template()), **deployed}  # a parameter never overridden: its default
    problems = parameter_problems(parameters, at_least)
    if problems:
        raise SystemExit("the deployed stack would refuse this benchmark part-way: " + "; ".join(problems))

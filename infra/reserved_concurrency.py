"""Apply each function's `ReservedConcurrentExecutions` to a deployed stack through the Lambda API.

On AWS, CloudFormation applies the property and this is a no-op confirmation. MiniStack's CloudFormation ignores it
(its `_lambda_create` provisioner stores `"concurrency": None` whatever the template says), while its Lambda
service enforces what `PutFunctionConcurrency` sets: past the figure an invocation is throttled at once
(TooManyRequestsException) instead of starting one more worker subprocess. So infra/deploy.sh runs this after
`sam deploy`, with the stack's own parameter values.

    python -m infra.reserved_concurrency [--stack-name NAME] [--dry-run]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from infra.sam_template import NO_VALUE, SamTemplate, serverless_functions
from infra.stack import Stack, default_stack_name


def reserved_concurrency(template: SamTemplate, parameters: Mapping[str, str]) -> dict[str, int | None]:
    """LogicalId -> the ReservedConcurrentExecutions the template gives it with these parameters (None: none)."""
    resolver = template.local_resolver(parameters)
    default = template.function_globals.get("ReservedConcurrentExecutions", NO_VALUE)
    figures: dict[str, int | None] = {}
    for logical_id, props in serverless_functions(template.raw):
        value = resolver.resolve(props.get("ReservedConcurrentExecutions", default))
        figures[logical_id] = None if value is NO_VALUE else int(value)
    return figures


def apply(stack: Stack, figures: Mapping[str, int | None], lambda_client: Any, *, dry_run: bool = False) -> list[str]:
    """Put (or delete) each function's reservation; returns one line per function saying what it did."""
    done = []
    for logical_id, reserved in sorted(figures.items()):
        name = stack.physical_id(logical_id)
        if reserved is None:
            done.append(f"{logical_id}: no reservation")
            if not dry_run:
                lambda_client.delete_function_concurrency(FunctionName=name)
        else:
            done.append(f"{logical_id}: ReservedConcurrentExecutions={reserved}")
            if not dry_run:
                lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    return done


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.reserved_concurrency", description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", default=default_stack_name())
    parser.add_argument("--dry-run", action="store_true", help="print what would be set, change nothing")
    args = parser.parse_args(argv)
    import boto3

    stack = Stack(args.stack_name)
    figures = reserved_concurrency(SamTemplate(), stack.parameters())
    for line in apply(stack, figures, boto3.client("lambda"), dry_run=args.dry_run):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

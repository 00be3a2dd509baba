"""The one lookup of a deployed stack for infra/ (and the tests): outputs, parameters and physical resource ids,
through CloudFormation at the endpoint the environment names (AWS_ENDPOINT_URL: MiniStack, LocalStack or AWS).

    python -m infra.stack [--stack-name NAME] output ApiId
    python -m infra.stack [--stack-name NAME] physical-id OutboxPublisherFunction

`--stack-name` defaults to $STACK_NAME, else `taskapp`. A stack, output or resource that is not there is a
StackLookupError (exit status 1 with the reason on stderr), never a KeyError or a raw ClientError.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

DEFAULT_STACK_NAME = "taskapp"


class StackLookupError(RuntimeError):
    """The stack or one of its outputs or resources is not deployed where the environment points."""


def default_stack_name() -> str:
    return os.environ.get("STACK_NAME", DEFAULT_STACK_NAME)


class Stack:
    """One deployed stack. Every call asks CloudFormation afresh: a redeploy is seen at once."""

    def __init__(self, name: str | None = None, cloudformation: Any | None = None) -> None:
        self.name = name or default_stack_name()
        self._client = cloudformation

    @property
    def _cfn(self) -> Any:
        if self._client is None:
            import boto3  # here, so `--help` and importing this module stay cheap

            self._client = boto3.client("cloudformation")
        return self._client

    def description(self) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            stacks = self._cfn.describe_stacks(StackName=self.name)["Stacks"]
        except (ClientError, BotoCoreError) as exc:
            raise StackLookupError(f"stack {self.name} is not deployed: {exc}") from exc
        if not stacks:
            raise StackLookupError(f"stack {self.name} is not deployed")
        return dict(stacks[0])

    def outputs(self) -> dict[str, str]:
        return {o["OutputKey"]: o["OutputValue"] for o in self.description().get("Outputs") or []}

    def output(self, key: str) -> str:
        outputs = self.outputs()
        if key not in outputs:
            raise StackLookupError(f"stack {self.name} has no output {key} (it has: {', '.join(sorted(outputs))})")
        return outputs[key]

    def parameters(self) -> dict[str, str]:
        """Deployed parameter values (a resolved SSM value where there is one)."""
        return _parameter_values(self.description())

    def parameters_with_pseudo(self) -> dict[str, str]:
        """The parameters plus the pseudo parameters a `!Sub` may use, taken from the stack's id."""
        description = self.description()
        arn_parts = str(description["StackId"]).split(":")
        complete = len(arn_parts) > 4
        pseudo = {
            "AWS::StackName": self.name,
            "AWS::StackId": description["StackId"],
            "AWS::Region": arn_parts[3] if complete else "us-east-1",
            "AWS::AccountId": arn_parts[4] if complete else "000000000000",
            "AWS::Partition": arn_parts[1] if complete else "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        return {**pseudo, **_parameter_values(description)}

    def physical_id(self, logical_id: str) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            detail = self._cfn.describe_stack_resource(StackName=self.name, LogicalResourceId=logical_id)
        except (ClientError, BotoCoreError) as exc:
            raise StackLookupError(f"{logical_id} of stack {self.name}: {exc}") from exc
        return str(detail["StackResourceDetail"]["PhysicalResourceId"])


def _parameter_values(description: dict[str, Any]) -> dict[str, str]:
    return {
        p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
        for p in description.get("Parameters") or []
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.stack", description=__doc__.splitlines()[0])
    parser.add_argument("--stack-name", default=None, help="default: $STACK_NAME, else taskapp")
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("output", help="print one output's value").add_argument("key")
    sub.add_parser("physical-id", help="print a resource's physical id").add_argument("logical_id")
    args = parser.parse_args(argv)
    stack = Stack(args.stack_name)
    try:
        print(stack.output(args.key) if args.what == "output" else stack.physical_id(args.logical_id))
    except StackLookupError as exc:
        print(f"infra.stack: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

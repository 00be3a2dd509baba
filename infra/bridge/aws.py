"""The bridge's view of the deployed stack: physical function names, parameters, and the Invoke call.

Endpoints come from the environment (AWS_ENDPOINT_URL), so the same code talks to MiniStack, LocalStack or AWS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from infra.bridge.delivery import InvokeOutcome, describe_payload
from infra.bridge.events import encode_event


class StackLookupError(RuntimeError):
    """The stack or one of its resources is not deployed where the environment points."""


class DeployedStack:
    def __init__(self, stack_name: str, cloudformation: Any | None = None) -> None:
        self.stack_name = stack_name
        self._cfn = cloudformation or boto3.client("cloudformation")

    def physical_id(self, logical_id: str) -> str:
        try:
            detail = self._cfn.describe_stack_resource(StackName=self.stack_name, LogicalResourceId=logical_id)
        except ClientError as exc:
            raise StackLookupError(f"{logical_id} of stack {self.stack_name}: {exc}") from exc
        return str(detail["StackResourceDetail"]["PhysicalResourceId"])

    def parameters(self) -> dict[str, str]:
        """Deployed parameter values plus the pseudo parameters `!Sub` may use."""
        try:
            stack = self._cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        except ClientError as exc:
            raise StackLookupError(f"stack {self.stack_name} is not deployed: {exc}") from exc
        values = {
            p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", "")) for p in stack.get("Parameters", [])
        }
        arn_parts = stack["StackId"].split(":")
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::StackId": stack["StackId"],
            "AWS::Region": arn_parts[3] if len(arn_parts) > 4 else "us-east-1",
            "AWS::AccountId": arn_parts[4] if len(arn_parts) > 4 else "000000000000",
            "AWS::Partition": arn_parts[1] if len(arn_parts) > 4 else "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        return {**pseudo, **values}


class LambdaInvoker:
    """Synchronous Invoke (RequestResponse), no SDK retries: the bridge owns retry and backoff."""

    def __init__(self, client: Any | None = None, read_timeout_seconds: int = 905) -> None:
        config = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=read_timeout_seconds)
        self._client = client or boto3.client("lambda", config=config)

    def __call__(self, function_name: str, event: Mapping[str, Any]) -> InvokeOutcome:
        try:
            payload_bytes = encode_event(event)
        except (TypeError, ValueError) as exc:  # a value JSON cannot hold: fail this invoke, never the poller
            return InvokeOutcome(error=f"event is not JSON-encodable: {exc}")
        try:
            response = self._client.invoke(
                FunctionName=function_name, InvocationType="RequestResponse", Payload=payload_bytes
            )
        except (ClientError, BotoCoreError) as exc:
            return InvokeOutcome(error=f"invoke failed: {exc}")
        raw = response["Payload"].read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        if response.get("FunctionError"):
            return InvokeOutcome(payload=payload, error=f"{response['FunctionError']}: {describe_payload(payload)}")
        return InvokeOutcome(payload=payload)

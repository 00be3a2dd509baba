"""Invoke a deployed function with one of its sample events and print the result and that invocation's logs.

    python -m infra.invoke --stack-name taskapp task_ingestion batch-with-bad-record

FN is the function's folder under functions/ (its logical id is found in template.yaml by CodeUri); EVENT names
events/<FN>/<EVENT>.json. AWS endpoint and credentials come from the environment (infra/common.sh).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import yaml

ROOT = Path(__file__).resolve().parents[1]


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, ...) as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def logical_id_of(function_dir: str, template: Path) -> str:
    resources = yaml.load(template.read_text(), Loader=_Loader)["Resources"]  # noqa: S506 - SafeLoader subclass
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        if Path(str(resource["Properties"].get("CodeUri", ""))).name == function_dir:
            return str(logical_id)
    raise SystemExit(f"no function with CodeUri functions/{function_dir}/ in {template}")


def _logs_of(function_name: str, request_id: str, since_ms: int) -> list[str]:
    logs = boto3.client("logs")
    group = f"/aws/lambda/{function_name}"
    lines: list[str] = []
    for _ in range(10):  # log delivery is asynchronous on some stacks
        try:
            events = logs.filter_log_events(logGroupName=group, startTime=since_ms)["events"]
        except logs.exceptions.ResourceNotFoundException:
            events = []
        messages = [event["message"] for event in events]
        start = next((i for i, m in enumerate(messages) if request_id in m and m.startswith("START")), None)
        if start is not None:
            for message in messages[start:]:
                lines.append(message.rstrip())
                if message.startswith("REPORT") and request_id in message:
                    return lines
            lines = []
        time.sleep(0.5)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("function", help="folder under functions/, e.g. task_ingestion")
    parser.add_argument("event", help="sample event name under events/<function>/ (without .json)")
    args = parser.parse_args(argv)

    event_file = ROOT / "events" / args.function / f"{args.event}.json"
    if not event_file.exists():
        choices = sorted(path.stem for path in (ROOT / "events" / args.function).glob("*.json"))
        raise SystemExit(f"no sample event {event_file}; available: {', '.join(choices) or 'none'}")
    logical_id = logical_id_of(args.function, args.template)
    resource = boto3.client("cloudformation").describe_stack_resource(
        StackName=args.stack_name, LogicalResourceId=logical_id
    )
    function_name = resource["StackResourceDetail"]["PhysicalResourceId"]
    since_ms = int(time.time() * 1000) - 1000
    response = boto3.client("lambda").invoke(
        FunctionName=function_name, Payload=event_file.read_bytes(), LogType="Tail"
    )
    payload: Any = response["Payload"].read().decode()
    request_id = response["ResponseMetadata"].get("RequestId", "")
    print(f"# {function_name} <- events/{args.function}/{args.event}.json (status {response['StatusCode']})")
    if response.get("FunctionError"):
        print(f"# FunctionError: {response['FunctionError']}")
    try:
        print(json.dumps(json.loads(payload), indent=2))
    except ValueError:
        print(payload)
    print("# logs")
    tail = response.get("LogResult")
    lines = base64.b64decode(tail).decode(errors="replace").splitlines() if tail else []
    if not lines:
        lines = _logs_of(function_name, request_id, since_ms)
    print("\n".join(lines) if lines else "(no log lines found)")
    return 1 if response.get("FunctionError") else 0


if __name__ == "__main__":
    sys.exit(main())

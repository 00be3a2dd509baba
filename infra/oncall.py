"""On-call tools: invoke a function with a sample event and read its logs, on the deployed stack or in-process.

    python -m infra.oncall invoke FN EVENT [--local]   # make invoke FN=GetTaskFunction EVENT=events/x.json [LOCAL=1]
    python -m infra.oncall logs FN [--since 10m] [--follow]   # make logs FN=get_task

FN is a logical id (GetTaskFunction) or a folder under functions/ (get_task). The deployed path resolves the
physical name through CloudFormation (stack from STACK_NAME, default taskapp) on AWS_ENDPOINT_URL and prints the
response and the log tail (LogType=Tail when the endpoint returns it; CloudWatch Logs otherwise, as MiniStack).
The local path runs the handler in this process with env.local.json and prints the response and the structured
log lines it wrote.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from infra.local_api.context import LocalLambdaContext
from infra.local_api.loader import HandlerLoader, add_layers_to_path
from infra.local_api.server import DEFAULT_ENV_FILE, apply_environment, read_env_file
from infra.local_api.template import FunctionSpec, SamTemplate
from infra.stack import Stack, default_stack_name


def stack_name() -> str:
    return default_stack_name()


def physical_name(spec: FunctionSpec, stack: str | None = None) -> str:
    return Stack(stack or stack_name()).physical_id(spec.logical_id)


def read_event(path: str) -> Any:
    return json.loads(Path(path).read_text()) if path != "-" else json.load(sys.stdin)


def _pretty_logs(text: str) -> list[str]:
    """Structured (JSON) lines re-indented for reading; others as they are."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("{"):
            with contextlib.suppress(ValueError):
                lines.append(json.dumps(json.loads(stripped), indent=2))
                continue
        if stripped:
            lines.append(line)
    return lines


def _pretty_response(payload: Any) -> str:
    """A proxy response's JSON body is shown decoded, so the reader sees the API's answer directly."""
    if isinstance(payload, dict) and isinstance(payload.get("body"), str) and not payload.get("isBase64Encoded"):
        with contextlib.suppress(ValueError):
            payload = {**payload, "body": json.loads(payload["body"])}
    return json.dumps(payload, indent=2, default=str)


def invoke_local(
    spec: FunctionSpec,
    event: Any,
    template: SamTemplate,
    env_file: Path | None = DEFAULT_ENV_FILE,
) -> tuple[Any, str]:
    """Run the handler here; returns (response or error dict, what it printed). env_file=None keeps os.environ."""
    if env_file is not None:
        env = template.environment_for(spec, env_vars=read_env_file(env_file))
        apply_environment(env)
    add_layers_to_path(template.layer_dirs)
    handler = HandlerLoader().load(spec)
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured), _log_handlers_to(captured):
        try:
            response: Any = handler(event, LocalLambdaContext(spec.logical_id))
        except Exception as exc:  # noqa: BLE001 - shown the way Lambda reports a function error
            response = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
    return response, captured.getvalue()


@contextlib.contextmanager
def _log_handlers_to(stream: io.StringIO) -> Iterator[None]:
    """Powertools' Logger binds sys.stdout when it is created: point stdout-like handlers at the capture too."""
    left_alone = {sys.stderr, sys.__stderr__}
    swapped: list[tuple[logging.StreamHandler[Any], Any]] = []
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    for log in loggers:
        for handler in log.handlers:
            # exact type: FileHandler and pytest's capture handlers are StreamHandler subclasses to leave alone
            if isinstance(handler, logging.StreamHandler) and type(handler) is logging.StreamHandler:
                if handler.stream in left_alone:
                    continue
                swapped.append((handler, handler.setStream(stream)))
    try:
        yield
    finally:
        for handler, previous in swapped:
            handler.setStream(previous)


def invoke_deployed(spec: FunctionSpec, event: Any, stack: str | None = None) -> tuple[Any, str, str]:
    """Lambda Invoke on the stack's endpoint; returns (response, log text, physical name)."""
    import boto3

    name = physical_name(spec, stack)
    started_ms = int(time.time() * 1000) - 1000
    result = boto3.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode(), LogType="Tail")
    payload_text = result["Payload"].read().decode() or "null"
    response = json.loads(payload_text)
    if result.get("FunctionError"):
        response = {"functionError": result["FunctionError"], "payload": response}
    tail = base64.b64decode(result.get("LogResult") or "").decode(errors="replace")
    if "REPORT RequestId" in tail:
        return response, tail, name
    # MiniStack returns only what the function printed as LogResult (nothing when it printed nothing), without
    # Lambda's START/END/REPORT lines; CloudWatch Logs has the whole invocation there.
    request_id = result.get("ResponseMetadata", {}).get("RequestId", "")
    return response, _cloudwatch_tail(name, started_ms, request_id) or tail, name


def _cloudwatch_tail(name: str, since_ms: int, request_id: str = "", wait_seconds: float = 3.0) -> str:
    """The invocation's lines from CloudWatch Logs (they can land a moment after the response)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        events = fetch_log_events(name, since_ms)
        text = [e["message"] for e in events]
        if any("REPORT RequestId" in line for line in text) or time.monotonic() > deadline:
            mine = _lines_of_request(text, request_id)
            return "\n".join(mine or text)
        time.sleep(0.3)


def _lines_of_request(lines: list[str], request_id: str) -> list[str]:
    """From START to REPORT of that request id, when the log carries the markers."""
    if not request_id:
        return []
    start = next((i for i, line in enumerate(lines) if f"START RequestId: {request_id}" in line), None)
    end = next((i for i, line in enumerate(lines) if f"REPORT RequestId: {request_id}" in line), None)
    return lines[start : end + 1] if start is not None and end is not None else []


def fetch_log_events(name: str, since_ms: int) -> list[dict[str, Any]]:
    import boto3
    from botocore.exceptions import ClientError

    client = boto3.client("logs")
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": f"/aws/lambda/{name}", "startTime": since_ms}
    try:
        while True:
            page = client.filter_log_events(**kwargs)
            events.extend(page.get("events", []))
            if not page.get("nextToken") or page.get("nextToken") == kwargs.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    return sorted(events, key=lambda e: (e.get("timestamp", 0), e.get("eventId", "")))


def parse_since(value: str) -> int:
    """'10m', '2h', '30s' or epoch milliseconds -> epoch milliseconds."""
    found = re.fullmatch(r"(\d+)([smhd])", value.strip())
    if not found:
        return int(value)
    seconds = int(found.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[found.group(2)]
    return int((time.time() - seconds) * 1000)


def tail_logs(
    spec: FunctionSpec, since: str, follow: bool, out: TextIO, *, stack: str | None = None, poll: float = 1.0
) -> int:
    name = physical_name(spec, stack)
    since_ms = parse_since(since)
    seen: set[str] = set()
    print(f"# /aws/lambda/{name}", file=out)
    while True:
        for event in fetch_log_events(name, since_ms):
            key = event.get("eventId") or f"{event.get('timestamp')}:{event.get('message')}"
            if key in seen:
                continue
            seen.add(key)
            since_ms = max(since_ms, int(event.get("timestamp", since_ms)))
            for line in _pretty_logs(str(event.get("message", ""))):
                print(line, file=out)
        out.flush()
        if not follow:
            return len(seen)
        time.sleep(poll)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.oncall", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    invoke = commands.add_parser("invoke", help="invoke a function with an event file")
    invoke.add_argument("function", help="logical id or functions/ folder name")
    invoke.add_argument("event", help="event JSON file, or - for stdin")
    invoke.add_argument("--local", action="store_true", help="run in-process with env.local.json")
    invoke.add_argument("--env-vars", type=Path, default=DEFAULT_ENV_FILE)
    logs = commands.add_parser("logs", help="print (or follow) a deployed function's logs")
    logs.add_argument("function")
    logs.add_argument("--since", default="10m", help="30s, 10m, 2h, 1d or epoch ms (default 10m)")
    logs.add_argument("--follow", action="store_true")
    args = parser.parse_args(argv)

    template = SamTemplate()
    spec = template.function(args.function)
    if args.command == "logs":
        with contextlib.suppress(KeyboardInterrupt):
            tail_logs(spec, args.since, args.follow, sys.stdout)
        return 0
    event = read_event(args.event)
    if args.local:
        response, printed = invoke_local(spec, event, template, args.env_vars)
        where = f"{spec.logical_id} (in-process)"
    else:
        response, printed, name = invoke_deployed(spec, event)
        where = f"{name} (stack {stack_name()} at {os.environ.get('AWS_ENDPOINT_URL', 'AWS')})"
    print(f"# response from {where}")
    print(_pretty_response(response))
    print("# logs")
    for line in _pretty_logs(printed) or ["(none)"]:
        print(line)
    failed = isinstance(response, dict) and ("errorType" in response or "functionError" in response)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

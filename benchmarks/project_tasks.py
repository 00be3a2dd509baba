"""Issue 11's two speed questions about tasks in projects, answered in one run on the local stack.

1. Does a project's size show in a filtered list? `GET /tasks?projectId=..&assignee=..&status=todo&limit=50` on a
   project of 10,000 tasks and 200 members against the same query on a project of 100 tasks (goal: within 1.5x,
   same run), and does every page read only what it returns (DynamoDB ScannedCount == Count)?
2. What does the membership check cost a read? In-process p50 of `GET /tasks/{id}` on a project task (read by its
   creator: GetItem + the membership GetItem; and by another member: + the `byProjectTask` Query) against a personal
   task (one GetItem); goal: the creator's difference within one GetItem's p50, measured in the same run.

Handlers are called in-process as Lambda calls them, authorizer context included, against MiniStack's DynamoDB
(127.0.0.1:4566), with the task cache off (project tasks are never cached) and the rate limiter off. The run uses
tables of its own (`bench-ptasks-*-<run>`, deleted at the end, whatever happens) and Redis database 13 for the
revocation check (refused if not empty; emptied at the end). Variants alternate in blocks, so machine load falls
on all of them alike.

    .venv/bin/python -m benchmarks.project_tasks [--rounds 10] [--block 10]

Writes benchmarks/project-tasks.json and .md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks import harness
from benchmarks.harness import ROOT, summarize

DYNAMODB = "http://127.0.0.1:4566"
REDIS = "redis://127.0.0.1:6379/13"
BIG_TASKS, BIG_MEMBERS = 10_000, 200
SMALL_TASKS, SMALL_MEMBERS = 100, 5
TARGET_TODO = 60  # the queried assignee's todo tasks in each project: more than a page, so both pages are full


def _environment(run: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "bench-project-tasks",
        "DYNAMODB_ENDPOINT": DYNAMODB,
        "REDIS_URL": REDIS,
        "TASKS_TABLE": f"bench-ptasks-tasks-{run}",
        "TASK_TAGS_TABLE": f"bench-ptasks-tags-{run}",
        "PROJECTS_TABLE": f"bench-ptasks-projects-{run}",
        # Never created: anything reaching for them fails instead of touching a shared table.
        "USERS_TABLE": f"bench-ptasks-users-{run}",
        "SESSIONS_TABLE": f"bench-ptasks-sessions-{run}",
        "JWT_SECRET": f"bench-project-tasks-{uuid.uuid4().hex}",
        "RATE_LIMIT_USER_PER_MINUTE": "0",
        "TASK_CACHE_ENABLED": "false",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }


def _create_tables() -> None:
    import boto3

    from infra.local_api.tables import _CREATE_TABLE_KEYS
    from taskapp.data.tasks import TagModel, TaskModel
    from taskapp.settings import projects_table_settings
    from tests.support.api_client import load_template

    TaskModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    TagModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    props = load_template()["Resources"]["ProjectsTable"]["Properties"]
    boto3.client("dynamodb", endpoint_url=DYNAMODB).create_table(
        TableName=projects_table_settings().projects_table,
        BillingMode="PAY_PER_REQUEST",
        **{key: props[key] for key in _CREATE_TABLE_KEYS if key in props},
    )


def _drop_tables() -> None:
    import boto3

    from taskapp.settings import projects_table_settings, tasks_table_settings

    client = boto3.client("dynamodb", endpoint_url=DYNAMODB)
    names = (
        tasks_table_settings().tasks_table,
        tasks_table_settings().task_tags_table,
        projects_table_settings().projects_table,
    )
    for table in names:
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_table(TableName=table)


def _seed_project(name: str, owner_id: str, members: list[str], tasks: int, target: str) -> str:
    """A project with its members and `tasks` tasks: the target's TARGET_TODO todo tasks, the rest spread over
    every member, status and priority at random (seeded: the same shape every run)."""
    from taskapp.data import projects as project_store
    from taskapp.data import tasks as task_store
    from taskapp.domain.records.projects import Member, Project, ProjectEvent
    from taskapp.domain.records.tasks import Task

    now = datetime.now(UTC)
    project_id = str(uuid.uuid4())
    # Straight to storage (no users table to read the owner's email from): the project, its owner, its members.
    project = Project(project_id, name, "", owner_id, False, len(members) + 1, now, now, 1)
    event = ProjectEvent(str(uuid.uuid4()), "project.created", project_id, owner_id, now, version=1)
    project_store.create_project(project, Member(project_id, owner_id, "owner", None, now), event)
    with project_store.MemberModel.batch_write() as batch:
        for user_id in members:
            batch.save(project_store.member_to_model(Member(project_id, user_id, "member", None, now)))
    shuffle = random.Random(name)  # noqa: S311 - a reproducible spread of test data, not a secret
    everyone = [owner_id, *members]
    records = []
    for number in range(tasks):
        assignee = target if number < TARGET_TODO else shuffle.choice(everyone)
        status = "todo" if number < TARGET_TODO else shuffle.choice(["todo", "in_progress", "done"])
        created = now - timedelta(seconds=tasks - number)
        records.append(
            Task(
                owner_id=shuffle.choice(everyone),
                task_id=str(uuid.uuid4()),
                title=f"{name} task {number}",
                description="a task of ordinary size",
                status=status,
                priority=shuffle.choice(["low", "medium", "high"]),
                due_date=None,
                tags=frozenset({shuffle.choice(["ops", "ui", "api"])}),
                created_at=created,
                updated_at=created,
                version=1,
                project_id=project_id,
                assignee_id=assignee,
                updated_by=owner_id,
            )
        )
    task_store.put_tasks(records)
    return project_id


@contextlib.contextmanager
def _counting_queries() -> Iterator[list[tuple[int, int]]]:
    """(ScannedCount, Count) of every Query pynamodb sends while the block runs."""
    from pynamodb.connection.base import Connection

    seen: list[tuple[int, int]] = []
    real = Connection.query

    def query(self: Connection, *args: Any, **kwargs: Any) -> Any:
        result = real(self, *args, **kwargs)
        seen.append((result.get("ScannedCount", 0), result.get("Count", 0)))
        return result

    Connection.query = query  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        Connection.query = real  # type: ignore[method-assign]


def measure(rounds: int, block: int) -> dict[str, Any]:
    import boto3

    from taskapp.auth.tokens import issue_access_token
    from taskapp.domain import tasks
    from taskapp.schemas.tasks import CreateTaskRequest
    from taskapp.settings import projects_table_settings, tasks_table_settings
    from tests.support.lambda_events import FakeLambdaContext, api_event, load_function

    owner_id, target = str(uuid.uuid4()), str(uuid.uuid4())
    big_members = [target, *(str(uuid.uuid4()) for _ in range(BIG_MEMBERS - 2))]
    small_members = [target, *(str(uuid.uuid4()) for _ in range(SMALL_MEMBERS - 2))]
    big = _seed_project("big", owner_id, big_members, BIG_TASKS, target)
    small = _seed_project("small", owner_id, small_members, SMALL_TASKS, target)

    list_fn, get_fn = load_function("list_tasks"), load_function("get_task")
    lambda_context = FakeLambdaContext("bench")

    def context_of(user_id: str) -> dict[str, Any]:
        return harness.caller_context(issue_access_token(user_id, str(uuid.uuid4())))

    target_context = context_of(target)
    owner_context = context_of(owner_id)

    def call(function: Any, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = function.handler(event, lambda_context)
        if result["statusCode"] != 200:
            raise SystemExit(f"{event['httpMethod']} {event['path']}: {result['statusCode']} {result.get('body')}")
        return result

    def list_event(project_id: str) -> dict[str, Any]:
        query = {"projectId": project_id, "assignee": "me", "status": "todo", "limit": "50"}
        return api_event("GET", "/tasks", query=query, authorizer=target_context)

    def get_event(task_id: str, context: dict[str, Any]) -> dict[str, Any]:
        return api_event(
            "GET", f"/tasks/{task_id}", resource="/tasks/{id}", path_params={"id": task_id}, authorizer=context
        )

    personal = tasks.create_task(owner_id, CreateTaskRequest(title="personal", tags=["bench"]))
    shared = tasks.create_task(owner_id, CreateTaskRequest(title="shared", tags=["bench"], project_id=big))
    events = {
        "list big (10,000 tasks, 200 members)": (list_fn, list_event(big)),
        "list small (100 tasks)": (list_fn, list_event(small)),
        "get personal task (owner)": (get_fn, get_event(personal.id, owner_context)),
        "get project task (its creator)": (get_fn, get_event(shared.id, owner_context)),
        "get project task (another member)": (get_fn, get_event(shared.id, target_context)),
    }

    def bound(function: Any, event: dict[str, Any]) -> Callable[[], object]:
        return lambda: call(function, event)

    variants: dict[str, Callable[[], object]] = {name: bound(*pair) for name, pair in events.items()}
    dynamodb = boto3.client("dynamodb", endpoint_url=DYNAMODB)
    member_key = {"pk": {"S": f"PROJECT#{big}"}, "sk": {"S": f"MEMBER#{target}"}}
    task_key = {"ownerId": {"S": owner_id}, "taskId": {"S": personal.id}}
    variants["bare GetItem (consistent, membership)"] = lambda: dynamodb.get_item(
        TableName=projects_table_settings().projects_table, Key=member_key, ConsistentRead=True
    )
    variants["bare GetItem (consistent, task)"] = lambda: dynamodb.get_item(
        TableName=tasks_table_settings().tasks_table, Key=task_key, ConsistentRead=True
    )
    from taskapp.data import projects as project_store

    # The same reads without the Lambda/HTTP edge: what the domain itself spends (resolve_task and the view).
    variants["domain get personal task (owner)"] = lambda: tasks.get_task(owner_id, personal.id)
    variants["domain get project task (its creator)"] = lambda: tasks.get_task(owner_id, shared.id)
    # The membership check's own call, as the code makes it (pynamodb: request building, parsing, the record).
    variants["membership check (data.projects.get_member)"] = lambda: project_store.get_member(big, target)
    pages = {name: len(json.loads(call(*events[name])["body"])["items"]) for name in list(events)[:2]}
    for variant in variants.values():  # warm every path untimed
        for _ in range(5):
            variant()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    with _counting_queries() as queries:
        for round_number in range(rounds):
            order = names if round_number % 2 == 0 else list(reversed(names))
            for name in order:
                samples[name] += harness.time_calls(variants[name], block)
    figures = {name: summarize(values, digits=2, suffix="_ms") for name, values in samples.items()}
    return {
        "figures": figures,
        "page_items": pages,
        "queries": len(queries),
        "queries_reading_more_than_they_return": sum(1 for scanned, count in queries if scanned != count),
    }


def _markdown(report: dict[str, Any]) -> str:
    figures = report["figures"]
    derived = report["derived"]
    rows = [[name, f["n"], f["p50_ms"], f["p95_ms"], f["p99_ms"], f["mean_ms"]] for name, f in figures.items()]
    return "\n".join(
        [
            "# Tasks in projects: a filtered list on a big vs a small project, and the membership check",
            "",
            f"Measured {report['measured_at']} on {report['machine']} (load average at start: "
            f"{report['load_average']}, at end: {report['load_average_end']}); `python -m benchmarks.project_tasks`.",
            "Handlers called in-process as Lambda calls them; DynamoDB is MiniStack's; task cache off. The list is "
            "`GET /tasks?projectId=..&assignee=me&status=todo&limit=50` for a member with 60 todo tasks in each "
            "project (items per page: " + ", ".join(f"{k}: {v}" for k, v in report["page_items"].items()) + ").",
            "",
            harness.markdown_table(["what", "n", "p50 ms", "p95 ms", "p99 ms", "mean ms"], rows, "lrrrrr"),
            "",
            f"- Big vs small project, same query: **{derived['big_vs_small_p50']}x** at p50, "
            f"{derived['big_vs_small_p95']}x at p95 (goal <= 1.5x). Queries during the timed rounds: "
            f"{report['queries']}, reading more than they returned: {report['queries_reading_more_than_they_return']}"
            " (ScannedCount == Count for every one).",
            f"- A project task read by its creator costs **{derived['creator_minus_personal_p50_ms']} ms** more than a "
            f"personal task at p50; one consistent GetItem's p50 is {derived['getitem_p50_ms']} ms in the same run "
            f"(goal: difference <= one GetItem; the check's own call through pynamodb, "
            f"`data.projects.get_member`: {derived['membership_check_p50_ms']} ms). Read by another member (+ the "
            f"`byProjectTask` Query and the item's GetItem): {derived['member_minus_personal_p50_ms']} ms more. "
            f"Without the Lambda edge (domain `get_task` alone) the creator's read costs "
            f"**{derived['domain_creator_minus_personal_p50_ms']} ms** more than the personal one.",
            "",
            "The design behind both: docs/data-model.md (Tasks).",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--block", type=int, default=10)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]
    os.environ.update(_environment(run))
    sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared")]
    import redis

    redis_client = redis.Redis.from_url(REDIS)
    if redis_client.dbsize():
        raise SystemExit(f"{REDIS} is not empty: refusing to use it for the benchmark")
    started_load = harness.load_average()
    try:
        _create_tables()
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # the handlers' EMF metric lines
            measured = measure(args.rounds, args.block)
    finally:
        _drop_tables()
        for key in redis_client.scan_iter("*"):
            redis_client.delete(key)
    figures = measured["figures"]

    def p50(name: str) -> float:
        return float(figures[name]["p50_ms"])

    big, small = "list big (10,000 tasks, 200 members)", "list small (100 tasks)"
    report = {
        "measured_at": harness.utc_now(),
        "machine": harness.machine(),
        "load_average": started_load,
        "load_average_end": harness.load_average(),
        **measured,
        "derived": {
            "big_vs_small_p50": round(p50(big) / p50(small), 2),
            "big_vs_small_p95": round(figures[big]["p95_ms"] / figures[small]["p95_ms"], 2),
            "creator_minus_personal_p50_ms": round(
                p50("get project task (its creator)") - p50("get personal task (owner)"), 2
            ),
            "member_minus_personal_p50_ms": round(
                p50("get project task (another member)") - p50("get personal task (owner)"), 2
            ),
            "getitem_p50_ms": p50("bare GetItem (consistent, membership)"),
            "membership_check_p50_ms": p50("membership check (data.projects.get_member)"),
            "domain_creator_minus_personal_p50_ms": round(
                p50("domain get project task (its creator)") - p50("domain get personal task (owner)"), 2
            ),
        },
    }
    harness.write_report("project-tasks", data=report, markdown=_markdown(report))
    print(_markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

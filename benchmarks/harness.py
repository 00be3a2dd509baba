"""What every benchmark shares: timing, one percentile, the machine's state, report files and fixtures.

The fixtures are built from the project's own types (the schemas' request models, the data layer's pynamodb
models, the token issuer, the SAM template reader), so a benchmark sends and stores exactly what the API
accepts and the code writes; when a contract changes, these fail (tests/unit/test_benchmark_harness.py) instead
of a benchmark measuring a request the API now refuses.

Only the standard library is imported here at module level: `taskapp` reads its settings when first imported, so
each benchmark sets its environment first, and the fixtures import the project lazily.
"""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra.sam_template import SamTemplate
    from taskapp.auth.tokens import IssuedAccessToken

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks"

# --- timing and statistics ------------------------------------------------------------------------------------


def elapsed_ms(started: float) -> float:
    """Milliseconds since `started`, a `time.perf_counter()` reading."""
    return (time.perf_counter() - started) * 1000


def time_calls(call: Callable[[], object], count: int, *, warmup: int = 0) -> list[float]:
    """Run `call` `warmup` times untimed, then `count` times, each timed alone (ms)."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append(elapsed_ms(started))
    return samples


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest observed value with at least `fraction` of the samples at or below
    it (no interpolation, so every figure reported was measured). The 1e-9 absorbs float noise: 0.95 * 20 is
    19.000000000000004, whose rank is 19, not 20."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered) - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def summarize(samples: Sequence[float], *, digits: int = 1, suffix: str = "") -> dict[str, float]:
    """Count, p50/p95/p99, mean, min and max of samples in ms; `suffix` (e.g. "_ms") names the unit in keys."""
    figures = {
        "p50": percentile(samples, 0.50),
        "p95": percentile(samples, 0.95),
        "p99": percentile(samples, 0.99),
        "mean": statistics.fmean(samples),
        "min": min(samples),
        "max": max(samples),
    }
    return {"n": len(samples), **{f"{name}{suffix}": round(value, digits) for name, value in figures.items()}}


# --- the machine ------------------------------------------------------------------------------------------------


def load_average() -> float:
    """The 1-minute load average: the machine is shared, so every report says how busy it was."""
    return round(os.getloadavg()[0], 2)


def process_tree_cpu_seconds(roots: Iterable[int]) -> float:
    """User + system CPU seconds of the live processes `roots` and all their descendants (Linux /proc).

    A process's own time plus what its reaped children left it (cutime/cstime), so a worker that exited and was
    waited for still counts; a live child is counted once, as itself.
    """
    parents: dict[int, int] = {}
    for pid in _live_pids():
        try:
            parents[pid] = int(_proc_stat(pid)[1])
        except (OSError, ValueError, IndexError):
            continue  # exited meanwhile
    tree, frontier = set(), [pid for pid in roots if pid in parents]
    while frontier:
        pid = frontier.pop()
        if pid not in tree:
            tree.add(pid)
            frontier.extend(child for child, parent in parents.items() if parent == pid)
    ticks = 0
    for pid in tree:
        try:
            fields = _proc_stat(pid)
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime (stat fields 14-17)
    return ticks / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the one live process `pid`, its children excluded (Linux /proc)."""
    fields = _proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ministack_pid() -> int:
    """The MiniStack process `make run` started (infra/services.sh writes its pid)."""
    return int((ROOT / ".local" / "pids" / "ministack.pid").read_text().strip())


def ministack_workers() -> set[int]:
    """The pids of MiniStack's Lambda workers (each runs from a `ministack-lambda-*` folder it made)."""
    pids = set()
    for pid in _live_pids():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # exited meanwhile
        if b"ministack-lambda-" in command:
            pids.add(pid)
    return pids


def _live_pids() -> list[int]:
    """Every process id /proc lists now (Linux)."""
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _proc_stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the command name (which may hold spaces): [state, ppid, ...]."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- reports ----------------------------------------------------------------------------------------------------


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]], align: str = "") -> str:
    """A markdown table; `align` has one letter per column, `r` right-aligns it (default: left)."""
    rule = "|" + "|".join("---:" if align[i : i + 1] == "r" else "---" for i in range(len(header))) + "|"
    body = ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(["| " + " | ".join(header) + " |", rule, *body])


def write_report(stem: str | Path, *, data: Mapping[str, Any] | None = None, markdown: str | None = None) -> None:
    """Write `<stem>.json` and/or `<stem>.md`; a bare name lands under benchmarks/, where the README cites them."""
    path = RESULTS / stem if isinstance(stem, str) else stem
    path.parent.mkdir(parents=True, exist_ok=True)
    if data is not None:
        path.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n")
    if markdown is not None:
        path.with_suffix(".md").write_text(markdown if markdown.endswith("\n") else markdown + "\n")


# --- where the API runs -------------------------------------------------------------------------------------------


def api_base_url() -> str:
    """The deployed API: API_BASE_URL, else the URL infra/deploy.sh wrote to .local/api-url, else ""."""
    written = ROOT / ".local" / "api-url"
    url = os.environ.get("API_BASE_URL") or (written.read_text().strip() if written.exists() else "")
    return url.rstrip("/")


def deployed_jwt_secret() -> str:
    """The deployed stack's signing key: JWT_SECRET, else the one infra/deploy.sh wrote to .local/jwt-secret."""
    return os.environ.get("JWT_SECRET") or (ROOT / ".local" / "jwt-secret").read_text().strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_local_api(
    *extra: str, stderr: int = subprocess.DEVNULL, code_root: Path = ROOT
) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m infra.local_api` on a free port, without reload; returns it and its URL once it accepts.

    `code_root`: another checkout's server, template and env file (an `export_tree` of an older ref)."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - this interpreter running our own module
        [sys.executable, "-m", "infra.local_api", "--port", str(port), "--no-reload", "--quiet", *extra],
        cwd=code_root,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                output = server.stderr.read().decode() if server.stderr else ""
                raise SystemExit(f"the local API did not start (are Redis and MiniStack up?) {output}") from None
            time.sleep(0.05)


def export_tree(ref: str, target: Path, paths: Sequence[str]) -> Path:
    """`paths` of this repository at git `ref`, unpacked under `target`/code: a before-and-after benchmark runs
    the older code beside the working tree in one run."""
    archive = target / "code.tar"
    command = ["git", "archive", "--format=tar", "-o", str(archive), ref, *paths]
    subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603 - git on this repository, as make uses it
    with tarfile.open(archive) as tar:
        tar.extractall(target / "code", filter="data")
    return target / "code"


@cache
def template(path: Path | None = None) -> SamTemplate:
    """template.yaml through the project's one template reader (one parse per run)."""
    from infra.sam_template import SamTemplate

    return SamTemplate(path) if path else SamTemplate()


# --- request bodies and accounts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A throwaway account; its bodies pass the API's own validation (RegisterRequest, LoginRequest)."""

    register: dict[str, Any]
    login: dict[str, Any]


def new_account(prefix: str = "bench") -> Account:
    from taskapp.schemas.accounts import LoginRequest, RegisterRequest

    email, password = f"{prefix}-{uuid.uuid4().hex[:12]}@example.com", f"pw-{uuid.uuid4().hex}"
    register = RegisterRequest(name=prefix.title(), email=email, password=password)
    login = LoginRequest(email=email, password=password)
    return Account(register=wire(register), login=wire(login))


@dataclass(frozen=True)
class SignedUp:
    user_id: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def sign_up(post: Callable[[str, dict[str, Any]], Mapping[str, Any]], prefix: str = "bench") -> SignedUp:
    """Register and log in a new account through `post(path, body) -> JSON body`, in whichever HTTP client the
    benchmark uses (it raises on an error status)."""
    account = new_account(prefix)
    user = post("/auth/register", account.register)
    return SignedUp(user_id=str(user["id"]), access_token=str(post("/auth/login", account.login)["accessToken"]))


def create_task_body(title: str = "benchmark", **fields: Any) -> dict[str, Any]:
    from taskapp.schemas.tasks import CreateTaskRequest

    return wire(CreateTaskRequest(title=title, **fields))


def update_task_body(version: int, **changes: Any) -> dict[str, Any]:
    from taskapp.schemas.tasks import UpdateTaskRequest

    return wire(UpdateTaskRequest(version=version, **changes))


def ingest_body(*titles: str) -> dict[str, Any]:
    from taskapp.schemas.ingest import IngestTaskItem, IngestTasksRequest

    return wire(IngestTasksRequest(tasks=[IngestTaskItem(title=title) for title in titles]))


def ingested_record_value(task_id: str, owner_id: str, title: str, created_at: datetime | None = None) -> bytes:
    """A `task.ingested` record value, serialised as POST /tasks/ingest produces it (domain.ingest_accept)."""
    from taskapp.schemas.ingest import IngestedTaskMessage
    from taskapp.schemas.tasks import CreateTaskRequest

    message = IngestedTaskMessage(
        id=task_id, owner_id=owner_id, created_at=created_at, task=CreateTaskRequest(title=title)
    )
    return message.model_dump_json(by_alias=True, exclude_none=True).encode()


def task_created_event(owner_id: str, task_id: str, title: str, occurred_at: datetime) -> tuple[str, bytes]:
    """(event id, body) of a `task.created` event as the outbox publishes it on `task.events`."""
    from taskapp.schemas.events import TaskEvent, TaskEventType
    from taskapp.schemas.tasks import TaskStatus

    event = TaskEvent(
        event_id=f"{task_id}:1:{TaskEventType.CREATED.value}",
        type=TaskEventType.CREATED,
        occurred_at=occurred_at,
        owner_id=owner_id,
        task_id=task_id,
        title=title,
        status=TaskStatus.TODO,
        version=1,
    )
    return event.event_id, event.model_dump_json(by_alias=True).encode()


def wire(model: Any) -> dict[str, Any]:
    """What a client sends: camelCase, JSON types, only the fields it set."""
    wire: dict[str, Any] = model.model_dump(by_alias=True, mode="json", exclude_unset=True)
    return wire


# --- stored items and the caller, from the data layer and the token issuer --------------------------------------


def task_item(owner_id: str, task_id: str, title: str = "benchmark task") -> dict[str, Any]:
    """A stored task as DynamoDB returns it (attribute-value JSON), built by the domain and mapped by the data layer."""
    from taskapp.data.tasks import to_model
    from taskapp.domain.tasks import new_task
    from taskapp.schemas.tasks import CreateTaskRequest

    description = "a task of ordinary size, with a description and two tags"
    request = CreateTaskRequest(title=title, description=description, tags=["bench", "perf"])
    item: dict[str, Any] = to_model(new_task(owner_id, request, task_id=task_id)).serialize()
    return item


def user_item(email: str, user_id: str, password_hash: str, name: str = "Bench") -> dict[str, Any]:
    from taskapp.data.users import UserModel, utc_now

    user = UserModel(email, user_id=user_id, name=name, password_hash=password_hash, created_at=utc_now())
    item: dict[str, Any] = user.serialize()
    return item


def revoked_family_item(user_id: str, session_id: str) -> dict[str, Any]:
    """A refresh-token family already revoked: what logout's conditional update returns."""
    from taskapp.data.sessions import SessionItem, _family_key

    family = SessionItem(
        _family_key(session_id), user_id=user_id, session_id=session_id, revoked=True, created_at=1, expires_at=2
    )
    item: dict[str, Any] = family.serialize()
    return item


def caller_context(issued: IssuedAccessToken) -> dict[str, Any]:
    """The authorizer context API Gateway hands a handler for this token (as auth/authorizer.authorize writes it)."""
    from taskapp.auth.context import AuthorizerContext

    claims = issued.claims
    caller = AuthorizerContext(
        claims.user_id, claims.jti, claims.expires_at, claims.session_id, claims.session_generation
    )
    return {"principalId": caller.user_id, **caller.to_context()}

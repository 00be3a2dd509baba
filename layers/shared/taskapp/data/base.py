"""Table settings shared by every pynamodb model: endpoint, region and short retries taken from Settings.

Also one botocore session per thread for every pynamodb connection. pynamodb gives each connection its own
session (`pynamodb.connection.base.get_session`), and each new session loads and parses botocore's endpoint data
and the DynamoDB service model again when its client is built: a function touching three models (login: users,
sessions, and the sessions transaction) built three sessions on its first request, 183 ms against 74 ms with one
(benchmarks/perf_budget.md, import + first request). Sessions stay per thread, as pynamodb keeps them, because a
botocore session is not safe to share across threads; Lambda serves one request at a time on one thread.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
import pynamodb.connection.base

from taskapp.settings import get_settings

_per_thread = threading.local()


def thread_session(env_vars: dict[str, Any] | None = None) -> botocore.session.Session:
    """This thread's botocore session, created on first use; every pynamodb connection of the thread shares it.

    Same signature as botocore's `get_session`; a caller passing its own `env_vars` gets a session of its own.
    """
    if env_vars is not None:
        return botocore.session.get_session(env_vars)
    session: botocore.session.Session | None = getattr(_per_thread, "session", None)
    if session is None:
        session = _per_thread.session = botocore.session.get_session()
    return session


# pynamodb looks the function up in its module each time a connection first needs a session.
pynamodb.connection.base.get_session = thread_session


def model_meta(table_name: str) -> Any:
    """A pynamodb `Meta` class built from Settings; read at import time, when the Lambda environment is final."""
    settings = get_settings()
    meta: dict[str, Any] = {
        "table_name": table_name,
        "region": settings.region,
        "connect_timeout_seconds": 2,
        "read_timeout_seconds": 5,
        "max_retry_attempts": 3,
    }
    if settings.dynamodb_endpoint:
        meta["host"] = settings.dynamodb_endpoint
    return type("Meta", (), meta)

"""What every data module shares: table settings, one connection for transactions, and how a failed condition or
an unavailable store is recognised.

Table settings (endpoint, region, short retries) come from Settings.

Also one botocore session per thread for every pynamodb connection. pynamodb gives each connection its own
session (`pynamodb.connection.base.get_session`), and each new session loads and parses botocore's endpoint data
and the DynamoDB service model again when its client is built: a function touching three models (login: users,
sessions, and the sessions transaction) built three sessions on its first request, 183 ms against 74 ms with one
(benchmarks/perf_budget.md, import + first request). Sessions stay per thread, as pynamodb keeps them, because a
botocore session is not safe to share across threads; Lambda serves one request at a time on one thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache, wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import botocore.context
import botocore.session
import pynamodb.connection.base
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.connection import Connection
from pynamodb.exceptions import PynamoDBException, TransactWriteError

from taskapp.data import StorageUnavailable
from taskapp.settings import dynamodb_settings, runtime_settings

if TYPE_CHECKING:
    from pynamodb.transactions import TransactWrite

_P = ParamSpec("_P")
_R = TypeVar("_R")

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
        create_client = session.create_client

        def create_remembering_client(*args: Any, **kwargs: Any) -> Any:
            client = create_client(*args, **kwargs)
            remember_user_agents(client)
            return client

        session.create_client = create_remembering_client  # type: ignore[method-assign]
    return session


def remember_user_agents(client: Any) -> None:
    """One User-Agent string per set of features a call used, instead of one built twice per call.

    botocore rebuilds the header when it makes the request and again just before signing it (sanitising every
    component each time): ~0.1 ms, 8% of a warm GET /tasks/{id}. The string depends only on the client's fixed
    parts (session, config, platform) and on the features the call registered, so it is remembered per feature
    set. A botocore without these internals is left as it is.
    """
    creator: Any = getattr(client, "_user_agent_creator", None)
    build = getattr(creator, "to_string", None)
    if build is None or not hasattr(creator, "_client_features"):
        return
    built: dict[frozenset[str], str] = {}

    def to_string() -> str:
        context = botocore.context.get_context()
        features = frozenset((creator._client_features or set()) | (context.features if context else set()))
        user_agent = built.get(features)
        if user_agent is None:
            user_agent = built[features] = build()
        return user_agent

    creator.to_string = to_string


# pynamodb looks the function up in its module each time a connection first needs a session.
pynamodb.connection.base.get_session = thread_session


def model_meta(table_name: str) -> Any:
    """A pynamodb `Meta` class built from Settings; read at import time, when the Lambda environment is final."""
    endpoint = dynamodb_settings().endpoint
    meta: dict[str, Any] = {
        "table_name": table_name,
        "region": runtime_settings().region,
        "connect_timeout_seconds": 2,
        "read_timeout_seconds": 5,
        "max_retry_attempts": 3,
    }
    if endpoint:
        meta["host"] = endpoint
    return type("Meta", (), meta)


@lru_cache(maxsize=1)
def connection() -> Connection:
    """One connection per execution environment for transactions: building a botocore client costs ~100 ms."""
    return Connection(region=runtime_settings().region, host=dynamodb_settings().endpoint)


@contextmanager
def transaction() -> Iterator[TransactWrite]:
    """One TransactWriteItems over the shared connection, sent when the block ends without an exception."""
    from pynamodb.transactions import TransactWrite  # only the functions that write transactions load it

    with TransactWrite(connection=connection()) as tx:
        yield tx


def is_condition_failure(exc: PynamoDBException) -> bool:
    """True only when a write's condition failed; throttling, conflicts or outages are something else.

    A single-item write names it in its cause; a transaction lists one cancellation reason per item.
    """
    if isinstance(exc, TransactWriteError):
        reasons = exc.cancellation_reasons or []
        return any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons)
    return exc.cause_response_code == "ConditionalCheckFailedException"


def storage_failures_translated(operation: Callable[_P, _R]) -> Callable[_P, _R]:
    """Let the operation raise StorageUnavailable instead of pynamodb's or botocore's own exceptions."""

    @wraps(operation)
    def translated(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return operation(*args, **kwargs)
        except (PynamoDBException, BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(str(exc)) from exc

    return translated

"""One logger, tracer and metrics object per function; service name and namespace come from the environment."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from functools import wraps
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from taskapp.settings import runtime_settings


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class _NoTracing(BaseProvider):
    """Stands in for the X-Ray SDK when tracing is off.

    Powertools' Tracer imports `aws_xray_sdk.core` (and through it a botocore session) even when it is disabled:
    about 0.4 s of every local cold start, for traces nobody collects. Hand-written because Powertools ships no
    no-op provider; with tracing on (in AWS) the real X-Ray provider is used unchanged.
    """

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def _tracing_disabled() -> bool:
    """Powertools' own rule: disabled by POWERTOOLS_TRACE_DISABLED, or outside a Lambda execution environment."""
    runtime = runtime_settings()
    return runtime.powertools_trace_disabled or not runtime.lambda_task_root


logger = Logger()
tracer = Tracer(disabled=True, provider=_NoTracing()) if _tracing_disabled() else Tracer()
metrics = Metrics()

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def outcome_of(result: Any) -> dict[str, Any]:
    """What the invocation line says about a result, never its content: an API answer's status, an authorizer's
    effect, a batch's failed items."""
    if not isinstance(result, dict):
        return {}
    if "statusCode" in result:
        return {"status": result["statusCode"]}
    statements = (result.get("policyDocument") or {}).get("Statement") or []
    if statements and isinstance(statements[0], dict):
        return {"effect": statements[0].get("Effect")}
    if "batchItemFailures" in result:
        return {"failed_items": len(result["batchItemFailures"] or [])}
    return {}


def _log_invocation(handler: HandlerT) -> HandlerT:
    """One structured line per invocation (INFO: LogLevel WARNING drops it), written before the result is returned.

    It is the function's access log (status or effect and duration, joined to the request by the correlation id),
    and it is also what lets MiniStack hand a warm worker the next request at once: its runtime waits up to 50 ms
    for a first log line after every invocation that printed none (issue 17; benchmarks/autocannon-load.md).
    """

    @wraps(handler)
    def logged(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = handler(event, context, *args, **kwargs)
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        logger.info("invocation done", extra={"duration_ms": duration_ms, **outcome_of(result)})
        return result

    return cast(HandlerT, logged)


def instrumented(handler: HandlerT, *, correlation_id_path: str | None = None) -> HandlerT:
    """Every Lambda entry point gets the same four: logger context (with the correlation id, when the event has
    one), the tracer's handler segment, metrics flushed at the end with the cold-start metric, and one line saying
    how the invocation ended."""
    wrapped = metrics.log_metrics(_log_invocation(handler), capture_cold_start_metric=True)
    wrapped = tracer.capture_lambda_handler(wrapped)
    wrapped = logger.inject_lambda_context(wrapped, correlation_id_path=correlation_id_path)
    return cast(HandlerT, wrapped)

"""One logger, tracer and metrics object per function; service name and namespace come from the environment."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
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


def instrumented(handler: HandlerT, *, correlation_id_path: str | None = None) -> HandlerT:
    """Every Lambda entry point gets the same three: logger context (with the correlation id, when the event has
    one), the tracer's handler segment, and metrics flushed at the end with the cold-start metric."""
    wrapped = metrics.log_metrics(handler, capture_cold_start_metric=True)
    wrapped = tracer.capture_lambda_handler(wrapped)
    wrapped = logger.inject_lambda_context(wrapped, correlation_id_path=correlation_id_path)
    return cast(HandlerT, wrapped)

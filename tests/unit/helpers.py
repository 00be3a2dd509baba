"""Small helpers shared by the unit tests: invoke a function with an event, read its answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.support.lambda_events import FakeLambdaContext, authorizer_context, load_function

SAMPLE_USER_ID = "3f0c9a52-8d1e-4b7a-9c61-2f4e5a6b7c8d"
SAMPLE_SESSION_ID = "c4d5e6f7-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
SAMPLE_JTI = "9e2f4b1c-6a3d-4e8f-b5c7-1d0a2e3f4b5c"
SAMPLE_TASK_ID = "0b9d6c1e-4f2a-4c3b-8e5d-7a6f1e2d3c4b"


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str]
    body: Any


def invoke(function: str, event: dict[str, Any]) -> Answer:
    """Call the function's Lambda handler with an API Gateway proxy event, as Lambda would."""
    result = load_function(function).handler(event, FakeLambdaContext(function))
    text = result.get("body") or ""
    # REST API responses from Powertools carry their headers in multiValueHeaders
    headers = {name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items()}
    headers.update(result.get("headers") or {})
    return Answer(result["statusCode"], headers, json.loads(text) if text else None)


def assert_error(body: Any, code: str | None = None) -> dict[str, Any]:
    """Every error answer has exactly the shape {"error": {"code", "message", "details"}}."""
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error


def seed_task(owner_id: str, task_id: str, **fields: Any) -> None:
    """Store a task directly (no API), e.g. the one the sample events point at."""
    from taskapp.data import tasks as store
    from taskapp.domain.tasks import new_task
    from taskapp.schemas.tasks import CreateTaskRequest

    request = CreateTaskRequest.model_validate({"title": "Rotate the JWT signing key", **fields})
    store.create_task(new_task(owner_id, request, task_id=task_id))


def authorizer_context_for(token: str) -> dict[str, Any]:
    """What API Gateway hands a handler for this token once the authorizer allowed it (values as strings).

    Lets a test reach a handler directly, as when API Gateway serves a cached Allow for a since-revoked token.
    """
    import jwt

    from taskapp.auth.context import AuthorizerContext

    claims = jwt.decode(token, options={"verify_signature": False})
    caller = AuthorizerContext(
        user_id=claims["sub"],
        jti=claims["jti"],
        expires_at=claims["exp"],
        session_id=claims["sid"],
        session_generation=claims.get("sgen", 0),
    )
    return authorizer_context(caller)


def record_redis_round_trips(monkeypatch: Any, fake_redis: Any) -> list[str]:
    """From now on, each Redis round trip made through `fake_redis`: "pipeline" for a pipeline (one round trip
    whatever it carries), else the command's name."""
    trips: list[str] = []
    pipeline, execute_command = fake_redis.pipeline, fake_redis.execute_command

    def counted_pipeline(*args: Any, **kwargs: Any) -> Any:
        trips.append("pipeline")
        return pipeline(*args, **kwargs)

    def counted_command(*args: Any, **kwargs: Any) -> Any:
        trips.append(str(args[0]))
        return execute_command(*args, **kwargs)

    monkeypatch.setattr(fake_redis, "pipeline", counted_pipeline)
    monkeypatch.setattr(fake_redis, "execute_command", counted_command)
    return trips

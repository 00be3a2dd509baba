"""Unique names per test run, so reruns against the same deployed stack and shared Redis never collide."""

from __future__ import annotations

import uuid

# Everything these helpers mint starts with this, so cleanup can never touch another run's or another user's data.
TEST_PREFIX = "itest-"


def jti() -> str:
    return f"{TEST_PREFIX}{uuid.uuid4()}"


def owner_id() -> str:
    """A fresh partition in the tasks table: a test only ever sees the tasks it created."""
    return f"{TEST_PREFIX}owner-{uuid.uuid4()}"


def email(tag: str = "user") -> str:
    return f"{TEST_PREFIX}{tag}-{uuid.uuid4().hex[:12]}@example.com"

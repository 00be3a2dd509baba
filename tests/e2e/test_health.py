"""GET /health through the deployed API: no token needed, every dependency reported up with its latency."""

from __future__ import annotations

import pytest

from tests.support.http_api import Api

pytestmark = pytest.mark.e2e


def test_health_is_200_with_every_dependency_up_and_needs_no_token(api: Api) -> None:
    response = api.call("GET", "/health")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["dependencies"]) >= {"dynamodb", "redis", "ses", "scheduler"}
    for name, dependency in body["dependencies"].items():
        assert dependency["status"] == "up", (name, dependency)
        assert isinstance(dependency["latencyMs"], int | float), (name, dependency)


def test_health_reports_ses_and_the_reminders_schedule_group(api: Api) -> None:
    dependencies = api.call("GET", "/health").json()["dependencies"]
    assert dependencies["ses"]["details"]["max24HourSend"] > 0, dependencies["ses"]
    scheduler = dependencies["scheduler"]["details"]
    assert scheduler["group"].endswith("-reminders") and scheduler["state"] == "ACTIVE", scheduler
    assert scheduler["target"].endswith("-reminder"), scheduler

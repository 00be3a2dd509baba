"""Hardening through the deployed API: rate-limit headers survive API Gateway, and a password change ends the
caller's sessions even while API Gateway still caches the authorizer's Allow for the old token."""

from __future__ import annotations

import os
import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e

PASSWORD = "e2e-test-password-1"
NEW_PASSWORD = "e2e-test-password-2"


@pytest.fixture(scope="module")
def base_url() -> str:
    url = os.environ.get("API_BASE_URL", "").strip().rstrip("/")
    if not url:
        pytest.fail("API_BASE_URL is not set (infra/test-all.sh exports it)")
    return url


def _login(base_url: str, email: str, password: str) -> dict[str, str]:
    response = requests.post(f"{base_url}/auth/login", json={"email": email, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture
def account(base_url: str) -> dict[str, str]:
    email = f"hardening-{uuid.uuid4().hex[:10]}@example.com"
    body = {"name": "Hardening", "email": email, "password": PASSWORD}
    registered = requests.post(f"{base_url}/auth/register", json=body, timeout=30)
    assert registered.status_code == 201, registered.text
    assert registered.headers.get("X-RateLimit-Limit"), "register carries the per-IP rate-limit headers"
    return {"email": email, **_login(base_url, email, PASSWORD)}


def test_rate_limit_headers_reach_the_client(base_url: str, account: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {account['accessToken']}"}
    first = requests.get(f"{base_url}/tasks", headers=headers, timeout=30)
    second = requests.get(f"{base_url}/tasks", headers=headers, timeout=30)
    assert first.status_code == second.status_code == 200
    limit = int(first.headers["X-RateLimit-Limit"])
    assert int(first.headers["X-RateLimit-Remaining"]) == limit - 1
    assert int(second.headers["X-RateLimit-Remaining"]) == limit - 2
    assert int(second.headers["X-RateLimit-Reset"]) > 0
    health = requests.get(f"{base_url}/health", timeout=30)
    assert "X-RateLimit-Limit" not in health.headers


def test_password_change_ends_sessions_through_the_api(base_url: str, account: dict[str, str]) -> None:
    old = {"Authorization": f"Bearer {account['accessToken']}"}
    assert requests.get(f"{base_url}/tasks", headers=old, timeout=30).status_code == 200  # Allow now cached
    change = {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}
    changed = requests.post(f"{base_url}/auth/password", json=change, headers=old, timeout=30)
    assert changed.status_code == 204, changed.text
    refused = requests.get(f"{base_url}/tasks", headers=old, timeout=30)
    assert refused.status_code == 401
    again = requests.post(f"{base_url}/auth/refresh", json={"refreshToken": account["refreshToken"]}, timeout=30)
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "SESSION_REVOKED"
    fresh = _login(base_url, account["email"], NEW_PASSWORD)
    new = {"Authorization": f"Bearer {fresh['accessToken']}"}
    assert requests.get(f"{base_url}/tasks", headers=new, timeout=30).status_code == 200

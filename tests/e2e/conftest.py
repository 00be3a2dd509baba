"""End-to-end tests: plain HTTP against the API deployed on the local stack (API_BASE_URL).

A missing URL, an API that does not answer or a missing signing-key file stops the run with a clear message:
these tests never skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from tests.support.http_api import Account, Api
from tests.support.lambda_events import ROOT


def _base_url() -> str:
    url = os.environ.get("API_BASE_URL", "").strip()
    if not url:
        pytest.exit("e2e tests cannot run: API_BASE_URL is not set (infra/test-all.sh exports it)", returncode=1)
    try:
        health = requests.get(f"{url.rstrip('/')}/health", timeout=60)
    except requests.RequestException as exc:
        pytest.exit(f"e2e tests cannot run: the API at {url} does not answer ({exc})", returncode=1)
    # 200 or 503 with the health report: anything else means the URL is not this API (stale id, wrong stage).
    if health.status_code not in (200, 503) or "dependencies" not in health.text:
        pytest.exit(
            f"e2e tests cannot run: {url}/health answered {health.status_code} {health.text[:200]!r}; "
            "is API_BASE_URL the deployed stack's URL?",
            returncode=1,
        )
    return url


BASE_URL = _base_url()


@pytest.fixture(scope="session")
def api() -> Api:
    return Api(BASE_URL)


@pytest.fixture(scope="session")
def jwt_secret() -> str:
    """The deployed stack's signing key (infra/deploy.sh writes it), needed to forge an expired but genuine token."""
    path = Path(os.environ.get("E2E_JWT_SECRET_FILE") or ROOT / ".local" / "jwt-secret")
    if not path.is_file() or not path.read_text().strip():
        pytest.fail(f"the deployed JWT secret is not at {path}; set E2E_JWT_SECRET_FILE or run infra/deploy.sh")
    return path.read_text().strip()


@pytest.fixture
def alice(api: Api) -> Account:
    return api.new_account("alice")


@pytest.fixture
def bob(api: Api) -> Account:
    return api.new_account("bob")

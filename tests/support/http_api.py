"""A thin `requests` client for the deployed API, plus the account set-up every e2e test starts from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from tests.support import unique

# Generous: a function's first call on MiniStack starts its interpreter (several seconds on two cores).
REQUEST_TIMEOUT_SECONDS = 60
PASSWORD = "e2e-password-123"


@dataclass
class Account:
    user_id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Api:
    """Requests against API_BASE_URL; never raises on a 4xx/5xx, so tests assert on status and body."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        data: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ) -> requests.Response:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return self.session.request(
            method,
            f"{self.base_url}{path}",
            json=json,
            data=data,
            headers=all_headers,
            params=params,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )

    def register(self, email: str, password: str = PASSWORD, name: str = "E2E User") -> requests.Response:
        return self.call("POST", "/auth/register", json={"name": name, "email": email, "password": password})

    def login(self, email: str, password: str = PASSWORD) -> requests.Response:
        return self.call("POST", "/auth/login", json={"email": email, "password": password})

    def new_account(self, tag: str = "user") -> Account:
        email = unique.email(tag)
        registered = self.register(email)
        assert registered.status_code == 201, registered.text
        logged_in = self.login(email)
        assert logged_in.status_code == 200, logged_in.text
        pair = logged_in.json()
        return Account(registered.json()["id"], email, PASSWORD, pair["accessToken"], pair["refreshToken"])

    def create_task(self, account: Account, **fields: Any) -> dict[str, Any]:
        response = self.call("POST", "/tasks", token=account.access_token, json={"title": "a task", **fields})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def create_project(self, owner: Account, name: str = "E2E project") -> str:
        """A new project of `owner`; its id."""
        created = self.call("POST", "/projects", token=owner.access_token, json={"name": name})
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    def join(self, owner: Account, project_id: str, invitee: Account, role: str = "member") -> None:
        """`owner` invites `invitee` as `role`; the invitee finds that one invitation in GET /invitations, accepts."""
        invited = self.call(
            "POST",
            f"/projects/{project_id}/invitations",
            token=owner.access_token,
            json={"email": invitee.email, "role": role},
        )
        assert invited.status_code == 202, invited.text
        listed = self.call("GET", "/invitations", token=invitee.access_token)
        assert listed.status_code == 200, listed.text
        (invitation,) = [item for item in listed.json()["items"] if item["projectId"] == project_id]
        accepted = self.call("POST", f"/invitations/{invitation['id']}/accept", token=invitee.access_token)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["role"] == role, accepted.text

    def create_project_task(self, account: Account, project_id: str, title: str, **fields: Any) -> dict[str, Any]:
        """A task in `project_id` created by `account` (a member); the created task."""
        body = {"title": title, "projectId": project_id, **fields}
        created = self.call("POST", "/tasks", token=account.access_token, json=body)
        assert created.status_code == 201, created.text
        return dict(created.json())


def assert_error(response: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The one error shape every failure uses: {"error": {"code", "message", "details"}}."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    return dict(error)

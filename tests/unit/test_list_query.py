"""The list routes' query strings, parsed by one declared model per route: strict counts, no unknown names."""

from __future__ import annotations

import json

import pytest

from infra.local_api import HttpRequest
from tests.support.api_client import ApiClient
from tests.unit.conftest import Account
from tests.unit.helpers import assert_error

LIST_ROUTES = ["/tasks", "/activity"]


def _fields(answer: object) -> list[tuple[str, str]]:
    error = assert_error(answer.json())  # type: ignore[attr-defined]
    assert error["code"] == "VALIDATION_ERROR", error
    return [(detail["location"], detail["field"]) for detail in error["details"]]


# Python's int() (and pydantic's lax int) read all of these as numbers; a query count is digits 0-9 only.
LAX_INTEGERS = {
    "plus-sign": "+5",
    "underscore": "1_0",
    "leading-space": " 5",
    "trailing-space": "5 ",
    "trailing-newline": "5\n",
    "decimal-point-zero": "5.0",
    "fullwidth-digit": "\uff15",
    "arabic-indic-digit": "\u0665",
    "superscript": "\u00b2",
    "comma-list": "1,2",
    "ten-digits": "0000000005",
    "huge": "9" * 5000,
}


@pytest.mark.parametrize("route", LIST_ROUTES)
@pytest.mark.parametrize("limit", LAX_INTEGERS.values(), ids=LAX_INTEGERS.keys())
def test_limit_is_refused_unless_it_is_plain_digits(client: ApiClient, caller: Account, route: str, limit: str) -> None:
    answer = client.get(route, token=caller.access_token, query={"limit": limit})
    assert answer.status_code == 400, answer.body
    assert _fields(answer) == [("query", "limit")]


@pytest.mark.parametrize("route", LIST_ROUTES)
@pytest.mark.parametrize("limit", ["1", "7", "100", "007"])
def test_limit_in_plain_digits_is_accepted(client: ApiClient, caller: Account, route: str, limit: str) -> None:
    answer = client.get(route, token=caller.access_token, query={"limit": limit})
    assert answer.status_code == 200, answer.body


UNKNOWN = {
    "typo": {"lmit": "5"},
    "snake-case-spelling": {"next_token": "x"},
    "other-case": {"Limit": "5"},
    "anything": {"foo": "bar"},
    "empty-name": {"": "x"},
    "non-ascii-name": {"\u00e9": "x"},
}


@pytest.mark.parametrize("route", LIST_ROUTES)
@pytest.mark.parametrize("query", UNKNOWN.values(), ids=UNKNOWN.keys())
def test_an_unknown_query_parameter_is_400_naming_it(
    client: ApiClient, caller: Account, route: str, query: dict[str, str]
) -> None:
    answer = client.get(route, token=caller.access_token, query={"limit": "5", **query})
    assert answer.status_code == 400, answer.body
    assert _fields(answer) == [("query", name) for name in query]
    assert assert_error(answer.json())["details"][0]["type"] == "extra_forbidden"


def test_every_unknown_parameter_is_named(client: ApiClient, caller: Account) -> None:
    answer = client.get("/tasks", token=caller.access_token, query={"zeta": "1", "alpha": "2", "limit": "3"})
    assert answer.status_code == 400, answer.body
    assert _fields(answer) == [("query", "alpha"), ("query", "zeta")]


def test_status_is_unknown_on_the_activity_feed(client: ApiClient, caller: Account) -> None:
    answer = client.get("/activity", token=caller.access_token, query={"status": "todo"})
    assert answer.status_code == 400, answer.body
    assert _fields(answer) == [("query", "status")]


@pytest.mark.parametrize("route", LIST_ROUTES)
@pytest.mark.parametrize("values", [["5", "6"], ["5", "5"]], ids=["different", "same"])
def test_a_parameter_given_twice_is_400(client: ApiClient, caller: Account, route: str, values: list[str]) -> None:
    """Powertools would take the first value and API Gateway's single-value map the last: neither is guessed."""
    response = client.gateway.handle(
        HttpRequest(
            method="GET",
            path=route,
            headers=[("Authorization", f"Bearer {caller.access_token}"), ("Host", "api.local")],
            query=[("limit", value) for value in values],
        )
    )
    assert response.status == 400, response.body
    error = assert_error(json.loads(response.body), "VALIDATION_ERROR")
    assert [(d["location"], d["field"], d["type"]) for d in error["details"]] == [
        ("query", "limit", "repeated_parameter")
    ]


def test_declared_parameters_together_are_accepted(client: ApiClient, caller: Account) -> None:
    answer = client.get("/tasks", token=caller.access_token, query={"status": "done", "limit": "3", "nextToken": ""})
    assert answer.status_code == 200, answer.body
    assert answer.json() == {"items": [], "nextToken": None}

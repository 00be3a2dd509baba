"""The authorizer's context (taskapp.auth.context): written by the authorizer, parsed once per request by the edge."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from taskapp.auth.context import AuthorizerContext, InvalidAuthorizerContext, delivered
from tests.support.api_client import ApiClient
from tests.support.lambda_events import ROOT, FakeLambdaContext, api_event, load_function, token_authorizer_event
from tests.support.tokens import mint_access_token
from tests.unit.conftest import JWT_SECRET, Account
from tests.unit.helpers import assert_error, authorizer_context_for, invoke

CALLER = AuthorizerContext("user-1", "jti-1", expires_at=1_900_000_000, session_id="session-1", session_generation=3)


def test_the_context_holds_only_what_api_gateway_accepts_under_the_agreed_keys() -> None:
    context = CALLER.to_context()
    assert context == {"userId": "user-1", "jti": "jti-1", "exp": 1_900_000_000, "sid": "session-1", "sgen": 3}
    assert all(isinstance(value, str | int | bool) for value in context.values())


@pytest.mark.parametrize("as_sent", [CALLER.to_context(), CALLER.delivered()], ids=["numbers", "strings"])
def test_from_context_reads_back_what_to_context_wrote_whether_values_arrive_as_strings_or_numbers(
    as_sent: dict[str, object],
) -> None:
    assert AuthorizerContext.from_context(as_sent) == CALLER


def test_api_gateway_delivers_every_value_as_a_string_and_booleans_in_lowercase() -> None:
    assert delivered({"n": 5, "yes": True, "no": False, "s": "x"}) == {"n": "5", "yes": "true", "no": "false", "s": "x"}


def test_only_the_user_id_is_required_the_rest_defaults_as_before() -> None:
    assert AuthorizerContext.from_context({"userId": "u"}) == AuthorizerContext("u", "", 0, "", 0)
    assert AuthorizerContext.from_context({"userId": "u", "exp": "", "sgen": ""}).expires_at == 0


@pytest.mark.parametrize(
    "context", [None, {}, {"userId": ""}, {"jti": "j"}, {"userId": "u", "exp": "soon"}, {"userId": "u", "sgen": "x"}]
)
def test_a_context_without_a_caller_or_with_malformed_values_is_refused(context: dict[str, str] | None) -> None:
    with pytest.raises(InvalidAuthorizerContext):
        AuthorizerContext.from_context(context)


@pytest.mark.usefixtures("fake_redis")
def test_the_authorizer_writes_the_context_of_the_token_it_verified() -> None:
    exp = int(time.time()) + 600
    token = mint_access_token(JWT_SECRET, sub="user-9", jti="jti-9", sid="session-9", exp=exp)
    event = token_authorizer_event(f"Bearer {token}")
    decision = load_function("authorizer").handler(event, FakeLambdaContext())
    assert AuthorizerContext.from_context(decision["context"]) == AuthorizerContext("user-9", "jti-9", exp, "session-9")


def test_the_context_module_loads_without_redis_or_jwt() -> None:
    """The edge, the in-process gateway and the benchmarks import it; none of them should pay for the auth stack."""
    probe = "import sys, taskapp.auth.context; print(sorted({'redis', 'jwt', 'bcrypt'} & set(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "shared")}
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_edge_parses_the_context_once_per_request(
    client: ApiClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rate limiter, the revocation guard and the handler all read the caller: one parse serves them."""
    parses: list[object] = []
    original = AuthorizerContext.from_context.__func__  # type: ignore[attr-defined]

    def counting(cls: type[AuthorizerContext], context: object) -> AuthorizerContext:
        parses.append(context)
        return original(cls, context)

    monkeypatch.setattr(AuthorizerContext, "from_context", classmethod(counting))
    answer = invoke("list_tasks", api_event("GET", "/tasks", authorizer=authorizer_context_for(alice.access_token)))
    assert answer.status_code == 200, answer.body
    assert len(parses) == 1


@pytest.mark.usefixtures("client")
def test_a_malformed_context_is_401_not_500() -> None:
    """Only a broken authorizer could send one; the edge treats it as no caller rather than crashing."""
    context = {"userId": "u", "jti": "j", "exp": "soon", "sid": "s", "principalId": "u"}
    answer = invoke("list_tasks", api_event("GET", "/tasks", authorizer=context))
    assert answer.status_code == 401
    assert_error(answer.body, "UNAUTHORIZED")

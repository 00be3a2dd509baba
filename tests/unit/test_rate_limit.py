"""Rate limits: per user on task routes, per IP on registration, failed logins per account (growing delay, never a
lasting lock) and per IP, refresh per session; all fail open. The policy is in taskapp.rate_limit's docstring."""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace
from typing import Any

import fakeredis
import pytest

from taskapp import rate_limit
from taskapp.rate_limit import RateLimitScope
from tests.support.api_client import ApiClient, ApiResponse
from tests.support.faults import Configure, DownRedis, settings_configurer, switch_redis
from tests.support.lambda_events import FakeLambdaContext, api_event, load_function
from tests.unit.helpers import assert_error, record_redis_round_trips

PASSWORD = "correct horse battery"
POLICY_VARIABLES = (
    "RATE_LIMIT_USER_PER_MINUTE",
    "RATE_LIMIT_WINDOW_SECONDS",
    "RATE_LIMIT_REGISTRATIONS_PER_IP",
    "RATE_LIMIT_REGISTRATION_WINDOW_SECONDS",
    "RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT",
    "RATE_LIMIT_LOGIN_FORGET_SECONDS",
    "RATE_LIMIT_LOGIN_DELAY_BASE_SECONDS",
    "RATE_LIMIT_LOGIN_DELAY_MAX_SECONDS",
    "RATE_LIMIT_LOGIN_FAILURES_PER_IP",
    "RATE_LIMIT_LOGIN_IP_WINDOW_SECONDS",
    "RATE_LIMIT_REFRESHES_PER_SESSION",
    "RATE_LIMIT_REFRESH_WINDOW_SECONDS",
)


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Configure:
    return settings_configurer(monkeypatch, request)


def _signed_in(client: ApiClient) -> str:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    assert (
        client.post("/auth/register", json_body={"name": "R", "email": email, "password": PASSWORD}).status_code == 201
    )
    response = client.post("/auth/login", json_body={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.body
    return str(response.json()["accessToken"])


def _header(response: ApiResponse | dict[str, Any], name: str) -> str | None:
    if isinstance(response, ApiResponse):
        headers: dict[str, Any] = response.headers
    else:
        headers = {**(response.get("headers") or {}), **(response.get("multiValueHeaders") or {})}
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def _login_from(ip: str) -> dict[str, Any]:
    event = api_event("POST", "/auth/login", body={"email": "nobody@example.com", "password": "wrong password!"})
    event["requestContext"]["identity"]["sourceIp"] = ip
    result: dict[str, Any] = load_function("login").handler(event, FakeLambdaContext("login"))
    return result


# --- the limiter itself ---------------------------------------------------------------------------------------


def test_allows_up_to_the_limit_then_refuses_with_retry_after(
    fake_redis: fakeredis.FakeRedis, configure: Configure
) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=3, RATE_LIMIT_WINDOW_SECONDS=60)
    start = 1_800_000_000.0
    decisions = [rate_limit.hit(RateLimitScope.USER, "u1", now=start + i) for i in range(4)]
    assert all(d is not None for d in decisions)
    assert [d.allowed for d in decisions if d] == [True, True, True, False]
    assert [d.remaining for d in decisions if d] == [2, 1, 0, 0]
    refused = decisions[3]
    assert refused is not None
    # the oldest request (at `start`) leaves the window at start + 60: that is when one more is allowed
    assert refused.reset_at == start + 60
    assert refused.retry_after_seconds == 57
    assert refused.headers() == {
        "X-RateLimit-Limit": "3",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(start + 60)),
        "Retry-After": "57",
    }


def test_window_slides_and_refusals_are_not_counted(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=2, RATE_LIMIT_WINDOW_SECONDS=60)
    start = 1_800_000_000.0
    first = rate_limit.hit(RateLimitScope.USER, "u1", now=start)
    second = rate_limit.hit(RateLimitScope.USER, "u1", now=start + 30)
    assert first and first.allowed and second and second.allowed
    for offset in (31, 40, 59):  # hammering while refused must not push the window further out
        refused = rate_limit.hit(RateLimitScope.USER, "u1", now=start + offset)
        assert refused is not None and not refused.allowed
    after_first_left = rate_limit.hit(RateLimitScope.USER, "u1", now=start + 60.5)
    assert after_first_left is not None and after_first_left.allowed
    assert after_first_left.remaining == 0  # the request at +30 is still inside the window
    refused_again = rate_limit.hit(RateLimitScope.USER, "u1", now=start + 61)
    assert refused_again is not None and not refused_again.allowed
    assert refused_again.reset_at == start + 90


def test_scopes_and_identities_have_separate_windows(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=1, RATE_LIMIT_REGISTRATIONS_PER_IP=1, RATE_LIMIT_REFRESHES_PER_SESSION=1)
    now = 1_800_000_000.0
    for scope, identity in [
        (RateLimitScope.USER, "a"),
        (RateLimitScope.USER, "b"),
        (RateLimitScope.REGISTRATION, "a"),
        (RateLimitScope.REFRESH, "a"),
    ]:
        decision = rate_limit.hit(scope, identity, now=now)
        assert decision is not None and decision.allowed, (scope, identity)
    again = rate_limit.hit(RateLimitScope.USER, "a", now=now)
    assert again is not None and not again.allowed


def test_zero_disables_the_limit(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=0)
    assert rate_limit.hit(RateLimitScope.USER, "u1") is None
    assert not fake_redis.keys("ratelimit:*")


def test_window_key_expires_with_the_window(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=5, RATE_LIMIT_WINDOW_SECONDS=60)
    rate_limit.hit(RateLimitScope.USER, "u1")
    ttl_ms = fake_redis.pttl("ratelimit:user:u1")
    assert 0 < ttl_ms <= 60_000


def test_fails_open_when_redis_is_down(monkeypatch: pytest.MonkeyPatch, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=1)
    down = DownRedis()
    switch_redis(monkeypatch, down)
    assert rate_limit.hit(RateLimitScope.USER, "u1") is None
    assert down.attempts >= 1


def test_hit_and_read_counts_once_and_reads_the_keys(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=3, RATE_LIMIT_WINDOW_SECONDS=60)
    fake_redis.set("present", "1")
    start = 1_800_000_000.0
    # The first call finds no script in a fresh Redis (NOSCRIPT) and counts through `hit`; the second is pipelined.
    results = [rate_limit.hit_and_read(RateLimitScope.USER, "u1", ["present", "absent"], now=start + i) for i in (0, 1)]
    assert [decision.remaining for decision, _ in results if decision] == [2, 1]
    assert [values for _, values in results] == [["1", None], ["1", None]]
    mixed = [rate_limit.hit(RateLimitScope.USER, "u1", now=start + 2)]  # the same window as `hit` counts in
    assert [d.allowed for d in mixed if d] == [True]
    refused, _ = rate_limit.hit_and_read(RateLimitScope.USER, "u1", ["present"], now=start + 3)
    assert refused is not None and not refused.allowed and refused.retry_after_seconds == 57


def test_hit_and_read_is_one_round_trip_once_redis_has_the_script(
    fake_redis: fakeredis.FakeRedis, configure: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=5)
    rate_limit.hit(RateLimitScope.USER, "u1")  # loads the script, as the first request of a fresh Redis does
    trips = record_redis_round_trips(monkeypatch, fake_redis)
    decision, values = rate_limit.hit_and_read(RateLimitScope.USER, "u1", ["k1", "k2", "k3"])
    assert decision is not None and decision.remaining == 3
    assert values == [None, None, None]
    assert trips == ["pipeline"]


def test_hit_and_read_counts_once_after_redis_lost_its_scripts(
    fake_redis: fakeredis.FakeRedis, configure: Configure
) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=5)
    rate_limit.hit(RateLimitScope.USER, "u1")
    fake_redis.script_flush()  # what a Redis restart or failover does to the scripts, not to the keys
    decision, values = rate_limit.hit_and_read(RateLimitScope.USER, "u1", ["k"])
    assert decision is not None and decision.remaining == 3  # counted once: the EVALSHA that failed counted nothing
    assert values == [None]


def test_hit_and_read_fails_open_and_reads_nothing_when_redis_is_down(
    monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=1)
    down = DownRedis()
    switch_redis(monkeypatch, down)
    assert rate_limit.hit_and_read(RateLimitScope.USER, "u1", ["k"]) == (None, None)
    assert down.attempts >= 1


def test_a_disabled_limit_leaves_the_read_to_the_caller(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=0)
    assert rate_limit.hit_and_read(RateLimitScope.USER, "u1", ["k"]) == (None, None)


# --- through the API ------------------------------------------------------------------------------------------


def test_task_routes_are_limited_per_user_with_headers(client: ApiClient, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=3)
    ann, bob = _signed_in(client), _signed_in(client)
    responses = [client.get("/tasks", token=ann) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [_header(r, "X-RateLimit-Remaining") for r in responses] == ["2", "1", "0"]
    assert all(_header(r, "X-RateLimit-Limit") == "3" and _header(r, "X-RateLimit-Reset") for r in responses)

    limited = client.post("/tasks", json_body={"title": "one too many"}, token=ann)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert int(_header(limited, "Retry-After") or 0) >= 1
    assert _header(limited, "X-RateLimit-Remaining") == "0"
    assert client.get("/tasks", token=bob).status_code == 200  # another user has their own window


def test_error_responses_also_carry_the_headers(client: ApiClient, configure: Configure) -> None:
    configure(RATE_LIMIT_USER_PER_MINUTE=5)
    token = _signed_in(client)
    missing = client.get(f"/tasks/{uuid.uuid4()}", token=token)
    assert missing.status_code == 404
    assert _header(missing, "X-RateLimit-Remaining") == "4"


def test_failed_logins_are_limited_per_client_ip(
    aws: None, fake_redis: fakeredis.FakeRedis, configure: Configure
) -> None:
    configure(RATE_LIMIT_LOGIN_FAILURES_PER_IP=2)
    statuses = [_login_from("203.0.113.7")["statusCode"] for _ in range(3)]
    assert statuses == [401, 401, 429]
    refused = _login_from("203.0.113.7")
    assert _header(refused, "Retry-After") is not None
    assert _header(refused, "X-RateLimit-Limit") == "2"
    assert _login_from("198.51.100.1")["statusCode"] == 401  # another client is unaffected


def test_registrations_are_limited_per_client_ip(client: ApiClient, configure: Configure) -> None:
    configure(RATE_LIMIT_REGISTRATIONS_PER_IP=2)

    def register(ip: str) -> ApiResponse:
        body = {"name": "R", "email": f"{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
        return client.post("/auth/register", json_body=body, source_ip=ip)

    assert [register("203.0.113.9").status_code for _ in range(2)] == [201, 201]
    refused = register("203.0.113.9")
    assert refused.status_code == 429
    assert_error(refused.json(), "RATE_LIMITED")
    assert int(_header(refused, "Retry-After") or 0) > 3500  # the window is an hour
    assert register("198.51.100.2").status_code == 201


def test_register_login_and_refresh_no_longer_share_one_limit(client: ApiClient, configure: Configure) -> None:
    """The old policy counted these three routes in one window per IP; now each has its own, and a successful
    login counts against nothing."""
    configure(RATE_LIMIT_REGISTRATIONS_PER_IP=1, RATE_LIMIT_LOGIN_FAILURES_PER_IP=1, RATE_LIMIT_REFRESHES_PER_SESSION=1)
    credentials = {"email": "ip@example.com", "password": PASSWORD}
    assert client.post("/auth/register", json_body={"name": "R", **credentials}).status_code == 201
    first, second = (client.post("/auth/login", json_body=credentials) for _ in range(2))
    assert (first.status_code, second.status_code) == (200, 200)
    assert client.post("/auth/refresh", json_body={"refreshToken": first.json()["refreshToken"]}).status_code == 200
    assert client.post("/auth/refresh", json_body={"refreshToken": second.json()["refreshToken"]}).status_code == 200
    wrong = {**credentials, "password": "not the password"}
    assert [client.post("/auth/login", json_body=wrong).status_code for _ in range(2)] == [401, 429]


def test_health_is_not_rate_limited(client: ApiClient, configure: Configure) -> None:
    configure(RATE_LIMIT_REGISTRATIONS_PER_IP=1, RATE_LIMIT_LOGIN_FAILURES_PER_IP=1, RATE_LIMIT_USER_PER_MINUTE=1)
    assert [client.get("/health").status_code for _ in range(3)] == [200, 200, 200]


def test_login_still_works_when_the_limiter_is_down(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch, configure: Configure
) -> None:
    configure(RATE_LIMIT_LOGIN_FAILURES_PER_IP=1, RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT=1)
    email = "open@example.com"
    assert (
        client.post("/auth/register", json_body={"name": "O", "email": email, "password": PASSWORD}).status_code == 201
    )
    switch_redis(monkeypatch, DownRedis())
    for _ in range(3):  # over the limit, but the limiter cannot count: fail open
        response = client.post("/auth/login", json_body={"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.body
        assert _header(response, "X-RateLimit-Limit") is None


def test_defaults_match_the_documented_policy(monkeypatch: pytest.MonkeyPatch, configure: Configure) -> None:
    """docs/hardening.md and template.yaml state these numbers; the settings' own defaults are the same."""
    from taskapp.settings import login_limit_settings, rate_limit_settings

    for name in POLICY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    configure()
    settings, login = rate_limit_settings(), login_limit_settings()
    assert (settings.rate_limit_user_per_minute, settings.rate_limit_window_seconds) == (100, 60)
    assert (settings.rate_limit_registrations_per_ip, settings.rate_limit_registration_window_seconds) == (50, 3600)
    assert login.rate_limit_login_failures_per_account == 5
    assert login.rate_limit_login_forget_seconds == 900
    assert (login.rate_limit_login_delay_base_seconds, login.rate_limit_login_delay_max_seconds) == (30, 900)
    assert (login.rate_limit_login_failures_per_ip, login.rate_limit_login_ip_window_seconds) == (100, 900)
    assert (settings.rate_limit_refreshes_per_session, settings.rate_limit_refresh_window_seconds) == (10, 60)


def test_template_parameters_default_to_the_same_numbers() -> None:
    from tests.support.api_client import load_template

    template = load_template()
    # Each function sets the variables it reads (tests/unit/test_settings_per_function.py): look at all of them.
    functions = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    environment = {
        name: value
        for props in functions
        for name, value in ((props.get("Environment") or {}).get("Variables") or {}).items()
    }
    parameters = template["Parameters"]
    defaults = {
        "RATE_LIMIT_USER_PER_MINUTE": 100,
        "RATE_LIMIT_REGISTRATIONS_PER_IP": 50,
        "RATE_LIMIT_REGISTRATION_WINDOW_SECONDS": 3600,
        "RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT": 5,
        "RATE_LIMIT_LOGIN_FORGET_SECONDS": 900,
        "RATE_LIMIT_LOGIN_DELAY_BASE_SECONDS": 30,
        "RATE_LIMIT_LOGIN_DELAY_MAX_SECONDS": 900,
        "RATE_LIMIT_LOGIN_FAILURES_PER_IP": 100,
        "RATE_LIMIT_LOGIN_IP_WINDOW_SECONDS": 900,
        "RATE_LIMIT_REFRESHES_PER_SESSION": 10,
        "RATE_LIMIT_REFRESH_WINDOW_SECONDS": 60,
    }
    for variable, default in defaults.items():
        reference = environment[variable]
        assert isinstance(reference, dict) and "Ref" in reference, f"{variable} must come from a template parameter"
        assert parameters[reference["Ref"]]["Default"] == default, variable


# --- the login policy itself ----------------------------------------------------------------------------------

START = 1_800_000_000.0


def _fail_login(email: str, ip: str, now: float) -> rate_limit.LoginAdmission:
    """One attempt with a wrong password: admitted (and so counted) or refused."""
    return rate_limit.admit_login(email, ip, now=now)


@pytest.fixture
def defaults(monkeypatch: pytest.MonkeyPatch, configure: Configure) -> Configure:
    """The documented policy: the unit suite's generous limits removed."""
    for name in POLICY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    configure()
    return configure


def test_five_failures_are_free_then_each_attempt_waits_twice_as_long(
    fake_redis: fakeredis.FakeRedis, defaults: Configure
) -> None:
    now = START
    for _ in range(5):
        assert _fail_login("ann@example.com", "192.0.2.1", now).admitted
    waits = []
    for _ in range(7):
        refused = _fail_login("ann@example.com", "192.0.2.1", now)
        assert not refused.admitted and refused.refused_by is rate_limit.LoginLimit.ACCOUNT
        waits.append(refused.retry_after_seconds)
        now = refused.retry_at  # the first moment the next attempt is admitted
        assert _fail_login("ann@example.com", "192.0.2.1", now).admitted
    assert waits == [30, 60, 120, 240, 480, 900, 900]  # doubling, and never more than 15 minutes


def test_attempts_during_the_wait_are_refused_without_being_counted(
    fake_redis: fakeredis.FakeRedis, defaults: Configure
) -> None:
    for i in range(5):
        _fail_login("ann@example.com", "192.0.2.1", START + i)
    for offset in (5, 10, 20, 33):  # hammering while refused neither extends the wait nor counts
        refused = _fail_login("ann@example.com", "192.0.2.1", START + offset)
        assert not refused.admitted and refused.retry_at == START + 4 + 30
    assert _fail_login("ann@example.com", "192.0.2.1", START + 34).admitted


def test_a_correct_password_resets_the_count(fake_redis: fakeredis.FakeRedis, defaults: Configure) -> None:
    for i in range(4):
        _fail_login("ann@example.com", "192.0.2.1", START + i)
    rate_limit.admit_login("ann@example.com", "192.0.2.1", now=START + 5).succeeded()
    for i in range(5):
        assert _fail_login("ann@example.com", "192.0.2.1", START + 10 + i).admitted, i
    assert not _fail_login("ann@example.com", "192.0.2.1", START + 15).admitted


def test_failures_are_forgotten_a_quarter_hour_after_the_wait(
    fake_redis: fakeredis.FakeRedis, defaults: Configure
) -> None:
    for i in range(5):
        _fail_login("ann@example.com", "192.0.2.1", START + i)
    key = rate_limit.account_key("ann@example.com")
    assert (900 + 30 - 1) * 1000 < fake_redis.pttl(key) <= (900 + 30) * 1000  # forget period + the delay owed
    assert set(fake_redis.hkeys(key)) == {"n", "last"}  # a count and a time: no email, no address
    assert "ann@example.com" not in key


def test_the_ip_ceiling_counts_failures_over_all_accounts_and_never_successes(
    fake_redis: fakeredis.FakeRedis, defaults: Configure
) -> None:
    for i in range(100):
        assert _fail_login(f"user{i}@example.com", "192.0.2.1", START + i).admitted, i
    for i in range(30):  # successes neither count nor are refused before the ceiling
        assert rate_limit.admit_login(f"ok{i}@example.com", "192.0.2.2", now=START + 100).admitted
        rate_limit.admit_login(f"ok{i}@example.com", "192.0.2.2", now=START + 100).succeeded()
    refused = _fail_login("someone@example.com", "192.0.2.1", START + 100)
    assert not refused.admitted and refused.refused_by is rate_limit.LoginLimit.CLIENT_IP
    assert refused.retry_at == START + 900  # when the oldest failure leaves the 15-minute window
    assert refused.headers() == {
        "X-RateLimit-Limit": "100",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(START + 900)),
        "Retry-After": "800",
    }
    assert _fail_login("someone@example.com", "192.0.2.1", START + 900).admitted
    assert _fail_login("someone@example.com", "192.0.2.2", START + 100).admitted  # another address


def test_a_refused_ip_does_not_count_against_the_account(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_LOGIN_FAILURES_PER_IP=1, RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT=2)
    assert _fail_login("ann@example.com", "192.0.2.1", START).admitted
    for _ in range(5):
        assert not _fail_login("ann@example.com", "192.0.2.1", START).admitted
    assert _fail_login("ann@example.com", "192.0.2.9", START).admitted  # the account's 2nd failure, not its 7th


def test_zero_disables_the_login_limits(fake_redis: fakeredis.FakeRedis, configure: Configure) -> None:
    configure(RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT=0, RATE_LIMIT_LOGIN_FAILURES_PER_IP=0)
    assert all(_fail_login("ann@example.com", "192.0.2.1", START).admitted for _ in range(20))
    assert not fake_redis.keys("ratelimit:*")


def test_the_login_limits_fail_open_when_redis_is_down(monkeypatch: pytest.MonkeyPatch, defaults: Configure) -> None:
    down = DownRedis()
    switch_redis(monkeypatch, down)
    admission = rate_limit.admit_login("ann@example.com", "192.0.2.1")
    assert admission.admitted
    admission.succeeded()  # nothing to forget, and no error
    assert down.attempts >= 1


# --- through the API: an office, a guesser, a page that refreshes ----------------------------------------------


def _clock(monkeypatch: pytest.MonkeyPatch, start: float) -> list[float]:
    """The limiter's clock, moved by the test: `clock[0] += 60`."""
    clock = [start]
    monkeypatch.setattr(rate_limit, "time", SimpleNamespace(time=lambda: clock[0]))
    return clock


def _register(client: ApiClient, email: str, ip: str = "127.0.0.1") -> None:
    body = {"name": "Colleague", "email": email, "password": PASSWORD}
    response = client.post("/auth/register", json_body=body, source_ip=ip)
    assert response.status_code == 201, response.body


def test_eleven_colleagues_behind_one_address_all_sign_in_within_a_minute(
    client: ApiClient, defaults: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The office NAT case: the old 10-per-minute-per-IP window refused the eleventh. Each colleague mistypes once
    first, and each one's page then refreshes its token: none of it counts against the others."""
    office = "198.51.100.20"
    clock = _clock(monkeypatch, time.time())
    emails = [f"colleague{i}@example.com" for i in range(11)]
    for email in emails:
        _register(client, email, office)
    for email in emails:
        clock[0] += 2  # eleven sign-ins spread over 22 seconds
        mistyped = {"email": email, "password": "correct horse batery"}
        typo = client.post("/auth/login", json_body=mistyped, source_ip=office)
        assert typo.status_code == 401, typo.body
        signed_in = client.post("/auth/login", json_body={"email": email, "password": PASSWORD}, source_ip=office)
        assert signed_in.status_code == 200, signed_in.body
        refreshed = client.post(
            "/auth/refresh", json_body={"refreshToken": signed_in.json()["refreshToken"]}, source_ip=office
        )
        assert refreshed.status_code == 200, refreshed.body


def test_a_guesser_rotating_forwarded_addresses_is_stopped_and_the_owner_gets_back_in(
    client: ApiClient, defaults: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MiniStack takes `sourceIp` from the first X-Forwarded-For entry: each guess claims a new address. The
    per-account rule holds anyway, and the lock it causes ends: after the wait the owner's password works."""
    owner = "victim@example.com"
    _register(client, owner)
    clock = _clock(monkeypatch, time.time())
    answers = []
    for i in range(60):
        guess = {"email": owner, "password": f"guess-number-{i:03d}"}
        answers.append(client.post("/auth/login", json_body=guess, source_ip=f"203.0.113.{i + 1}"))
        clock[0] += 0.5
    statuses = [answer.status_code for answer in answers]
    assert statuses == [401] * 5 + [429] * 55  # five guesses checked in 30 s, then none
    refused = answers[-1]
    assert_error(refused.json(), "RATE_LIMITED")
    retry_after = int(_header(refused, "Retry-After") or 0)
    assert 0 < retry_after <= 30
    assert refused.json()["error"]["details"]["retryAfterSeconds"] == retry_after

    right = {"email": owner, "password": PASSWORD}
    assert client.post("/auth/login", json_body=right, source_ip="192.0.2.50").status_code == 429  # still waiting
    clock[0] += retry_after
    assert client.post("/auth/login", json_body=right, source_ip="192.0.2.50").status_code == 200
    # ... and the success wiped the guesser's progress: five fresh failures before the next wait
    wrong = {"email": owner, "password": "yet another guess"}
    assert [client.post("/auth/login", json_body=wrong).status_code for _ in range(6)] == [401] * 5 + [429]


def test_a_throttled_login_looks_the_same_for_unknown_and_known_emails(
    client: ApiClient, defaults: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(client, "known@example.com")
    _clock(monkeypatch, START)
    answers = {}
    for email in ("known@example.com", "unknown@example.com"):
        for _ in range(5):
            client.post("/auth/login", json_body={"email": email, "password": "wrong password"})
        answers[email] = client.post("/auth/login", json_body={"email": email, "password": "wrong password"})
    known, unknown = answers["known@example.com"], answers["unknown@example.com"]
    assert known.status_code == unknown.status_code == 429
    assert known.json() == unknown.json()
    assert _header(known, "Retry-After") == _header(unknown, "Retry-After") == "30"


def test_refresh_is_limited_per_session_not_per_address(
    client: ApiClient, defaults: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(client, "tabs@example.com")
    credentials = {"email": "tabs@example.com", "password": PASSWORD}
    busy = client.post("/auth/login", json_body=credentials).json()["refreshToken"]
    quiet = client.post("/auth/login", json_body=credentials).json()["refreshToken"]
    clock = _clock(monkeypatch, time.time())
    for _ in range(10):
        answer = client.post("/auth/refresh", json_body={"refreshToken": busy})
        assert answer.status_code == 200, answer.body
        busy = answer.json()["refreshToken"]
        clock[0] += 1
    limited = client.post("/auth/refresh", json_body={"refreshToken": busy})
    assert limited.status_code == 429
    assert_error(limited.json(), "RATE_LIMITED")
    assert _header(limited, "Retry-After") == "50"  # the first of the ten leaves the minute's window
    assert client.post("/auth/refresh", json_body={"refreshToken": quiet}).status_code == 200  # same user, same IP
    clock[0] += 50
    assert client.post("/auth/refresh", json_body={"refreshToken": busy}).status_code == 200  # not rotated by the 429


def test_a_replayed_refresh_token_ends_its_session_even_while_the_session_is_throttled(
    client: ApiClient, configure: Configure
) -> None:
    configure(RATE_LIMIT_REFRESHES_PER_SESSION=1)
    _register(client, "replay@example.com")
    stolen = client.post("/auth/login", json_body={"email": "replay@example.com", "password": PASSWORD}).json()
    rotated = client.post("/auth/refresh", json_body={"refreshToken": stolen["refreshToken"]}).json()
    replay = client.post("/auth/refresh", json_body={"refreshToken": stolen["refreshToken"]})
    assert replay.status_code == 401
    assert_error(replay.json(), "REFRESH_TOKEN_REUSED")
    assert client.post("/auth/refresh", json_body={"refreshToken": rotated["refreshToken"]}).status_code == 401

"""benchmarks/refused_token.py's token series: each says what it claims to the real verifier."""

from __future__ import annotations

import pytest

from benchmarks import refused_token
from tests.support.tokens import mint_access_token
from tests.unit.conftest import JWT_SECRET


def test_the_series_tokens_are_what_their_names_say() -> None:
    from taskapp.auth.tokens import InvalidToken, verify_access_token

    login = mint_access_token(JWT_SECRET, sub="user-1", sid="session-1")
    factories = refused_token.token_factories(login, JWT_SECRET)

    assert factories[refused_token.ACCEPTED_CACHED]() == login
    fresh = [factories[refused_token.ACCEPTED_FRESH]() for _ in range(2)]
    claims = [verify_access_token(token) for token in fresh]
    assert {(c.user_id, c.session_id) for c in claims} == {("user-1", "session-1")}
    assert claims[0].jti != claims[1].jti  # a new token each time: never the authorizer's cached decision
    with pytest.raises(InvalidToken, match="expired"):
        verify_access_token(factories[refused_token.REFUSED_EXPIRED]())
    garbage = factories[refused_token.REFUSED_GARBAGE]
    assert garbage() != garbage()


def test_without_the_signing_key_only_the_two_keyless_series_run() -> None:
    names = set(refused_token.token_factories(mint_access_token(JWT_SECRET), None))
    assert names == {refused_token.ACCEPTED_CACHED, refused_token.REFUSED_GARBAGE}


def test_the_report_states_the_verdict() -> None:
    row = {"n": 3, "p50_ms": 10.0, "p95_ms": 12.0, "max_ms": 13.0}
    report = {
        "measured_at": "now",
        "base_url": "http://x",
        "rounds": 3,
        "warmup_rounds": 1,
        "load_average": [1.0, 1.0],
        "series": {refused_token.ACCEPTED_FRESH: row, refused_token.REFUSED_GARBAGE: {**row, "p50_ms": 25.0}},
        "compared_with": refused_token.ACCEPTED_FRESH,
        "refused_over_accepted_p50": {refused_token.REFUSED_GARBAGE: 2.5},
        "goal_ratio": 2.0,
        "goal_met": False,
    }
    assert "2.5x" in refused_token.markdown(report) and "**not met**" in refused_token.markdown(report)

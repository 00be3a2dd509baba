"""Policy decisions of the Lambda authorizer, kept apart from the handler so tests can call them directly.

A token that is missing, garbled, forged, expired or revoked gets an explicit Deny (the reason in its context), not
the "Unauthorized" error: an invocation that raises costs the worker on MiniStack (the next request is a cold start)
and an error on AWS, while a Deny is an ordinary answer, cached like an Allow. API Gateway answers a Deny with its
ACCESS_DENIED gateway response, which template.yaml maps to the same 401 UNAUTHORIZED body a missing token gets, so
clients see no difference. Only a decision that cannot be made (Redis down: the revocation check fails closed) still
raises "Unauthorized": that refusal is transient and must not be cached for the token's whole cache TTL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    parse_api_gateway_arn,
)

from taskapp.auth.context import AuthorizerContext
from taskapp.auth.revocation import RevocationStoreUnavailable, is_token_revoked
from taskapp.auth.tokens import AccessClaims, InvalidToken, verify_access_token
from taskapp.observability import logger, metrics

# API Gateway turns exactly this error message into a 401 response.
UNAUTHORIZED = "Unauthorized"
# The principal of a Deny: nobody was identified.
ANONYMOUS = "anonymous"


class AuthorizerRejected(Exception):
    """The token is refused for `reason`; its message is the one API Gateway maps to 401 when it is raised."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(UNAUTHORIZED)
        self.reason = reason
        self.transient = transient


def bearer_token(header: str | None) -> str:
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthorizerRejected("missing bearer token")
    return token.strip()


def verified_caller(token_source: Callable[[], str]) -> AccessClaims:
    """The token's claims if it is genuine, unexpired and not revoked; otherwise AuthorizerRejected (logged)."""
    try:
        claims = verify_access_token(token_source())
        if is_token_revoked(claims.jti, claims.user_id, claims.session_generation, claims.session_id):
            raise AuthorizerRejected("token revoked")
    except InvalidToken as exc:
        _reject(f"invalid token: {exc}")
    except RevocationStoreUnavailable:
        # Fail closed: a revoked token must never pass because Redis could not be asked.
        _reject("revocation store unavailable", transient=True)
    except AuthorizerRejected as exc:
        _reject(exc.reason)
    return claims


def caller_context(claims: AccessClaims) -> dict[str, Any]:
    return AuthorizerContext(
        user_id=claims.user_id,
        jti=claims.jti,
        expires_at=claims.expires_at,
        session_id=claims.session_id,
        session_generation=claims.session_generation,
    ).to_context()


def authorize(authorization_header: str | None, method_arn: str) -> dict[str, Any]:
    """Allow every route of this API stage (so the cached decision is reusable) with the caller in the context;
    a refused token gets a Deny of every route, with the reason in the context. Raises AuthorizerRejected only when
    no decision can be made (the revocation store is unavailable)."""
    try:
        claims = verified_caller(lambda: bearer_token(authorization_header))
    except AuthorizerRejected as exc:
        if exc.transient:
            raise
        return _stage_policy(ANONYMOUS, method_arn, {"reason": exc.reason}, allow=False)
    metrics.add_metric(name="AuthorizerAllow", unit=MetricUnit.Count, value=1)
    return _stage_policy(claims.user_id, method_arn, caller_context(claims), allow=True)


def _stage_policy(principal_id: str, method_arn: str, context: dict[str, Any], *, allow: bool) -> dict[str, Any]:
    """A policy over every method and path of the stage: cached per token, it answers any route the same way."""
    arn = parse_api_gateway_arn(method_arn)
    policy = APIGatewayAuthorizerResponse(
        principal_id=principal_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=context,
    )
    if allow:
        policy.allow_all_routes()
    else:
        policy.deny_all_routes()
    return policy.asdict()


def _reject(reason: str, *, transient: bool = False) -> NoReturn:
    logger.info("request not authorized", extra={"reason": reason})
    metrics.add_metric(name="AuthorizerReject", unit=MetricUnit.Count, value=1)
    raise AuthorizerRejected(reason, transient=transient)


def authorize_socket(token: str | None, method_arn: str) -> dict[str, Any]:
    """The WebSocket API's $connect REQUEST authorizer: the same token checks as the REST authorizer.

    A refused token gets an explicit Deny (403 at the handshake) rather than the "Unauthorized" error: API Gateway
    answers that with 401, but MiniStack 1.5.33 turns any authorizer error into a 500, and a Deny reads the same on
    both."""
    try:
        claims = verified_caller(lambda: (token or "").strip() or _missing_token())
    except AuthorizerRejected:
        return {
            "principalId": "anonymous",
            "policyDocument": _policy("Deny", method_arn),
        }
    metrics.add_metric(name="SocketAuthorizerAllow", unit=MetricUnit.Count, value=1)
    return {
        "principalId": claims.user_id,
        "policyDocument": _policy("Allow", method_arn),
        "context": caller_context(claims),
    }


def _missing_token() -> str:
    raise AuthorizerRejected("missing token")


def _policy(effect: str, method_arn: str) -> dict[str, Any]:
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}
    return {"Version": "2012-10-17", "Statement": [statement]}

"""Policy decisions of the Lambda authorizer, kept apart from the handler so tests can call them directly."""

from __future__ import annotations

from typing import Any, NoReturn

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    parse_api_gateway_arn,
)

from taskapp.auth.context import AuthorizerContext
from taskapp.auth.revocation import RevocationStoreUnavailable, is_token_revoked
from taskapp.auth.tokens import InvalidToken, verify_access_token
from taskapp.observability import logger, metrics

# API Gateway turns exactly this error message into a 401 response.
UNAUTHORIZED = "Unauthorized"


class AuthorizerRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(UNAUTHORIZED)
        self.reason = reason


def bearer_token(header: str | None) -> str:
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthorizerRejected("missing bearer token")
    return token.strip()


def authorize(authorization_header: str | None, method_arn: str) -> dict[str, Any]:
    """Allow every route of this API stage (so the cached decision is reusable) with the caller in the context."""
    try:
        claims = verify_access_token(bearer_token(authorization_header))
        if is_token_revoked(claims.jti, claims.user_id, claims.session_generation, claims.session_id):
            raise AuthorizerRejected("token revoked")
    except InvalidToken as exc:
        _reject(f"invalid token: {exc}")
    except RevocationStoreUnavailable:
        # Fail closed: a revoked token must never pass because Redis could not be asked.
        _reject("revocation store unavailable")
    except AuthorizerRejected as exc:
        _reject(exc.reason)

    arn = parse_api_gateway_arn(method_arn)
    policy = APIGatewayAuthorizerResponse(
        principal_id=claims.user_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=AuthorizerContext(
            user_id=claims.user_id,
            jti=claims.jti,
            expires_at=claims.expires_at,
            session_id=claims.session_id,
            session_generation=claims.session_generation,
        ).to_context(),
    )
    policy.allow_all_routes()
    metrics.add_metric(name="AuthorizerAllow", unit=MetricUnit.Count, value=1)
    return policy.asdict()


def _reject(reason: str) -> NoReturn:
    logger.info("request not authorized", extra={"reason": reason})
    metrics.add_metric(name="AuthorizerReject", unit=MetricUnit.Count, value=1)
    raise AuthorizerRejected(reason)

"""The idempotency table: Powertools' DynamoDB persistence layer, built once per execution environment.

Table: hash `id` (Powertools' `<route>#<hash of key and caller>`), `expiration` epoch seconds with DynamoDB TTL on
it, plus Powertools' own status, response and validation attributes. Only the create functions have the table's
name (IDEMPOTENCY_TABLE) and its IAM.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from taskapp.settings import dynamodb_settings, idempotency_settings, runtime_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

KEY_ATTRIBUTE = "id"
EXPIRY_ATTRIBUTE = "expiration"


class IdempotencyNotConfigured(Exception):
    """A route asked for idempotency in a function deployed without IDEMPOTENCY_TABLE."""


@lru_cache(maxsize=1)
def persistence_layer() -> DynamoDBPersistenceLayer:
    """Imported and built on the first request that sends Idempotency-Key: requests without it never pay for it."""
    import boto3
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
    from botocore.config import Config

    settings = idempotency_settings()
    if not settings.idempotency_table:
        raise IdempotencyNotConfigured("IDEMPOTENCY_TABLE is not set for this function")
    client = boto3.client(
        "dynamodb",
        region_name=runtime_settings().region,
        endpoint_url=dynamodb_settings().endpoint,
        # The same short budget as the pynamodb models (taskapp.data.base.model_meta).
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}),
    )
    return DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table,
        key_attr=KEY_ATTRIBUTE,
        expiry_attr=EXPIRY_ATTRIBUTE,
        boto3_client=client,
    )

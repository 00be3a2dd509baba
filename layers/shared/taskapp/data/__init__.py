"""Data access: one module per aggregate (pynamodb model, mapping to and from its domain record, operations).

Callers see only the records of `taskapp.domain.records` and the exceptions below, never pynamodb or botocore types.
"""


class StorageUnavailable(Exception):
    """DynamoDB could not serve the request (throttled, unreachable, timed out): the caller may retry later."""

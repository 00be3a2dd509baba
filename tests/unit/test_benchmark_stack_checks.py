"""The benchmarks that drive a deployed stack check its limits first, and count stored tasks over every page."""

from __future__ import annotations

from typing import Any

from benchmarks.stack_checks import parameter_problems
from benchmarks.webhook_delivery import _stored_count


def test_a_limit_below_the_runs_needs_is_named_with_the_variable_that_raises_it() -> None:
    problems = parameter_problems(
        {"RateLimitUserPerMinute": "100", "RateLimitRegistrationsPerIp": "0"},
        {"RateLimitUserPerMinute": 100_000, "RateLimitRegistrationsPerIp": 60},
    )
    assert problems == [
        "RateLimitUserPerMinute=100 but this run needs 100000 (deploy with RATE_LIMIT_USER_PER_MINUTE=100000)"
    ]  # 0 disables a limit: never a problem
    assert parameter_problems({"RateLimitUserPerMinute": "100000"}, {"RateLimitUserPerMinute": 100_000}) == []


class _PagedDynamoDb:
    """Answers a COUNT query in pages of at most 1,000, as DynamoDB does once a page reaches 1 MB."""

    def __init__(self, total: int) -> None:
        self.total, self.calls = total, 0

    def query(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        start = int(request.get("ExclusiveStartKey", {}).get("n", 0))
        count = min(1000, self.total - start)
        page: dict[str, Any] = {"Count": count}
        if start + count < self.total:
            page["LastEvaluatedKey"] = {"n": start + count}
        return page


def test_the_stored_count_reads_every_page() -> None:
    dynamodb = _PagedDynamoDb(5000)
    assert _stored_count(dynamodb, "tasks", "owner") == 5000 and dynamodb.calls == 5

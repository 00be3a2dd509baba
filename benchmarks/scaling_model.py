"""Where the design saturates on AWS, as arithmetic and one small simulation: no servers, runs in a second.

Usage:
    .venv/bin/python -m benchmarks.scaling_model [--json]

Prints the tables docs/scaling.md quotes. The inputs are this repository's own measurements where it has them
(benchmarks/events-pipeline.json, benchmarks/perf_budget.json, benchmarks/ingest-pipeline.md) and stated AWS
figures otherwise (limits and prices, with their date); every assumption is a named constant below, so a better
figure changes one line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
from bisect import bisect
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.harness import RESULTS, markdown_table

# --- AWS limits and prices (us-east-1) -------------------------------------------------------------------------
# Prices as on aws.amazon.com/lambda/pricing, /api-gateway/pricing and /dynamodb/pricing (on-demand, after the
# 2024-11-01 cut), checked 2026-12-01. The Lambda figures have not changed since 1 ms billing (2020-12).
PRICES_CHECKED = "2026-12-01"
LAMBDA_PER_MILLION_REQUESTS = 0.20
LAMBDA_PER_GB_SECOND = {"x86_64": 0.0000166667, "arm64": 0.0000133334}
API_GATEWAY_REST_PER_MILLION = 3.50  # first 333 million a month
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.625
DYNAMODB_PER_MILLION_READ_UNITS = 0.125
# Lambda gives a function a share of a vCPU proportional to its memory: a whole one at 1,769 MB.
MB_PER_VCPU = 1769
# DynamoDB serves at most this much per second from one partition; one partition key never spans partitions
# for writes that all land at its end (time-ordered sort keys), so this is also one key's ceiling.
PARTITION_WCU_PER_SECOND = 1000
PARTITION_RCU_PER_SECOND = 3000
# Lambda's RabbitMQ event source runs one invocation at a time per mapping (Lambda developer guide, "Using
# Lambda with Amazon MQ": raised only per mapping, by a support request).
RABBITMQ_CONCURRENCY_PER_MAPPING = 1

# --- this design's figures -------------------------------------------------------------------------------------
NOTIFICATION_BATCH = 50  # template.yaml, NotificationFunction's MQ event
INGEST_BATCH = 1000  # template.yaml, TaskIngestionFunction's Kafka event
KAFKA_PARTITIONS_NOW = 3  # infra/kafka-topics.txt
AUTHORIZER_CACHE_TTL_SECONDS = 60  # template.yaml, AuthorizerCacheTtlSeconds
ACCESS_TOKEN_TTL_SECONDS = 900  # template.yaml, AccessTokenTtlSeconds
MEMORY_MB = 512  # template.yaml, Globals.Function.MemorySize
# Assumed AWS latencies (same region, p50; published benchmarks and our own deployments put them here):
AWS_TRANSACT_WRITE_MS = 10.0  # TransactWriteItems of 2 conditional puts: one notification event
AWS_GET_ITEM_MS = 4.0
AWS_REDIS_MS = 0.5  # ElastiCache, same AZ: the revocation MGET (and the rate-limit script)
AWS_INVOKE_OVERHEAD_MS = 5.0  # per invocation in the function: event parsing, logging, metrics flush
# 1,000 records: BatchGetItem 10x100 + BatchWriteItem 40x25, 8 chunks at a time (346 ms on MiniStack here,
# benchmarks/ingest-pipeline.md: direct Invoke of 1,000 records).
AWS_INGEST_BATCH_MS = 250.0


@dataclass(frozen=True)
class BatchCost:
    """Time of one invocation over n records: a fixed part and a part per record (both ms)."""

    fixed_ms: float
    per_record_ms: float

    def batch_ms(self, size: int) -> float:
        return self.fixed_ms + size * self.per_record_ms

    def records_per_second(self, size: int, concurrency: int = 1) -> float:
        return concurrency * size * 1000 / self.batch_ms(size)


def local_notification_cost(pipeline: dict[str, Any]) -> BatchCost:
    """From benchmarks/events-pipeline.json: one event's invoke (latency run) and the burst's 50-event batches.
    The burst's wall time per invocation includes the queue and the publish overlap: an upper bound per batch."""
    single = float(pipeline["latency"]["stages_ms"]["notification_invoke"]["p50"])
    burst = pipeline["burst"]
    per_batch = float(burst["all_recorded_seconds"]) * 1000 / int(burst["notification_invocations"])
    size = float(burst["batch_size_mean"])
    per_record = (per_batch - single) / (size - 1)
    return BatchCost(fixed_ms=single - per_record, per_record_ms=per_record)


AWS_NOTIFICATION_COST = BatchCost(fixed_ms=AWS_INVOKE_OVERHEAD_MS, per_record_ms=AWS_TRANSACT_WRITE_MS)


# --- consistent-hash sharding of the notifications queue --------------------------------------------------------


def ring(queues: int, points_per_queue: int = 100) -> tuple[list[int], list[int]]:
    """A hash ring like RabbitMQ's consistent-hash exchange: each bound queue owns `weight` points on it."""
    points = sorted(
        (int.from_bytes(hashlib.md5(f"q{q}-{p}".encode()).digest()[:4], "big"), q)  # noqa: S324 - not security
        for q in range(queues)
        for p in range(points_per_queue)
    )
    return [point for point, _ in points], [queue for _, queue in points]


def queue_of(routing_key: str, hashes: list[int], owners: list[int]) -> int:
    digest = int.from_bytes(hashlib.md5(routing_key.encode()).digest()[:4], "big")  # noqa: S324 - not security
    return owners[bisect(hashes, digest) % len(owners)]


def hottest_queue_share(queues: int, users: int, events: int, zipf_s: float, seed: int = 17) -> float:
    """Share of all events the busiest queue gets when events are routed by owner id (so one owner's events stay
    in order, in one queue) and owners' activity follows a Zipf law (a few very busy users)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    weights = [1 / (rank**zipf_s) for rank in range(1, users + 1)]
    owners = rng.choices(range(users), weights=weights, k=events)
    hashes, queue_owners = ring(queues)
    per_user_queue = {user: queue_of(f"user-{user}", hashes, queue_owners) for user in set(owners)}
    counts = Counter(per_user_queue[owner] for owner in owners)
    return max(counts.values()) / events


def notification_rows(local: BatchCost, shards: tuple[int, ...] = (1, 2, 4, 8, 16, 32)) -> list[dict[str, Any]]:
    per_mapping_aws = AWS_NOTIFICATION_COST.records_per_second(NOTIFICATION_BATCH, RABBITMQ_CONCURRENCY_PER_MAPPING)
    per_mapping_local = local.records_per_second(NOTIFICATION_BATCH)
    rows = []
    for n in shards:
        uniform = hottest_queue_share(n, users=20_000, events=100_000, zipf_s=0.0)
        skewed = hottest_queue_share(n, users=20_000, events=100_000, zipf_s=1.1)
        rows.append(
            {
                "queues_and_mappings": n,
                "hottest_share_uniform": round(uniform, 3),
                "hottest_share_zipf_1_1": round(skewed, 3),
                "ceiling_events_per_s_aws_uniform": round(per_mapping_aws / uniform),
                "ceiling_events_per_s_aws_zipf": round(per_mapping_aws / skewed),
                "ceiling_events_per_s_local_uniform": round(per_mapping_local / uniform),
            }
        )
    return rows


# --- Kafka ingestion ----------------------------------------------------------------------------------------------


def ingestion_rows(partitions: tuple[int, ...] = (KAFKA_PARTITIONS_NOW, 6, 12, 24, 48)) -> list[dict[str, Any]]:
    """Lambda's Kafka event source runs at most one invocation per partition at a time (order within a partition):
    the partitions, not the function's concurrency, set the ceiling."""
    aws = BatchCost(fixed_ms=0.0, per_record_ms=AWS_INGEST_BATCH_MS / INGEST_BATCH)
    rows = []
    for p in partitions:
        rate = aws.records_per_second(INGEST_BATCH, p)
        rows.append(
            {
                "partitions": p,
                "max_concurrent_invocations": p,
                "tasks_per_s_aws": round(rate),
                # A stored task is <= 1 KB: 1 WCU, and the duplicate check reads it (0.5 RCU, eventually consistent).
                "table_wcu_per_s": round(rate),
                "dynamodb_usd_per_hour_on_demand": round(
                    rate * 3600 * (DYNAMODB_PER_MILLION_WRITE_UNITS + 0.5 * DYNAMODB_PER_MILLION_READ_UNITS) / 1e6,
                    2,
                ),
            }
        )
    return rows


# --- DynamoDB hot partitions --------------------------------------------------------------------------------------


def hot_key_rows(write_shards: tuple[int, ...] = (1, 4, 16)) -> list[dict[str, Any]]:
    """One owner's (or, with projects, one busy project's) activity feed: every entry lands under one partition
    key. An event is a transaction of two conditional puts (activity + notification, each under the owner), and a
    transactional write costs 2 WCU per item: 2 WCU per event on each table's hot key."""
    wcu_per_event = 2
    page_items, item_bytes = 20, 300
    rcu_per_query = math.ceil(page_items * item_bytes / 4096) * 0.5  # one eventually consistent Query of a page
    rows = []
    for shards in write_shards:
        rows.append(
            {
                "write_shards_per_key": shards,
                "events_per_s_one_key": shards * PARTITION_WCU_PER_SECOND // wcu_per_event,
                # A sharded feed's page queries every shard (each its own partition key) and merges them by time:
                # the pages per second stay, each page costs `shards` times the reads.
                "feed_pages_per_s_one_key": round(PARTITION_RCU_PER_SECOND / rcu_per_query),
                "rcu_per_page": rcu_per_query * shards,
            }
        )
    return rows


# --- the authorizer's cache ---------------------------------------------------------------------------------------


def authorizer_rows(rates: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0)) -> list[dict[str, Any]]:
    """API Gateway caches the authorizer's answer per token for the TTL: a client sending r requests a second
    with one token invokes the authorizer about once per TTL (when r x TTL >= 1), else on every request."""
    rows = []
    for rate in rates:
        per_window = rate * AUTHORIZER_CACHE_TTL_SECONDS
        invoked_share = 1.0 if per_window <= 1 else 1 / per_window
        rows.append(
            {
                "requests_per_s_per_token": rate,
                "authorizer_invocations_per_request": round(invoked_share, 4),
                "authorizer_invocations_per_token_lifetime": round(
                    min(rate * ACCESS_TOKEN_TTL_SECONDS, ACCESS_TOKEN_TTL_SECONDS / AUTHORIZER_CACHE_TTL_SECONDS), 1
                ),
            }
        )
    return rows


# --- cost per million requests ------------------------------------------------------------------------------------


def billed_ms(cpu_ms_full_core: float, io_ms: float, memory_mb: int) -> int:
    """Below 1,769 MB a function has a fraction of a vCPU, so its CPU work takes proportionally longer; waiting on
    the network does not; Lambda bills every invocation rounded up to the next millisecond."""
    return math.ceil(cpu_ms_full_core * max(1.0, MB_PER_VCPU / memory_mb) + io_ms)


def cost_rows(budget: dict[str, Any], authorizer_share: float = 1 / 60) -> list[dict[str, Any]]:
    """GET /tasks/{id} per million requests: API Gateway, the handler's invocation, the authorizer's (cached per
    token: `authorizer_share` of requests invoke it), at the CPU-ms measured in-process (benchmarks/perf_budget.json,
    warm, no network) and the assumed AWS round trips."""
    warm = budget["warm_no_network"]
    measured = {"authorizer": float(warm["authorizer"]["p50_ms"]), "get_task": float(warm["get_task"]["p50_ms"])}
    total = measured["authorizer"] + measured["get_task"]
    goal = {name: 1.5 * value / total for name, value in measured.items()}  # goal 3's 1.5 ms, split the same way
    scenarios = [("measured (perf_budget.json)", measured), ("goal 3: 1.5 CPU-ms per request", goal)]
    rows = []
    for label, cpu in scenarios:
        for memory in (256, MEMORY_MB, 1024, MB_PER_VCPU):
            for arch in ("x86_64", "arm64"):
                handler_ms = billed_ms(cpu["get_task"], AWS_GET_ITEM_MS + AWS_REDIS_MS, memory)
                authorizer_ms = billed_ms(cpu["authorizer"], AWS_REDIS_MS, memory)
                gb_seconds = (handler_ms + authorizer_share * authorizer_ms) / 1000 * memory / 1024
                lambda_compute = gb_seconds * LAMBDA_PER_GB_SECOND[arch] * 1e6
                lambda_requests = (1 + authorizer_share) * LAMBDA_PER_MILLION_REQUESTS
                lambda_usd = lambda_compute + lambda_requests
                rows.append(
                    {
                        "cpu": label,
                        "authorizer_invoked_share": round(authorizer_share, 4),
                        "memory_mb": memory,
                        "arch": arch,
                        "handler_billed_ms": handler_ms,
                        "authorizer_billed_ms": authorizer_ms,
                        "lambda_usd": round(lambda_usd, 3),
                        "with_api_gateway_usd": round(lambda_usd + API_GATEWAY_REST_PER_MILLION, 3),
                        "dynamodb_read_usd": round(0.5 * DYNAMODB_PER_MILLION_READ_UNITS, 4),
                    }
                )
    return rows


def model() -> dict[str, Any]:
    pipeline = json.loads((RESULTS / "events-pipeline.json").read_text())
    budget = json.loads((RESULTS / "perf_budget.json").read_text())
    local = local_notification_cost(pipeline)
    return {
        "prices_checked": PRICES_CHECKED,
        "notification_batch_cost_local": asdict(local),
        "notification_batch_cost_aws": asdict(AWS_NOTIFICATION_COST),
        "notification_events_per_s_one_mapping": {
            "aws": round(AWS_NOTIFICATION_COST.records_per_second(NOTIFICATION_BATCH)),
            "local": round(local.records_per_second(NOTIFICATION_BATCH)),
        },
        "notifications_sharded": notification_rows(local),
        "ingestion": ingestion_rows(),
        "hot_keys": hot_key_rows(),
        "authorizer_cache": authorizer_rows(),
        "cost_per_million_get_task": cost_rows(budget),
        "cpu_ms_source": {"measured_at": budget["measured_at"], "warm_no_network": budget["warm_no_network"]},
    }


def _table(rows: list[dict[str, Any]]) -> str:
    return markdown_table(list(rows[0]), ([row[key] for key in rows[0]] for row in rows), "l" + "r" * len(rows[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--json", action="store_true", help="print the model as JSON instead of tables")
    args = parser.parse_args()
    result = model()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    one = result["notification_events_per_s_one_mapping"]
    print(f"notifications, one mapping: {one['aws']} events/s on AWS (assumed costs), {one['local']} here")
    print(
        f"batch cost here: {result['notification_batch_cost_local']}, on AWS: {result['notification_batch_cost_aws']}"
    )
    for name in ("notifications_sharded", "ingestion", "hot_keys", "authorizer_cache", "cost_per_million_get_task"):
        print(f"\n## {name}\n\n{_table(result[name])}")


if __name__ == "__main__":
    main()

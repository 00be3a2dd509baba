"""benchmarks/scaling_model.py: the arithmetic docs/scaling.md quotes holds, and runs from the committed results."""

from __future__ import annotations

from benchmarks import scaling_model as sm


def test_one_rabbitmq_mapping_is_bounded_by_its_per_record_time() -> None:
    cost = sm.BatchCost(fixed_ms=5.0, per_record_ms=10.0)
    assert cost.batch_ms(50) == 505.0
    assert round(cost.records_per_second(50)) == 99  # 1 / 10 ms, less the fixed part: the ceiling of one consumer
    assert cost.records_per_second(50, concurrency=4) == 4 * cost.records_per_second(50)


def test_sharding_by_owner_raises_the_ceiling_but_the_hottest_queue_bounds_it() -> None:
    uniform = [sm.hottest_queue_share(n, users=2_000, events=20_000, zipf_s=0.0) for n in (1, 4, 16)]
    skewed = [sm.hottest_queue_share(n, users=2_000, events=20_000, zipf_s=1.1) for n in (1, 4, 16)]
    assert uniform[0] == skewed[0] == 1.0
    assert uniform[1] < 0.35 and uniform[2] < 0.12  # close to 1/N when no owner dominates
    assert all(s >= u for s, u in zip(skewed, uniform, strict=True))  # a busy owner stays in one queue
    assert sm.hottest_queue_share(8, 2_000, 20_000, 1.1) == sm.hottest_queue_share(8, 2_000, 20_000, 1.1)


def test_the_same_owner_always_routes_to_the_same_queue() -> None:
    hashes, owners = sm.ring(8)
    assert len({sm.queue_of("user-42", hashes, owners) for _ in range(5)}) == 1
    assert len({sm.queue_of(f"user-{n}", hashes, owners) for n in range(200)}) == 8


def test_billed_time_stretches_cpu_below_one_vcpu_and_rounds_up() -> None:
    assert sm.billed_ms(1.0, 4.5, sm.MB_PER_VCPU) == 6
    assert sm.billed_ms(1.0, 4.5, 512) == 8  # 1 CPU-ms takes 3.46 ms on 512 MB's share of a vCPU
    assert sm.billed_ms(1.0, 0.0, 3008) == 1  # more than one vCPU does not speed up one thread


def test_the_model_runs_from_the_committed_measurements() -> None:
    result = sm.model()
    assert result["notification_events_per_s_one_mapping"]["aws"] < 200
    assert result["ingestion"][0]["partitions"] == sm.KAFKA_PARTITIONS_NOW
    costs = result["cost_per_million_get_task"]
    assert all(row["with_api_gateway_usd"] > row["lambda_usd"] > 0.2 for row in costs)

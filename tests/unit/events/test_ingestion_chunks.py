"""Large ingestion batches: BatchGetItem/BatchWriteItem chunks run a few at a time and stay exactly-once."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from pynamodb.exceptions import PutError

from taskapp.data import tasks as store
from taskapp.domain.ingestion import InboundRecord, ingest_batch
from taskapp.domain.records.tasks import Task
from tests.unit.events.conftest import FakeKafka

OWNER = "owner-chunks"


def _records(count: int, start: int = 0) -> list[InboundRecord]:
    now = datetime.now(UTC).isoformat()
    records = []
    for offset in range(start, start + count):
        task_id = f"chunk-task-{offset:04d}"
        value = {"schemaVersion": 1, "id": task_id, "ownerId": OWNER, "createdAt": now, "task": {"title": f"t{offset}"}}
        records.append(InboundRecord("task.ingested", offset % 3, offset, task_id.encode(), json.dumps(value).encode()))
    return records


def _stored() -> set[str]:
    return {task.task_id for task in store.TaskModel.query(OWNER)}


def test_a_batch_of_many_chunks_is_stored_once_and_a_replay_is_all_duplicates(aws: None, fake_kafka: FakeKafka) -> None:
    records = _records(260)  # 3 BatchGetItem chunks, 11 BatchWriteItem chunks
    first = ingest_batch(records)
    assert (first.stored, first.duplicates, first.failed) == (260, 0, [])
    assert len(_stored()) == 260
    again = ingest_batch(records)
    assert (again.stored, again.duplicates, again.failed) == (0, 260, [])


def test_writes_run_concurrently(aws: None, fake_kafka: FakeKafka, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: set[str] = set()
    real_write = store._write

    def recording_write(tasks: Sequence[Task]) -> None:
        threads.add(threading.current_thread().name)
        real_write(tasks)

    monkeypatch.setattr(store, "_write", recording_write)
    assert ingest_batch(_records(200)).stored == 200
    assert len(threads) > 1 and all(name.startswith("dynamodb-batch") for name in threads)


def test_one_failing_chunk_fails_the_batch_and_the_retry_stores_only_what_is_missing(
    aws: None, fake_kafka: FakeKafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = store._write
    calls: list[int] = []
    lock = threading.Lock()

    def flaky_write(tasks: Sequence[Task]) -> None:
        with lock:
            calls.append(len(tasks))
            fail = len(calls) == 2
        if fail:
            raise PutError("Failed to batch write items: max_retry_attempts exceeded")
        real_write(tasks)

    monkeypatch.setattr(store, "_write", flaky_write)
    records = _records(100)
    outcome = ingest_batch(records)
    assert outcome.stored == 0 and [r.offset for r in outcome.failed] == [r.offset for r in records]
    partially = len(_stored())
    assert partially == 75  # the other three chunks were written before the batch was reported failed

    retry = ingest_batch(records)
    assert (retry.stored, retry.duplicates, retry.failed) == (25, 75, [])
    assert len(_stored()) == 100

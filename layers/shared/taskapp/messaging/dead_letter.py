"""The Kafka dead-letter contract (`task.ingested.dlq`, and every `{topic}.dlq`): one record, its encoding, its
inverse.

A dead letter is the original record untouched (same key, same value bytes, same headers) plus `dlq-*` headers
that say why and from where. Both writers use `DeadLetter.encode()`: the ingestion function for a record it can
never store, the event-source bridge for a record whose invoke kept failing. `make replay-dlq` reads it back
with `DeadLetter.decode()`. An untouched value keeps a dead letter no bigger than its record (so it can always be
produced) and makes a replay byte-exact.

| header | value |
|---|---|
| `dlq-reason` | why: `EMPTY_VALUE`, `MALFORMED_JSON`, `VALIDATION_ERROR`, `KEY_MISMATCH`, or the bridge's last error |
| `dlq-source` | where it was read, `topic-partition@offset` (`RecordPosition`) |
| `dlq-function` | the function that rejected it (ingestion) or kept failing on it (bridge) |
| `dlq-attempts` | how many times it was tried |
| `dlq-details` | optional, JSON: the validation errors, the key that did not match, the JSON error |
| `dlq-dead-lettered-at` | ISO-8601, UTC |

Until this module the ingestion function wrote another shape: a JSON envelope as the value (`reason`, `details`,
`source`, `key`, `value`, `deadLetteredAt`) with only `dlq-reason` and `dlq-source`. `decode()` still reads it (it
is the record without `dlq-function`), so what is already on a topic can be replayed.

Standard library only: the bridge and the replay tool import it too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Header = tuple[str, bytes]

HEADER_PREFIX = "dlq-"
REASON = "dlq-reason"
SOURCE = "dlq-source"
FUNCTION = "dlq-function"
ATTEMPTS = "dlq-attempts"
DETAILS = "dlq-details"
DEAD_LETTERED_AT = "dlq-dead-lettered-at"

EMPTY_VALUE = "EMPTY_VALUE"
MALFORMED_JSON = "MALFORMED_JSON"


class NotADeadLetter(ValueError):
    """The record lacks what `decode` needs (or holds it malformed): not a dead letter of this application."""


@dataclass(frozen=True)
class RecordPosition:
    """Where a record sits: its `topic-partition@offset` text is the `dlq-source` header and the string form of a
    Kafka batchItemFailures identifier."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}@{self.offset}"

    @classmethod
    def parse(cls, text: str) -> RecordPosition:
        """Topic names may contain dashes: the partition is what follows the last one."""
        topic_partition, at, offset = text.rpartition("@")
        topic, dash, partition = topic_partition.rpartition("-")
        if not (at and dash and topic and _is_number(partition) and _is_number(offset)):
            raise NotADeadLetter(f"malformed position {text!r}: expected topic-partition@offset")
        return cls(topic, int(partition), int(offset))


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


@dataclass(frozen=True)
class EncodedRecord:
    """What to produce to the DLQ topic."""

    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...]


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    source: RecordPosition | None  # None only for a legacy envelope that named no source
    key: bytes | None
    value: bytes | None
    headers: tuple[Header, ...] = ()  # the original record's own headers
    function: str = ""
    attempts: int = 1
    details: Any = None  # JSON-serialisable
    dead_lettered_at: datetime | None = field(default_factory=lambda: datetime.now(UTC))
    legacy_envelope: bool = False  # decoded from the ingestion function's former JSON envelope

    def encode(self) -> EncodedRecord:
        headers = [*self.headers, (REASON, self.reason.encode())]
        if self.source is not None:
            headers.append((SOURCE, str(self.source).encode()))
        headers += [(FUNCTION, self.function.encode()), (ATTEMPTS, str(self.attempts).encode())]
        if self.details is not None:
            headers.append((DETAILS, json.dumps(self.details, ensure_ascii=False, default=str).encode()))
        if self.dead_lettered_at is not None:
            headers.append((DEAD_LETTERED_AT, self.dead_lettered_at.isoformat().encode()))
        return EncodedRecord(self.key, self.value, tuple(headers))

    @classmethod
    def decode(cls, key: bytes | None, value: bytes | None, headers: Any) -> DeadLetter:
        """The inverse of `encode` (and of the former envelope); raises NotADeadLetter for anything else."""
        pairs = [(str(name), bytes(raw or b"")) for name, raw in headers or ()]
        ours = {name: raw.decode("utf-8", "replace") for name, raw in pairs if name.startswith(HEADER_PREFIX)}
        if REASON not in ours:
            raise NotADeadLetter(f"no {REASON} header: not a dead letter of this application")
        source = RecordPosition.parse(ours[SOURCE]) if SOURCE in ours else None
        if FUNCTION not in ours:
            return _decode_envelope(ours[REASON], source, key, value)
        return cls(
            reason=ours[REASON],
            source=source,
            key=key,
            value=value,
            headers=tuple((name, raw) for name, raw in pairs if not name.startswith(HEADER_PREFIX)),
            function=ours[FUNCTION],
            attempts=int(ours[ATTEMPTS]) if _is_number(ours.get(ATTEMPTS, "")) else 1,
            details=_json_or_text(ours[DETAILS]) if DETAILS in ours else None,
            dead_lettered_at=_moment(ours.get(DEAD_LETTERED_AT)),
        )


def _decode_envelope(reason: str, source: RecordPosition | None, key: bytes | None, value: bytes | None) -> DeadLetter:
    """The former envelope held the value as parsed JSON (or as text when it was not JSON): re-encode it."""
    try:
        envelope = json.loads(value or b"")
    except ValueError as exc:
        raise NotADeadLetter(f"dead-letter value is not the JSON envelope: {exc}") from exc
    if not isinstance(envelope, dict) or "value" not in envelope or "key" not in envelope:
        raise NotADeadLetter("dead-letter value lacks the envelope's key/value")
    named = envelope.get("source")
    if isinstance(named, dict) and isinstance(named.get("topic"), str) and named["topic"]:
        try:
            source = RecordPosition(named["topic"], int(named.get("partition") or 0), int(named.get("offset") or 0))
        except (TypeError, ValueError):
            source = RecordPosition(named["topic"], source.partition if source else 0, source.offset if source else 0)
    original = envelope["value"]
    if reason == EMPTY_VALUE:
        original_value = None  # the only way the function gave this reason: the record had no value
    elif reason == MALFORMED_JSON and isinstance(original, str):
        original_value = original.encode("utf-8")
    else:  # the same JSON, re-encoded compactly: not necessarily byte-identical
        original_value = json.dumps(original, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return DeadLetter(
        reason=reason,
        source=source,
        key=key if envelope["key"] is not None else None,  # the envelope wrote b"" as the key of a keyless record
        value=original_value,
        details=envelope.get("details"),
        dead_lettered_at=_moment(envelope.get("deadLetteredAt")),
        legacy_envelope=True,
    )


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _moment(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None

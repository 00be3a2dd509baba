"""Read the event sources the bridge must serve from the SAM template itself.

Values may be intrinsic functions (`!Ref Param`, `!Sub`): they are resolved against the deployed stack's
parameters, so the bridge polls exactly the topics and queues the stack was deployed with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.sam_template import Resolver, TemplateError, default_parameters, load_template, serverless_functions

__all__ = [
    "EventSources",
    "KafkaSource",
    "RabbitSource",
    "Resolver",
    "TemplateError",
    "default_parameters",
    "event_sources",
    "load_template",
]

# AWS defaults for the event-source mapping properties the template may leave out.
DEFAULT_KAFKA_BATCH_SIZE = 100
DEFAULT_MQ_BATCH_SIZE = 100
DEFAULT_BATCHING_WINDOW_SECONDS = 0.5  # Lambda's default for Kafka and MQ pollers is 500 ms
DEFAULT_STARTING_POSITION = "TRIM_HORIZON"
DEFAULT_VIRTUAL_HOST = "/"


@dataclass(frozen=True)
class KafkaSource:
    function_logical_id: str
    event_name: str
    topics: tuple[str, ...]
    batch_size: int = DEFAULT_KAFKA_BATCH_SIZE
    starting_position: str = DEFAULT_STARTING_POSITION
    consumer_group_id: str | None = None
    batching_window_seconds: float = DEFAULT_BATCHING_WINDOW_SECONDS
    report_batch_item_failures: bool = False

    @property
    def label(self) -> str:
        return f"{self.function_logical_id}.{self.event_name}"


@dataclass(frozen=True)
class RabbitSource:
    function_logical_id: str
    event_name: str
    queues: tuple[str, ...]
    broker_arn: str
    batch_size: int = DEFAULT_MQ_BATCH_SIZE
    virtual_host: str = DEFAULT_VIRTUAL_HOST
    batching_window_seconds: float = DEFAULT_BATCHING_WINDOW_SECONDS

    @property
    def label(self) -> str:
        return f"{self.function_logical_id}.{self.event_name}"


@dataclass(frozen=True)
class EventSources:
    kafka: list[KafkaSource] = field(default_factory=list)
    rabbit: list[RabbitSource] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.kafka and not self.rabbit


def _as_tuple(value: Any, what: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise TemplateError(f"{where}: {what} must be a non-empty list of names, got {value!r}")
    return tuple(value)


class _LazyProperties:
    """Event properties resolved on access, so properties the bridge ignores may use any intrinsic function."""

    def __init__(self, raw: Mapping[str, Any], resolver: Resolver) -> None:
        self._raw = raw
        self._resolver = resolver

    def get(self, key: str, default: Any = None) -> Any:
        return self._resolver.resolve(self._raw[key]) if key in self._raw else default

    def virtual_host(self) -> str:
        for entry in self._raw.get("SourceAccessConfigurations") or []:
            if isinstance(entry, Mapping) and entry.get("Type") == "VIRTUAL_HOST":
                return str(self._resolver.resolve(entry.get("URI")) or DEFAULT_VIRTUAL_HOST)
        return DEFAULT_VIRTUAL_HOST


def event_sources(template: Mapping[str, Any], resolver: Resolver) -> EventSources:
    """Every `SelfManagedKafka` and `MQ` event of every `AWS::Serverless::Function`, with AWS defaults filled in.

    `Enabled` is deliberately ignored: a template may switch the real mapping off on local stacks (so the local
    AWS emulator does not try to poll) while the bridge stands in for it.
    """
    sources = EventSources()
    for logical_id, properties in serverless_functions(template):
        for event_name, event in (properties.get("Events") or {}).items():
            kind = event.get("Type")
            if kind not in ("SelfManagedKafka", "MQ"):
                continue
            # Resolve only what the bridge uses: the rest (Enabled: !If ..., credentials) is the real mapping's.
            props = _LazyProperties(event.get("Properties") or {}, resolver)
            where = f"{logical_id}.Events.{event_name}"
            window = float(props.get("MaximumBatchingWindowInSeconds", DEFAULT_BATCHING_WINDOW_SECONDS))
            if kind == "SelfManagedKafka":
                sources.kafka.append(
                    KafkaSource(
                        function_logical_id=logical_id,
                        event_name=event_name,
                        topics=_as_tuple(props.get("Topics"), "Topics", where),
                        batch_size=int(props.get("BatchSize", DEFAULT_KAFKA_BATCH_SIZE)),
                        starting_position=str(props.get("StartingPosition", DEFAULT_STARTING_POSITION)),
                        consumer_group_id=props.get("ConsumerGroupId"),
                        batching_window_seconds=window,
                        report_batch_item_failures="ReportBatchItemFailures"
                        in (props.get("FunctionResponseTypes") or []),
                    )
                )
            else:
                broker = props.get("Broker")
                if not isinstance(broker, str) or not broker:
                    raise TemplateError(f"{where}: Broker must resolve to a broker ARN, got {broker!r}")
                sources.rabbit.append(
                    RabbitSource(
                        function_logical_id=logical_id,
                        event_name=event_name,
                        queues=_as_tuple(props.get("Queues"), "Queues", where),
                        broker_arn=broker,
                        batch_size=int(props.get("BatchSize", DEFAULT_MQ_BATCH_SIZE)),
                        virtual_host=props.virtual_host(),
                        batching_window_seconds=window,
                    )
                )
    return sources

"""The bridge reads its event sources from the SAM template: events, AWS defaults, intrinsic resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.bridge.template import (
    DEFAULT_BATCHING_WINDOW_SECONDS,
    DEFAULT_KAFKA_BATCH_SIZE,
    DEFAULT_MQ_BATCH_SIZE,
    Resolver,
    TemplateError,
    default_parameters,
    event_sources,
    load_template,
)

ROOT = Path(__file__).resolve().parents[3]

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Suffix: {Type: String, Default: dev}
  BrokerArn: {Type: String}
Conditions:
  Local: !Equals [!Ref Suffix, dev]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Ingest:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Api:
          Type: Api
          Properties: {Path: /x, Method: get}
        Stream:
          Type: SelfManagedKafka
          Properties:
            Enabled: !If [Local, false, true]
            KafkaBootstrapServers: [!Ref Suffix]
            Topics: [!Sub "orders.${Suffix}", audit]
            ConsumerGroupId: !Sub "${AWS::StackName}-ingest"
            BatchSize: 250
            StartingPosition: LATEST
            MaximumBatchingWindowInSeconds: 2
            FunctionResponseTypes: [ReportBatchItemFailures]
        Minimal:
          Type: SelfManagedKafka
          Properties:
            Topics: [minimal]
  Notify:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Queue:
          Type: MQ
          Properties:
            Broker: !Ref BrokerArn
            Queues: [notifications]
            BatchSize: 7
            SourceAccessConfigurations:
              - {Type: BASIC_AUTH, URI: !GetAtt Secret.Arn}
              - {Type: VIRTUAL_HOST, URI: !Sub "/${Suffix}"}
        Plain:
          Type: MQ
          Properties:
            Broker: arn:aws:mq:us-east-1:1:broker:b:b-1
            Queues: [plain]
"""


@pytest.fixture
def sources(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    resolver = Resolver({"Suffix": "prod", "BrokerArn": "arn:aws:mq:broker"}, {"AWS::StackName": "stack-a"})
    return event_sources(load_template(path), resolver)


def test_kafka_event_properties_are_read_and_resolved(sources):
    stream = next(s for s in sources.kafka if s.event_name == "Stream")
    assert stream.function_logical_id == "Ingest"
    assert stream.topics == ("orders.prod", "audit")
    assert stream.consumer_group_id == "stack-a-ingest"
    assert stream.batch_size == 250
    assert stream.starting_position == "LATEST"
    assert stream.batching_window_seconds == 2.0
    assert stream.report_batch_item_failures is True
    assert stream.label == "Ingest.Stream"


def test_kafka_defaults_are_aws_defaults(sources):
    minimal = next(s for s in sources.kafka if s.event_name == "Minimal")
    assert minimal.batch_size == DEFAULT_KAFKA_BATCH_SIZE == 100
    assert minimal.starting_position == "TRIM_HORIZON"
    assert minimal.consumer_group_id is None
    assert minimal.batching_window_seconds == DEFAULT_BATCHING_WINDOW_SECONDS == 0.5
    assert minimal.report_batch_item_failures is False


def test_mq_event_properties_and_virtual_host(sources):
    queue = next(s for s in sources.rabbit if s.event_name == "Queue")
    assert queue.function_logical_id == "Notify"
    assert queue.queues == ("notifications",)
    assert queue.broker_arn == "arn:aws:mq:broker"
    assert queue.batch_size == 7
    assert queue.virtual_host == "/prod"


def test_mq_defaults(sources):
    plain = next(s for s in sources.rabbit if s.event_name == "Plain")
    assert plain.batch_size == DEFAULT_MQ_BATCH_SIZE
    assert plain.virtual_host == "/"
    assert plain.batching_window_seconds == 0.5


def test_other_event_types_and_resources_are_ignored(sources):
    assert {s.event_name for s in sources.kafka} == {"Stream", "Minimal"}
    assert {s.event_name for s in sources.rabbit} == {"Queue", "Plain"}


def test_unknown_parameter_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    with pytest.raises(TemplateError, match="BrokerArn"):
        event_sources(load_template(path), Resolver({"Suffix": "x"}, {"AWS::StackName": "s"}))


def test_missing_topics_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n"
        "        K: {Type: SelfManagedKafka, Properties: {BatchSize: 1}}\n"
    )
    with pytest.raises(TemplateError, match=r"F\.Events\.K: Topics"):
        event_sources(load_template(path), Resolver({}))


def test_sub_with_explicit_variables():
    resolver = Resolver({"A": "x"})
    assert resolver.resolve({"Fn::Sub": ["${A}-${B}", {"B": {"Ref": "A"}}]}) == "x-x"


def test_the_project_template_declares_the_ingestion_and_notification_sources():
    """The real template.yaml parses; whatever sources it declares name a function and a topic/queue."""
    template = load_template(ROOT / "template.yaml")
    pseudo = {"AWS::StackName": "taskapp", "AWS::Region": "us-east-1", "AWS::AccountId": "0", "AWS::Partition": "aws"}
    sources = event_sources(template, Resolver(default_parameters(template), pseudo))
    for source in sources.kafka:
        assert source.topics and source.function_logical_id in template["Resources"]
    for rabbit in sources.rabbit:
        assert rabbit.queues and rabbit.broker_arn.startswith("arn:")

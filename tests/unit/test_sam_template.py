"""One SAM template reader for infra/ (issue 10 item 5): the bridge and the local API resolve alike, and an
unknown Ref is an error for both; one stack lookup (infra.stack) for outputs, parameters and physical ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra import stack as stack_module
from infra.bridge.template import event_sources
from infra.local_api.template import SamTemplate
from infra.sam_template import ROOT, Resolver, TemplateError, default_parameters, load_template
from infra.stack import Stack, StackLookupError

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: dev}
  Brokers: {Type: CommaDelimitedList, Default: "a:9092,b:9092"}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
Globals:
  Function:
    Environment:
      Variables:
        STAGE: !Ref Stage
        BROKERS: !Join [";", !Ref Brokers]
        NAMES: !Join ["-", [!Ref Stage, !Ref "AWS::Region", fixed]]
        ONLY_PROD: !If [IsProd, "yes", !Ref "AWS::NoValue"]
        MODE: !If [NotProd, local, cloud]
        TABLE: !Ref Table
        TABLE_ARN: !Sub "${Table.Arn}/index"
Resources:
  Table: {Type: AWS::DynamoDB::Table}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Events:
        Stream:
          Type: SelfManagedKafka
          Properties: {Topics: [!Sub "orders.${Stage}"], KafkaBootstrapServers: [!Join [",", !Ref Brokers]]}
"""


@pytest.fixture
def template_path(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return path


def test_local_resolution_of_ref_join_sub_and_if(template_path: Path) -> None:
    template = SamTemplate(template_path)
    env = template.environment_for(template.function("Fn"))
    assert env == {
        "STAGE": "dev",
        "BROKERS": "a:9092;b:9092",
        "NAMES": "dev-us-east-1-fixed",
        "MODE": "local",
        "TABLE": "Table",  # a resource stands for its logical id until an env file names it
        "TABLE_ARN": "Table.Arn/index",
    }  # ONLY_PROD: !Ref AWS::NoValue leaves the variable out
    prod = template.environment_for(template.function("Fn"), parameters={"Stage": "prod"})
    assert (prod["ONLY_PROD"], prod["MODE"]) == ("yes", "cloud")


def test_an_unknown_ref_is_the_same_error_for_the_local_api_and_the_bridge(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.replace("STAGE: !Ref Stage", "STAGE: !Ref Stgae").replace("orders.${Stage}", "${Stgae}"))
    template = SamTemplate(path)
    with pytest.raises(TemplateError, match="Stgae"):
        template.environment_for(template.function("Fn"))
    with pytest.raises(TemplateError, match="Stgae"):
        event_sources(load_template(path), Resolver(default_parameters(load_template(path))))


def test_the_bridge_has_no_stand_in_for_resources_it_needs_physical_names_of() -> None:
    with pytest.raises(TemplateError, match="Table"):
        Resolver({"Stage": "dev"}).resolve({"Fn::Sub": "${Table.Arn}"})


def test_bridge_and_local_api_read_the_same_values(template_path: Path) -> None:
    raw = load_template(template_path)
    [source] = event_sources(raw, SamTemplate(template_path).local_resolver()).kafka
    assert source.topics == ("orders.dev",)
    assert SamTemplate(template_path).local_resolver().resolve(raw["Resources"]["Fn"]["Properties"]["Events"]) == {
        "Stream": {
            "Type": "SelfManagedKafka",
            "Properties": {"Topics": ["orders.dev"], "KafkaBootstrapServers": ["a:9092,b:9092"]},
        }
    }


def test_every_function_of_the_project_template_resolves_locally() -> None:
    template = SamTemplate(ROOT / "template.yaml")
    for spec in template.functions.values():
        env = template.environment_for(spec)
        assert all(isinstance(value, str) for value in env.values()), spec.logical_id


class FakeCloudFormation:
    def __init__(self, stacks: dict[str, dict[str, Any]], resources: dict[str, str]) -> None:
        self.stacks, self.resources = stacks, resources

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3's spelling
        if StackName not in self.stacks:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": "does not exist"}}, "DescribeStacks")
        return {"Stacks": [self.stacks[StackName]]}

    def describe_stack_resource(self, StackName: str, LogicalResourceId: str) -> dict[str, Any]:  # noqa: N803
        if LogicalResourceId not in self.resources:
            raise ClientError({"Error": {"Code": "ValidationError", "Message": "no resource"}}, "Describe")
        return {"StackResourceDetail": {"PhysicalResourceId": self.resources[LogicalResourceId]}}


CFN = FakeCloudFormation(
    {
        "app": {
            "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/app/1",
            "Outputs": [{"OutputKey": "ApiId", "OutputValue": "abc123"}],
            "Parameters": [
                {"ParameterKey": "Stage", "ParameterValue": "dev"},
                {"ParameterKey": "Ssm", "ParameterValue": "/path", "ResolvedValue": "resolved"},
            ],
        }
    },
    {"OutboxPublisherFunction": "app-OutboxPublisherFunction-XYZ"},
)


def test_stack_outputs_parameters_and_physical_ids() -> None:
    app = Stack("app", CFN)
    assert app.outputs() == {"ApiId": "abc123"} and app.output("ApiId") == "abc123"
    assert app.parameters() == {"Stage": "dev", "Ssm": "resolved"}
    pseudo = app.parameters_with_pseudo()
    assert (pseudo["AWS::Region"], pseudo["AWS::AccountId"], pseudo["AWS::StackName"]) == (
        "eu-west-1",
        "123456789012",
        "app",
    )
    assert app.physical_id("OutboxPublisherFunction") == "app-OutboxPublisherFunction-XYZ"
    for lookup in (lambda: app.output("Nope"), lambda: app.physical_id("Nope"), lambda: Stack("gone", CFN).outputs()):
        with pytest.raises(StackLookupError):
            lookup()


def test_stack_cli_prints_the_value_or_fails_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(stack_module.Stack, "_cfn", property(lambda self: CFN))
    monkeypatch.setenv("STACK_NAME", "app")
    assert stack_module.main(["output", "ApiId"]) == 0
    assert stack_module.main(["physical-id", "OutboxPublisherFunction"]) == 0
    assert capsys.readouterr().out.split() == ["abc123", "app-OutboxPublisherFunction-XYZ"]
    assert stack_module.main(["--stack-name", "gone", "output", "ApiId"]) == 1
    assert "gone is not deployed" in capsys.readouterr().err

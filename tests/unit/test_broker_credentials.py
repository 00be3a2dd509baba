"""Broker credentials stay out of plain environment variables in AWS: the AMQP URL comes from Secrets Manager when
RABBITMQ_URL_SECRET_ARN is set, and the template carries no credential of its own (issue 15, defect 9)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from infra.local_api.template import ROOT, SamTemplate
from taskapp import settings
from taskapp.messaging import rabbitmq

SECRET_URL = "amqps://publisher:from-secrets-manager@broker.example.com:5671/%2F"
# user:password@ inside a URL
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]+:[^/@\s]+@")


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in ("RABBITMQ_URL", "RABBITMQ_URL_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    settings.clear_cache()
    yield monkeypatch
    settings.clear_cache()


def test_the_url_comes_from_the_secret_when_its_arn_is_set(fresh_settings: pytest.MonkeyPatch) -> None:
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="taskapp-rabbitmq-url", SecretString=SECRET_URL
        )["ARN"]
        fresh_settings.setenv("RABBITMQ_URL_SECRET_ARN", arn)
        fresh_settings.setenv("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
        assert rabbitmq.broker_url() == SECRET_URL


def test_local_stacks_use_the_plain_url(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.setenv("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
    assert rabbitmq.broker_url() == "amqp://guest:guest@127.0.0.1:5672/%2F"


def test_with_neither_the_broker_is_unavailable_rather_than_a_default_with_credentials(
    fresh_settings: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(rabbitmq.RabbitMqUnavailable, match="RABBITMQ_URL_SECRET_ARN"):
        rabbitmq.broker_url()


def test_no_template_parameter_defaults_to_a_credential() -> None:
    parameters = SamTemplate(ROOT / "template.yaml").raw["Parameters"]
    for name, spec in parameters.items():
        default = str(spec.get("Default", ""))
        assert not CREDENTIALS_IN_URL.search(default), f"{name} defaults to a URL with credentials"
        if spec.get("NoEcho"):
            assert default == "", f"{name} is a secret (NoEcho) but has a default"

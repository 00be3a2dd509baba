"""The Docker path's files are well formed: services, pinned images, ports, health checks, the CI flow."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_PORTS = {
    "localstack": {"4566"},
    "redis": {"6379"},
    "rabbitmq": {"5672", "15672"},
    "kafka": {"9092"},
}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.localstack.yml").read_text())


def test_every_service_is_pinned_published_on_loopback_and_health_checked() -> None:
    services = compose()["services"]
    assert set(services) == set(EXPECTED_PORTS)
    for name, service in services.items():
        image, _, tag = service["image"].rpartition(":")
        assert image and tag and tag != "latest", f"{name}: pin the image tag ({service['image']})"
        published = {p.split(":")[-2] for p in service["ports"]}
        assert published == EXPECTED_PORTS[name], name
        assert all(p.startswith("127.0.0.1:") for p in service["ports"]), f"{name}: publish on loopback only"
        health = service["healthcheck"]
        assert health["test"][0] in ("CMD", "CMD-SHELL") and len(health["test"]) > 1, name
        assert health["retries"] >= 10 and health["interval"], name


def test_localstack_needs_the_auth_token_from_the_environment_and_can_run_lambdas() -> None:
    localstack = compose()["services"]["localstack"]
    token = localstack["environment"]["LOCALSTACK_AUTH_TOKEN"]
    assert token.startswith("${LOCALSTACK_AUTH_TOKEN:?"), "a missing token must stop compose with a clear error"
    assert "/var/run/docker.sock:/var/run/docker.sock" in localstack["volumes"]
    network = compose()["networks"]["default"]["name"]
    assert localstack["environment"]["LAMBDA_DOCKER_NETWORK"] == network


def test_rabbitmq_has_management_and_kafka_runs_kraft_single_node() -> None:
    services = compose()["services"]
    assert "management" in services["rabbitmq"]["image"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["environment"]["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 1


def test_ci_workflow_composes_up_deploys_and_runs_e2e() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "localstack.yml").read_text())
    steps = workflow["jobs"]["e2e-localstack"]["steps"]
    commands = "\n".join(str(step.get("run", "")) for step in steps)
    assert "docker compose -f docker-compose.localstack.yml up -d --wait" in commands
    assert "infra/up-docker.sh" in commands
    assert "down -v" in commands
    assert workflow["jobs"]["e2e-localstack"]["env"]["LOCALSTACK_AUTH_TOKEN"] == "${{ secrets.LOCALSTACK_AUTH_TOKEN }}"
    script = (ROOT / "infra" / "up-docker.sh").read_text()
    assert "infra/deploy.sh" in script and "tests/e2e" in script

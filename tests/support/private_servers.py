"""Control of the stack's private Redis, Kafka and RabbitMQ (infra/private-servers.sh) and its bridge (infra/bridge.sh).

The fault suite stops and kills servers; it must only ever touch ones that belong to the stack under test. So
before anything is stopped, `PrivateServers.verify_stack_uses_them` proves from CloudFormation and the deployed
functions' environment that the stack talks to these private servers and not to the machine's shared ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import boto3

from infra.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "private-servers.sh"
BRIDGE = ROOT / "infra" / "bridge.sh"


def process_dead(pid: int) -> bool:
    """Gone or a zombie: a killed child that nobody reaped yet counts as dead."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


class PrivateServers:
    def __init__(self, stack_name: str) -> None:
        self.stack_name = stack_name
        self.env = {**os.environ, "STACK_NAME": stack_name}
        self.urls = dict(line.split("=", 1) for line in self._run("env").splitlines() if "=" in line)

    def _run(self, *args: str, script: Path = SCRIPT, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            [str(script), *args], capture_output=True, text=True, check=False, timeout=180, env=env or self.env
        )
        if result.returncode != 0:
            raise RuntimeError(f"{script.name} {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result.stdout

    def verify_stack_uses_them(self) -> None:
        """Raise unless the deployed stack's Redis, Kafka and RabbitMQ are exactly these private servers."""
        stack = Stack(self.stack_name)
        parameters = stack.parameters()
        # RabbitMqUrl is NoEcho: read it where the functions see it.
        resource = stack.physical_id("OutboxPublisherFunction")
        function_env = boto3.client("lambda").get_function_configuration(FunctionName=resource)["Environment"]
        seen = {
            "REDIS_URL": parameters.get("RedisUrl"),
            "KAFKA_BOOTSTRAP_SERVERS": parameters.get("KafkaBootstrapServers"),
            "RABBITMQ_URL": function_env["Variables"].get("RABBITMQ_URL"),
        }
        wrong = {name: value for name, value in seen.items() if value != self.urls[name]}
        if wrong:
            raise RuntimeError(
                f"stack {self.stack_name} does not use the private servers {self.urls}: {wrong}. The fault suite "
                "stops only private servers: deploy the stack against infra/private-servers.sh (test-all.sh does)."
            )

    def stop(self, server: str) -> None:
        self._run("stop", server)

    def kill(self, server: str) -> None:
        self._run("kill", server)

    def start(self, server: str) -> None:
        self._run("start", server)

    # --- the stack's event bridge (started by infra/bridge.sh, pid file under .local/pids) --------------------

    @property
    def bridge_pid_file(self) -> Path:
        return ROOT / ".local" / "pids" / f"bridge-{self.stack_name}.pid"

    def kill_bridge(self) -> None:
        """SIGKILL: the bridge dies mid-batch, without committing or leaving its Kafka group.

        Like an operator after a crash, the stale pid file is removed once the process is gone (or a zombie not
        reaped yet, which `kill -0`, and so bridge.sh, would still report alive).
        """
        if not self.bridge_pid_file.exists():
            raise RuntimeError(f"no bridge pid file {self.bridge_pid_file}: is the stack's bridge running?")
        pid = int(self.bridge_pid_file.read_text())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not process_dead(pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"bridge pid {pid} survived SIGKILL")
            time.sleep(0.05)
        self.bridge_pid_file.unlink()

    def start_bridge(self) -> None:
        """bridge.sh start waits until every consumer is connected; it talks to the private brokers."""
        self._run("start", script=BRIDGE, env={**self.env, **self.urls})

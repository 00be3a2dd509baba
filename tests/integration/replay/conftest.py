"""Real Tansu and RabbitMQ for the DLQ replay tool; no deployed stack needed.

The broker fixtures come from tests/support/servers.py (Kafka started if needed, RabbitMQ required). Every test uses
its own topics, group and queues. Run alone with `pytest --confcutdir tests/integration/replay
tests/integration/replay` when no stack is deployed.
"""

from tests.support import servers

# The shared broker fixtures, for the replay tests (a conftest exposes a fixture by holding it).
kafka_broker = servers.kafka_broker
rabbitmq = servers.rabbitmq

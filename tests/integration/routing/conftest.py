"""Real RabbitMQ for the event topology; no deployed stack needed.

Every test uses its own exchange and queues. Run alone with `pytest --confcutdir tests/integration/routing
tests/integration/routing` when no stack is deployed.
"""

from tests.support import servers

# The shared broker fixture (a conftest exposes a fixture by holding it).
rabbitmq = servers.rabbitmq

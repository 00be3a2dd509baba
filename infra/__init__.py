"""Local-stack tooling that is Python rather than shell (the event-source bridge, Kafka admin)."""

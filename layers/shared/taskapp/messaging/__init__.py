"""Broker clients (Kafka, RabbitMQ), imported lazily so functions that never talk to a broker don't load them."""

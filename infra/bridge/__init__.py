"""Event-source bridge: does locally what AWS's Kafka and RabbitMQ pollers do for the deployed functions.

Neither MiniStack nor LocalStack's free edition runs `SelfManagedKafka` or `MQ` event-source mappings, so this
package reads those events from the SAM template, consumes the brokers, builds the exact AWS event shapes and
invokes the deployed functions through the Lambda Invoke API. See docs/bridge.md.
"""

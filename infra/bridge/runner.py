"""Wire the template's event sources to pollers, run them until SIGTERM/SIGINT, report readiness."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from infra.bridge.aws import LambdaInvoker
from infra.bridge.kafka_poller import KafkaPoller, default_group_id, start_thread
from infra.bridge.log import logger
from infra.bridge.rabbit_poller import RabbitPoller
from infra.bridge.settings import BridgeSettings
from infra.bridge.template import Resolver, TemplateError, event_sources, load_template
from infra.stack import Stack, StackLookupError

READY_TIMEOUT_SECONDS = 120.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.bridge",
        description="Poll Kafka and RabbitMQ for the template's SelfManagedKafka and MQ events and invoke the "
        "deployed functions with AWS-shaped events.",
    )
    parser.add_argument("--stack-name", required=True, help="deployed CloudFormation stack to serve")
    parser.add_argument("--template", default="template.yaml", type=Path, help="SAM template (default: %(default)s)")
    parser.add_argument("--ready-file", type=Path, help="written once every consumer is connected; removed on exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = BridgeSettings.from_env()
    stack = Stack(args.stack_name)
    try:
        sources = event_sources(load_template(args.template), Resolver(stack.parameters_with_pseudo()))
        logical_ids = {s.function_logical_id for s in sources.kafka} | {s.function_logical_id for s in sources.rabbit}
        names = {logical_id: stack.physical_id(logical_id) for logical_id in sorted(logical_ids)}
    except (TemplateError, StackLookupError, OSError) as exc:
        logger.error("cannot start", extra={"error": str(exc)})
        return 1

    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("stop requested", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    invoker = LambdaInvoker()
    pollers: list[KafkaPoller | RabbitPoller] = [
        KafkaPoller(
            s,
            function_name=names[s.function_logical_id],
            group_id=default_group_id(args.stack_name, s),
            settings=settings,
            invoke=invoker,
            stop=stop,
        )
        for s in sources.kafka
    ]
    pollers += [
        RabbitPoller(
            s, queue=queue, function_name=names[s.function_logical_id], settings=settings, invoke=invoker, stop=stop
        )
        for s in sources.rabbit
        for queue in s.queues
    ]
    logger.info(
        "bridge starting",
        extra={
            "stack": args.stack_name,
            "kafka": [f"{s.label}->{names[s.function_logical_id]} {list(s.topics)}" for s in sources.kafka],
            "rabbitmq": [f"{s.label}->{names[s.function_logical_id]} {list(s.queues)}" for s in sources.rabbit],
        },
    )
    threads = [start_thread(poller.run, poller.source.label) for poller in pollers]

    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not stop.is_set() and not all(p.ready.is_set() for p in pollers):
        if time.monotonic() > deadline or not all(t.is_alive() for t in threads):
            logger.error(
                "bridge not ready", extra={"waiting_for": [p.source.label for p in pollers if not p.ready.is_set()]}
            )
            stop.set()
            break
        time.sleep(0.1)
    else:
        if args.ready_file:
            args.ready_file.parent.mkdir(parents=True, exist_ok=True)
            args.ready_file.write_text(f"{time.time()}\n")
        logger.info("bridge ready", extra={"pollers": len(pollers)})

    while not stop.is_set():
        if not all(thread.is_alive() for thread in threads):
            logger.error("a poller thread died; stopping the bridge so it is noticed and restarted")
            stop.set()
        stop.wait(1.0)
    for thread in threads:
        thread.join(timeout=30)
    if args.ready_file:
        args.ready_file.unlink(missing_ok=True)
    logger.info("bridge stopped")
    return 0 if all(not t.is_alive() for t in threads) else 1

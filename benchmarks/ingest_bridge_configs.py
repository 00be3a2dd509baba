"""Same-run comparison of Kafka bridge settings for ingestion: BatchSize x partition concurrency, end to end.

    STACK_NAME=taskapp-x .venv/bin/python -m benchmarks.ingest_bridge_configs --tasks 10000 1000:8 100:1 1000:1 1000:8

For each BATCH:CONCURRENCY it restarts this stack's bridge (infra/bridge.sh) with a copy of template.yaml whose
TaskIngestionFunction BatchSize is BATCH and with BRIDGE_KAFKA_PARTITION_CONCURRENCY=CONCURRENCY, then times
`--tasks` records produced to task.ingested until all are stored (benchmarks/events_pipeline.measure_ingestion).
The deployed function is the same for every setting. `100:1` is the bridge as it was before partition
concurrency (one mixed-partition invoke of at most 100 records at a time). Prints one JSON line per setting;
settings alternate in the order given, so give each twice to see the machine's noise. Leaves the bridge running
with the last setting: restart it with `infra/bridge.sh stop && infra/bridge.sh start` afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.events_pipeline import measure_ingestion

ROOT = Path(__file__).resolve().parents[1]
BATCH_SIZE = re.compile(r'(ConsumerGroupId: !Sub "\$\{AWS::StackName\}-ingestion"\s+BatchSize: )\d+')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--settle-seconds", type=float, default=20, help="pause between settings")
    parser.add_argument("settings", nargs="+", help="BATCH:CONCURRENCY, e.g. 1000:8")
    args = parser.parse_args()
    stack = os.environ.get("STACK_NAME", "taskapp")
    template = (ROOT / "template.yaml").read_text()
    with tempfile.TemporaryDirectory() as scratch:
        for setting in args.settings:
            batch, concurrency = (int(part) for part in setting.split(":"))
            path = Path(scratch) / f"template-{batch}.yaml"
            path.write_text(BATCH_SIZE.sub(rf"\g<1>{batch}", template))
            env = dict(os.environ, TEMPLATE=str(path), BRIDGE_KAFKA_PARTITION_CONCURRENCY=str(concurrency))
            bridge = str(ROOT / "infra" / "bridge.sh")
            subprocess.run([bridge, "stop"], env=env, check=True, capture_output=True)  # noqa: S603 - our script
            subprocess.run([bridge, "start"], env=env, check=True, capture_output=True)  # noqa: S603 - our script
            time.sleep(3)
            load_before = os.getloadavg()[0]
            result = measure_ingestion(stack, args.tasks, 900)
            result.update(
                batch_size=batch,
                partition_concurrency=concurrency,
                load_1m_before=round(load_before, 2),
                load_1m_after=round(os.getloadavg()[0], 2),
            )
            print(json.dumps(result), flush=True)
            time.sleep(args.settle_seconds)  # let the stored tasks' notifications drain before the next setting
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

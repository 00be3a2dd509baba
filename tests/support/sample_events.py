"""Load the sample events under events/ and fill their `{{PLACEHOLDER}}`s (tokens cannot be pre-signed).

Also a tiny CLI for on-call engineers, printing a filled event ready for `aws lambda invoke --payload`:

    python -m tests.support.sample_events authorizer/allow ACCESS_TOKEN=eyJ... > /tmp/event.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from tests.support.lambda_events import ROOT

EVENTS_DIR = ROOT / "events"
PLACEHOLDER = re.compile(r"\{\{([A-Z][A-Z0-9_]*)\}\}")


def event_path(name: str) -> Path:
    return EVENTS_DIR / f"{name}.json"


def all_event_names() -> list[str]:
    """Every sample event as `function/case`, sorted."""
    return sorted(path.relative_to(EVENTS_DIR).with_suffix("").as_posix() for path in EVENTS_DIR.glob("*/*.json"))


def placeholders_in(name: str) -> set[str]:
    return set(PLACEHOLDER.findall(event_path(name).read_text()))


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], value)
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    return value


def load_event(name: str, **values: str) -> dict[str, Any]:
    """The event `events/<name>.json` with every placeholder filled; a missing or unused value is an error.

    Values are substituted after JSON parsing, so they never need JSON escaping (a placeholder inside an
    API event's string body is filled like any other string).
    """
    wanted = placeholders_in(name)
    missing, unused = wanted - values.keys(), values.keys() - wanted
    if missing or unused:
        raise KeyError(f"{name}: missing values for {sorted(missing)}, unused values {sorted(unused)}")
    event: dict[str, Any] = json.loads(event_path(name).read_text())
    return _fill(event, values)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        print("events:", *all_event_names(), sep="\n  ")
        return 0 if argv else 2
    name, assignments = argv[0], argv[1:]
    values = dict(assignment.split("=", 1) for assignment in assignments)
    print(json.dumps(load_event(name, **values), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

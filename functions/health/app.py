"""GET /health (no auth): each dependency's status and latency; 503 when any is down."""

# First of all: pauses the garbage collector while the modules below load; lambda_handler() resumes it.
from taskapp import coldstart  # noqa: F401

# isort: split
from http import HTTPStatus

from aws_lambda_powertools.event_handler import Response

from taskapp.api import build_api, lambda_handler, respond
from taskapp.domain.health import check_health
from taskapp.schemas.health import HealthOut

app = build_api(authenticated=False)


@app.get("/health")
def health() -> Response[HealthOut]:
    report = check_health()
    status = HTTPStatus.OK if report.status == "ok" else HTTPStatus.SERVICE_UNAVAILABLE
    return respond(status, report, headers={"Cache-Control": "no-store"})


handler = lambda_handler(app)

"""JSON-lines logging for the bridge (Powertools' structured logger, used here outside Lambda)."""

from __future__ import annotations

import os
import sys

from aws_lambda_powertools import Logger

logger = Logger(service="event-bridge", level=os.environ.get("BRIDGE_LOG_LEVEL", "INFO"), stream=sys.stdout)

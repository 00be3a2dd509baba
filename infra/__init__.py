"""Local-stack tooling that is Python rather than shell (the event-source bridge, Kafka admin).

The shared layer's source folder goes on sys.path here, as Lambda puts a layer on /opt/python: the tools import
the contracts they share with the functions (`taskapp.messaging.dead_letter`) instead of keeping copies.
"""

import sys
from pathlib import Path

_SHARED_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "shared")
if _SHARED_LAYER not in sys.path:
    sys.path.append(_SHARED_LAYER)

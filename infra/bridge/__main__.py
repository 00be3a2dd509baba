"""`python -m infra.bridge --stack-name NAME [--template template.yaml]`: run the bridge in the foreground."""

import sys

from infra.bridge.runner import main

sys.exit(main())

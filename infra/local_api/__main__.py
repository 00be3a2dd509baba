import sys

from infra.local_api.server import main

sys.exit(main())

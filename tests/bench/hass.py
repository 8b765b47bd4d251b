"""Start Home Assistant for the benchmark: the real core, HTTP server and webhook path.

The default integrations Home Assistant adds to every installation (frontend,
cloud, backup, assist...) need packages the test environment does not have, and
none of them is on the webhook's path, so they are left out instead of sending
Home Assistant into recovery mode. Run as a script from the configuration
directory, so that `custom_components` is the configuration's, not this repository's.
"""

import sys

from homeassistant import bootstrap
from homeassistant.__main__ import main

KEPT = {"logger", "network", "system_log"}

bootstrap.DEFAULT_INTEGRATIONS.intersection_update(KEPT)
bootstrap.CRITICAL_INTEGRATIONS.clear()

if __name__ == "__main__":
    sys.exit(main())
